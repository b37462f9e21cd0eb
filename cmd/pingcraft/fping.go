package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pingcraft/pingcraft/ping"
	"github.com/pingcraft/pingcraft/report"
	"github.com/pingcraft/pingcraft/resolve"
)

// fping's exit codes.
const (
	fpingAllAlive    = 0
	fpingSomeDown    = 1
	fpingNameUnknown = 2
	fpingSysError    = 4
)

// maxTargets bounds a target list read from a file.
const maxTargets = 1 << 20

// fpingUsageExit is fping's exit status for a command line it refuses.
const fpingUsageExit = 1

// fpingHelp is fping's help beyond its usage line.
const fpingHelp = `Options, lines and exit codes follow fping 5.1 (fping -h lists them):
0 all answered, 1 some did not or the command line was refused, 2 a name
was not found, 4 a system error.`

func fpingFlags() []cli.Flag {
	b := func(name, alias, usage string) cli.Flag {
		f := &cli.BoolFlag{Name: name, Usage: usage}
		if alias != "" {
			f.Aliases = []string{alias}
		}
		return f
	}
	v := func(name, alias, usage string) cli.Flag {
		f := &cli.StringFlag{Name: name, Usage: usage}
		if alias != "" {
			f.Aliases = []string{alias}
		}
		return f
	}
	return []cli.Flag{
		b("ipv4", "4", "only ping IPv4 addresses"), b("ipv6", "6", "only ping IPv6 addresses"),
		b("alive", "a", "show targets that are alive"), b("addr", "A", "show targets by address"),
		v("size", "b", "`BYTES` of ping data (56)"), v("backoff", "B", "exponential backoff factor `N` (1.5)"),
		v("count", "c", "count mode: send `N` pings to each target"), v("vcount", "C", "as -c, report every probe's time"),
		b("rdns", "d", "show targets by name (force reverse-DNS lookup)"), b("timestamp", "D", "print a timestamp before each per-probe line"),
		b("elapsed", "e", "show elapsed time on return packets"), v("file", "f", "read targets from `FILE` ('-': standard input)"),
		b("generate", "g", "targets from CIDR or START END"), &cli.BoolFlag{Name: "fping-help", Hidden: true},
		v("ttl", "H", "IP time to live `N`"), v("interval", "i", "`MSEC` between any two probes (10)"),
		v("iface", "I", "bind to `IFACE`"), b("loop", "l", "loop mode: send pings forever"),
		b("all", "m", "use all addresses of the names given"), b("dontfrag", "M", "set the Don't Fragment flag"),
		b("name", "n", "show targets by name (reverse lookup of addresses)"), b("netdata", "N", "output for netdata (with -l and -Q)"),
		b("outage", "o", "show the accumulated outage time"), v("tos", "O", "type of service `N`"),
		v("period", "p", "`MSEC` between two probes to one target (1000)"), b("quiet", "q", "no per-probe lines"),
		v("squiet", "Q", "as -q, with a summary every `SECS`"), v("retry", "r", "`N` retries (3)"),
		b("random", "R", "random packet data"), b("stats", "s", "print final stats"),
		v("src", "S", "source `ADDRESS`"), v("source", "", "as --src"),
		v("timeout", "t", "`MSEC` to wait for the first reply (500)"), v("T", "", "ignored, as fping does"),
		b("unreach", "u", "show targets that are unreachable"), b("version", "v", "show version"),
		v("reachable", "x", "tell whether at least `N` hosts are reachable"),
		v("fast-reachable", "X", "as -x, ending the run once `N` hosts answered"),
		v("fwmark", "k", "set the routing mark `FWMARK` (SO_MARK)"),
		v("timestamp-format", "", "-D's time: ctime, iso or rfc3339"),
		b("print-ttl", "", "show the TTL of replies"),
		v("mode", "", "auto, ethernet, ip, raw or dgram"),
		v("rate", "", "at most `N` probes a second over all targets"),
		b("json", "", "one JSON object per event, then a summary object per target"),
	}
}

// fpingOwnHelp renames -h and --help, which urfave/cli would answer with
// its own help page, to the flag that prints fping's usage.
func fpingOwnHelp(opts []string) []string {
	for i, o := range opts {
		switch o {
		case "--":
			return opts
		case "-h", "-help":
			opts[i] = "-fping-help"
		}
	}
	return opts
}

// runFping runs the fping personality, with fping's exit codes.
func runFping(c *cli.Context) error {
	err := fping(c)
	var exit cli.ExitCoder
	var w worded
	switch {
	case err == nil || errors.Is(err, fpingDone{}) || errors.As(err, &w):
		if errors.Is(err, fpingDone{}) {
			return nil
		}
		return err
	case errors.As(err, &exit):
		return err
	}
	code := fpingSysError
	var u usageError
	if errors.As(err, &u) {
		code = fpingUsageExit
	}
	return worded{prog(c) + ": " + oneLine(err.Error()), code}
}

// fpingTargets gathers the targets as fping does: the arguments, a file,
// a generated range, or standard input when none of them is given.
func fpingTargets(c *cli.Context, o *fpingOptions, prog string) ([]string, error) {
	args := c.Args().Slice()
	usage := worded{strings.TrimSuffix(fpingUsage(prog), "\n"), fpingUsageExit}
	if len(args) > 0 && o.fileSet || o.fileSet && o.generate || o.generate && len(args) == 0 {
		return nil, usage
	}
	if o.generate {
		// fping 5.1 reads -g's addresses whatever -4 or -6 say; a
		// generated address of the wrong family fails as a name would.
		return fpingGenerate(args, prog)
	}
	if len(args) > 0 {
		return args, nil
	}
	file := "-"
	if o.fileSet {
		file = o.file
	}
	r := io.Reader(os.Stdin)
	if file != "-" {
		fh, err := os.Open(file)
		if err != nil {
			return nil, worded{fmt.Sprintf("%s: fopen : %s", prog, strerror(err)), fpingSysError}
		}
		defer fh.Close()
		r = fh
	}
	names, err := resolve.ReadTargets(r, maxTargets)
	if err != nil {
		return nil, worded{fmt.Sprintf("%s: %s: %v", prog, file, err), fpingSysError}
	}
	return names, nil
}

// strerror is the C library's text of err's errno, else err's own.
func strerror(err error) string {
	if t := resolve.SystemText(err); t != "" {
		return t
	}
	return err.Error()
}

// fpingGenerate expands -g CIDR or -g START END as fping does: IPv4 only,
// network and broadcast addresses left out of prefixes shorter than /31.
func fpingGenerate(args []string, prog string) ([]string, error) {
	parse := func(s, sep string) (netip.Addr, error) {
		a, err := netip.ParseAddr(s)
		switch {
		case err != nil:
			return a, worded{fmt.Sprintf("%s%s can't parse address %s: Name or service not known", prog, sep, s), 1}
		case !a.Is4():
			return a, worded{prog + ": -g works only with IPv4 addresses", 1}
		}
		return a, nil
	}
	var first, last uint32
	switch len(args) {
	case 1:
		addr, bits, ok := strings.Cut(args[0], "/")
		if !ok {
			return nil, worded{strings.TrimSuffix(fpingUsage(prog), "\n"), fpingUsageExit}
		}
		a, err := parse(addr, ",")
		if err != nil {
			return nil, err
		}
		mask := atoi(bits)
		if mask < 1 || mask > 32 {
			return nil, worded{fmt.Sprintf("%s: netmask must be between 1 and 32 (is: %s)", prog, bits), 1}
		}
		b := a.As4()
		n := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		size := uint64(1) << (32 - mask)
		first = n &^ uint32(size-1)
		last = uint32(uint64(first) + size - 1)
		if mask < 31 {
			first++
			last--
		}
	case 2:
		a, err := parse(args[0], ":")
		if err != nil {
			return nil, err
		}
		z, err := parse(args[1], ":")
		if err != nil {
			return nil, err
		}
		b, e := a.As4(), z.As4()
		first = uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		last = uint32(e[0])<<24 | uint32(e[1])<<16 | uint32(e[2])<<8 | uint32(e[3])
	default:
		return nil, worded{strings.TrimSuffix(fpingUsage(prog), "\n"), fpingUsageExit}
	}
	if uint64(last) > uint64(first)+fpingMaxGenerate {
		return nil, worded{prog + ": -g parameter generates too many addresses", 1}
	}
	var names []string
	for n := uint64(first); n <= uint64(last); n++ {
		names = append(names, netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}).String())
	}
	return names, nil
}

// fpingHost is one of fping's hosts: a target address and the name its
// lines give it.
type fpingHost struct {
	target string // what the Fleet resolves: the name as given, or an address
	shown  string // fping's h->host
	chart  string // fping's h->name: the name as given, for -N's charts
}

func fping(c *cli.Context) error {
	pr := prog(c)
	stdout, stderr := c.App.Writer, c.App.ErrWriter
	opts, _ := c.App.Metadata["opts"].([]string)
	o, err := parseFping(pr, opts, func(s string) {
		io.WriteString(stdout, s)
		if pr == "fping" && c.App.Metadata["subcommand"] == true && strings.HasPrefix(s, "Usage:") {
			io.WriteString(stdout, fpingExtraUsage)
		}
	}, func(s string) { io.WriteString(stderr, s) })
	if err != nil {
		return err
	}
	mode, err := ping.ParseMode(o.mode)
	if err != nil {
		return worded{pr + ": " + err.Error(), fpingUsageExit}
	}
	names, err := fpingTargets(c, o, pr)
	if err != nil {
		return err
	}
	cfg := fpingConfig(o)
	if o.random {
		cfg.Pattern = make([]byte, max(int(o.size), 1))
		if _, err := rand.Read(cfg.Pattern); err != nil {
			return err
		}
	}
	// Warnings (names that do not resolve) are fping's print_warning: not
	// with -q or -Q.
	warn := func(format string, a ...any) {
		if !o.quiet {
			fmt.Fprintf(stderr, format, a...)
		}
	}
	hosts, unknown := fpingHosts(c.Context, names, o, warn)
	if len(hosts) == 0 {
		if c.Context.Err() != nil {
			return nil
		}
		if unknown > 0 {
			return cli.Exit("", fpingNameUnknown)
		}
		return cli.Exit("", fpingSomeDown)
	}
	if o.source.IsValid() {
		// As fping binds its socket to -S: an address not ours is refused.
		bound, err := net.ListenPacket("udp", netip.AddrPortFrom(o.source, 0).String())
		if err != nil {
			return worded{fmt.Sprintf("%s: cannot bind source address : %s", pr, strerror(err)), fpingSysError}
		}
		bound.Close()
	}
	path := resolve.Options{Interface: o.iface, Family: o.family, Source: o.source}
	targets := make([]string, len(hosts))
	for i, h := range hosts {
		targets[i] = h.target
	}
	fl, err := ping.NewFleet(c.Context, targets, cfg, &ping.FleetConfig{Mode: mode, Path: path})
	switch {
	case c.Context.Err() != nil:
		return nil
	case errors.Is(err, ping.ErrRefused):
		return worded{pr + ": " + oneLine(err.Error()), fpingUsageExit}
	case err != nil:
		return err
	}
	defer fl.Close()
	members := fl.Members()
	var probed []fpingProbed
	for i, m := range memberIndexes(fl) {
		probed = append(probed, fpingProbed{fl.Targets()[i], m})
	}
	// fping's -S sets the source of its family only: a target of the other
	// goes without one.
	var again []int
	for i, m := range members {
		if o.source.IsValid() && o.family == 0 && errors.Is(m.Err, resolve.ErrNoAddress) {
			again = append(again, i)
		}
	}
	if len(again) > 0 {
		names := make([]string, len(again))
		for j, i := range again {
			names[j] = targets[i]
		}
		free := path
		free.Source = netip.Addr{}
		fl2, err := ping.NewFleet(c.Context, names, cfg, &ping.FleetConfig{Mode: mode, Path: free})
		switch {
		case c.Context.Err() != nil:
			return nil
		case err != nil:
			return err
		}
		defer fl2.Close()
		members = slices.Clone(members)
		for j, m := range fl2.Members() {
			members[again[j]].Err = m.Err
		}
		for i, m := range memberIndexes(fl2) {
			probed = append(probed, fpingProbed{fl2.Targets()[i], again[m]})
		}
		// Probed in the order given, as fping does.
		slices.SortStableFunc(probed, func(a, b fpingProbed) int { return a.member - b.member })
	}
	// A name that does not resolve is no host of fping's; one without a
	// route is, whose every probe fails to leave.
	var kept []fpingHost
	var unsent []error
	hostOf := make([]int, len(hosts)) // member -> host, -1 for none
	for i, m := range members {
		hostOf[i] = -1
		switch {
		case errors.Is(m.Err, resolve.ErrNameTemporary):
			unknown++
			warn("%s: Temporary failure in name resolution\n", m.Name)
		case errors.Is(m.Err, resolve.ErrNoName):
			unknown++
			warn("%s: Name or service not known\n", m.Name)
		case errors.Is(m.Err, resolve.ErrNoAddress) && o.family != 0:
			unknown++
			warn("%s: Address family for hostname not supported\n", m.Name)
		default:
			hostOf[i] = len(kept)
			kept = append(kept, hosts[i])
			unsent = append(unsent, m.Err)
		}
	}
	if len(kept) == 0 {
		if unknown > 0 {
			return cli.Exit("", fpingNameUnknown)
		}
		return cli.Exit("", fpingSomeDown)
	}
	if err := dropCapabilities(); err != nil {
		return err
	}
	// Resolving thousands of targets leaves megabytes of netlink garbage
	// behind; give it back before a run that may last for hours.
	debug.FreeOSMemory()

	shown := make([]string, len(kept))
	var charts []string // -N's chart names, kept only for -N: a string a host
	if o.netdata {
		charts = make([]string, len(kept))
	}
	for i, h := range kept {
		shown[i] = h.shown
		if charts != nil {
			charts[i] = h.chart
		}
	}
	nKept := len(kept)
	// Slow outputs never stall the engine.
	w, errw := report.NewAsyncWriter(stdout), report.NewAsyncWriter(stderr)
	defer errw.Close()
	defer w.Close()
	ctx, stop := context.WithCancel(c.Context)
	defer stop()
	fp := &report.Fping{W: w, Err: errw, Names: shown, Charts: charts, Count: o.count > 0, Columns: o.columns, Loop: o.loop,
		Quiet: o.quiet, Alive: o.alive, Unreachable: o.unreach, Elapsed: o.elapsed, Squiet: o.squiet, Stats: o.stats,
		Timestamp: o.timestamp, TimestampFormat: o.tsFormat, Outage: o.outage, Period: o.period, Netdata: o.netdata, PrintTTL: o.printTTL,
		Timeout: max(o.timeout, time.Nanosecond), Backoff: o.backoff,
		MinReachable: o.minReachable, Unknown: unknown}
	if o.fastReachable {
		fp.OnAlive = func(alive int) {
			if alive >= o.minReachable {
				stop()
			}
		}
	}
	js := &report.JSON{W: w, Names: shown}
	onEvent := fp.Event
	if o.json {
		// fping's counts still decide the exit code; its lines go nowhere.
		fp.W, fp.Err = nil, io.Discard
		onEvent = func(ev *ping.Event) {
			js.Event(ev)
			fp.Event(ev)
		}
	}
	start := time.Now()
	// Hosts without a route: each probe fails as fping's sendto does.
	for h, err := range unsent {
		if err == nil {
			continue
		}
		for seq := 1; seq <= max(o.count, 1); seq++ {
			fp.Event(&ping.Event{Kind: ping.EventSendError, Target: h, Seq: uint16(seq), At: start, Err: fpingSendError(err)})
		}
	}
	// fping probes a host given twice (or two names of one address) twice;
	// the engine tells replies apart by address, so each address is probed
	// once and its events go to every host that has it.
	uniq := make([]ping.Target, 0, len(probed))
	var fan fpingFan
	seen := make(map[netip.Addr]int, len(probed))
	for _, p := range probed {
		t, h := p.target, hostOf[p.member]
		if j, ok := seen[t.Path.Target]; ok {
			fan.add(j, h)
			continue
		}
		seen[t.Path.Target] = len(uniq)
		uniq = append(uniq, t)
		fan.add(len(uniq)-1, h)
	}
	var runErr error
	var eng *ping.Engine
	if len(uniq) > 0 {
		// The engine calls back with its lock held, one event at a time:
		// one Event of our own carries each to its hosts, where a copy
		// per event would be an allocation per event (its address goes to
		// onEvent).
		var fanned ping.Event
		eng, err = ping.New(cfg, uniq, func(ev *ping.Event) {
			if ev.Target < 0 {
				onEvent(ev)
				return
			}
			fanned = *ev
			fanned.Target = fan.first[ev.Target]
			onEvent(&fanned)
			for _, h := range fan.more[ev.Target] {
				fanned = *ev
				fanned.Target = h
				onEvent(&fanned)
			}
		})
		if err != nil {
			return err
		}
		// fping's -Q intervals count from just before its first probe, a
		// few milliseconds into the process; so do ours, less the
		// milliseconds our own start takes beyond fping's (never before
		// the process began), so that a summary due on the second of the
		// process's life comes when fping's would.
		began := time.Now().Add(-fpingStartLag)
		if ps := processStarted(); ps.After(began) {
			began = ps
		}
		stopSplits := fpingSplits(o, fp, began)
		runErr = eng.Run(ctx)
		stopSplits()
	}
	elapsed := time.Since(start)
	if o.json {
		for j, t := range uniq {
			st := eng.Stats(j)
			drops, _ := t.Conn.Drops()
			js.Summary(fan.first[j], t.Path.Target, &st, elapsed, drops)
			for _, h := range fan.more[j] {
				js.Summary(h, t.Path.Target, &st, elapsed, drops)
			}
		}
	} else {
		fp.Summary(elapsed)
		conns := map[ping.Conn]bool{}
		var dropped uint64
		for _, t := range uniq {
			if !conns[t.Conn] {
				conns[t.Conn] = true
				n, _ := t.Conn.Drops()
				dropped += n
			}
		}
		if dropped > 0 {
			fmt.Fprintf(errw, "%d frames dropped by the receive ring: losses above may be ours, not the network's\n", dropped)
		}
	}
	alive := fp.AliveCount()
	switch {
	case runErr != nil && c.Context.Err() == nil && ctx.Err() == nil:
		return runErr
	case o.minReachable != 0 && uint(alive) >= uint(o.minReachable):
		return nil
	case o.minReachable != 0:
		return cli.Exit("", fpingSomeDown)
	case unknown > 0:
		return cli.Exit("", fpingNameUnknown)
	case alive < nKept:
		return cli.Exit("", fpingSomeDown)
	}
	return nil
}

// fpingStartLag bounds how much longer than fping's our start takes (the
// Go runtime, netlink, sockets: 20 to 40 ms), when nothing (a ring, a
// slow resolver) holds it up further.
const fpingStartLag = 50 * time.Millisecond

// fpingFan maps each probed address to the hosts that have it: its first
// host, and the others of an address given twice (rare), apart, so that a
// run over a million addresses keeps one int a target, not a slice.
type fpingFan struct {
	first []int
	more  map[int][]int
}

// add gives probed address j host h too.
func (f *fpingFan) add(j, h int) {
	if j == len(f.first) {
		f.first = append(f.first, h)
		return
	}
	if f.more == nil {
		f.more = map[int][]int{}
	}
	f.more[j] = append(f.more[j], h)
}

// fpingProbed is a target the engine probes and the Fleet member it is.
type fpingProbed struct {
	target ping.Target
	member int
}

// memberIndexes maps the engine's targets to the Fleet's members.
func memberIndexes(fl *ping.Fleet) []int {
	members := fl.Members()
	index := make(map[*ping.Member]int, len(members))
	for j := range members {
		index[&members[j]] = j
	}
	out := make([]int, len(fl.Targets()))
	for i := range out {
		out[i] = index[fl.MemberOf(i)]
	}
	return out
}

// fpingSendError is the error a probe to a host without a route fails
// with, as the kernel's sendto would.
func fpingSendError(err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return syscall.EHOSTUNREACH
}

// fpingSplits prints -Q's interval summaries while the run lasts (fping
// prints them with -l and -c only), and one on each SIGQUIT.
func fpingSplits(o *fpingOptions, fp *report.Fping, began time.Time) (stop func()) {
	stopQuit := statusOnQuit(fp.Split)
	if o.squiet <= 0 || !o.loop && o.count == 0 {
		return stopQuit
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		next := began.Add(o.squiet)
		for {
			t := time.NewTimer(time.Until(next))
			select {
			case <-t.C:
				fp.Interval()
				for !next.After(time.Now()) {
					next = next.Add(o.squiet)
				}
			case <-done:
				t.Stop()
				return
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
		stopQuit()
	}
}

// fpingConfig turns fping's options into the engine's.
func fpingConfig(o *fpingOptions) *ping.Config {
	cfg := &ping.Config{Size: int(o.size), Backoff: o.backoff, Rate: o.rate, Gap: o.interval,
		// The engine sizes its buffers by the probes a period can have in
		// flight: below a millisecond, a period is one.
		Interval: max(o.period, time.Millisecond),
		// A zero timeout is fping's "every reply comes too late".
		Timeout: max(o.timeout, time.Nanosecond)}
	switch {
	case o.loop:
	case o.count > 0:
		cfg.Count = o.count
	default:
		cfg.UntilReply = true
		cfg.Retries = fpingRetries(o)
	}
	if o.ttl > 0 {
		cfg.TTL = uint8(o.ttl)
	}
	cfg.Mark = o.fwmark
	if o.tosSet {
		cfg.TOS = uint8(o.tos)
	}
	if o.dontfrag {
		cfg.PMTUDisc = ping.PMTUDiscDo
	}
	return cfg
}

// fpingRetries is -r, bounded so that the last retry's backed-off timeout
// stays below a day: fping reads -r -1 as four billion retries.
func fpingRetries(o *fpingOptions) int {
	r := int(min(o.retry, 1<<16))
	wait := float64(o.timeout)
	for n := 0; n < r; n++ {
		wait *= o.backoff
		if wait > float64(24*time.Hour) {
			return n
		}
	}
	return r
}
