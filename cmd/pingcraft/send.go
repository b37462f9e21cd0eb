package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/ping"
	"github.com/pingcraft/pingcraft/report"
	"github.com/pingcraft/pingcraft/resolve"
)

// sendHelp is send's help beyond its usage line.
const sendHelp = `Flags follow iputils ping. The probe leaves as an Ethernet frame (--mode
ethernet), an IP packet (ip), through a raw socket (raw) or the ping socket
(dgram); auto picks the deepest the link and your privileges allow.
Exit status: 0 a reply came, 1 none did, 2 an error. For many targets,
use 'pingcraft fping'.`

// sendFlags are iputils ping's options (20221126, Linux) and pingcraft's
// long ones. Values iputils reads with its own parsers are strings here,
// read by pingArgs so that a refused value reads as iputils words it.
func sendFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "iface", Aliases: []string{"I"}, Usage: "egress `INTERFACE`, or source ADDRESS, as ping -I"},
		&cli.StringFlag{Name: "source", Usage: "source `ADDRESS`"},
		&cli.BoolFlag{Name: "4", Usage: "IPv4 only"},
		&cli.BoolFlag{Name: "6", Usage: "IPv6 only"},
		&cli.StringFlag{Name: "count", Aliases: []string{"c"}, Usage: "stop after `N` probes"},
		&cli.StringFlag{Name: "interval", Aliases: []string{"i"}, Usage: "`SECONDS` between probes, 1 by default (below 0.002 needs CAP_NET_RAW)"},
		&cli.StringFlag{Name: "timeout", Aliases: []string{"W"}, Usage: "`SECONDS` to wait for each reply, 10 by default"},
		&cli.StringFlag{Name: "deadline", Aliases: []string{"w"}, Usage: "stop after `SECONDS` (a whole number) whatever else"},
		&cli.StringFlag{Name: "size", Aliases: []string{"s"}, Usage: "`BYTES` of echo data, 56 by default"},
		&cli.StringFlag{Name: "ttl", Aliases: []string{"t"}, Usage: "IP time to live / hop limit"},
		&cli.StringFlag{Name: "tos", Aliases: []string{"Q"}, Usage: "IP type of service / traffic class, decimal or 0x hex"},
		&cli.StringFlag{Name: "pmtudisc", Aliases: []string{"M"}, Usage: "path MTU discovery: `want` (DF when the probe fits the path MTU), do (always DF) or dont"},
		&cli.StringFlag{Name: "pattern", Aliases: []string{"p"}, Usage: "fill data with `HEX` (up to 16 bytes)"},
		&cli.BoolFlag{Name: "broadcast", Aliases: []string{"b"}, Usage: "allow a broadcast TARGET"},
		&cli.BoolFlag{Name: "flood", Aliases: []string{"f"}, Usage: "flood: next probe as soon as a reply comes, at least 100 a second"},
		&cli.BoolFlag{Name: "adaptive", Aliases: []string{"A"}, Usage: "adaptive: next probe as soon as a reply comes, at most one an interval apart"},
		&cli.StringFlag{Name: "preload", Aliases: []string{"l"}, Usage: "send `N` probes at once, then keep N in flight in flood mode"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print the summary only"},
		&cli.BoolFlag{Name: "D", Usage: "print a unix timestamp before each line"},
		&cli.BoolFlag{Name: "O", Usage: "report a probe without reply when the next one goes"},
		&cli.BoolFlag{Name: "a", Usage: "audible: ring the bell on every reply"},
		&cli.BoolFlag{Name: "n", Usage: "numeric output: never name reply addresses"},
		&cli.BoolFlag{Name: "U", Usage: "accepted for iputils; replies keep the mode's clocks (-v says which)"},
		&cli.BoolFlag{Name: "B", Usage: "sticky source: bind to the source the route gives"},
		&cli.BoolFlag{Name: "r", Usage: "bypass routing: only hosts on an attached network (SO_DONTROUTE)"},
		&cli.BoolFlag{Name: "d", Usage: "set SO_DEBUG on the socket"},
		&cli.BoolFlag{Name: "C", Usage: "accepted for iputils; pingcraft's sockets are never connected"},
		&cli.BoolFlag{Name: "L", Usage: "suppress loopback of multicast probes"},
		&cli.StringFlag{Name: "mark", Aliases: []string{"m"}, Usage: "tag outgoing probes with `MARK` (SO_MARK)"},
		&cli.StringFlag{Name: "sndbuf", Aliases: []string{"S"}, Usage: "`BYTES` of socket send buffer (SO_SNDBUF)"},
		&cli.StringFlag{Name: "id", Aliases: []string{"e"}, Usage: "ICMP identifier `ID` (ping sockets ignore it)"},
		&cli.StringFlag{Name: "flowlabel", Aliases: []string{"F"}, Usage: "IPv6 flow `LABEL`, decimal or 0x hex (modes ethernet and ip)"},
		&cli.BoolFlag{Name: "R", Usage: "record route (IPv4; a raw socket)"},
		&cli.StringFlag{Name: "T", Usage: "IPv4 timestamp option: `tsonly`, tsandaddr or tsprespec (then up to 4 ADDRESSes before TARGET)"},
		&cli.StringFlag{Name: "N", Usage: "ICMPv6 node information query: not supported"},
		&cli.BoolFlag{Name: "V", Usage: "print the version and exit"},
		&cli.StringFlag{Name: "mode", Value: "auto", Usage: "auto, ethernet, ip, raw or dgram"},
		&cli.BoolFlag{Name: "json", Usage: "one JSON object per event, then a summary object"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "show the path, transport and timestamp source first"},
		&cli.BoolFlag{Name: "bad-checksum", Usage: "send the classic header-only ICMP checksum (no reply should come)"},
		&cli.BoolFlag{Name: "dry-run", Usage: "print the probe decoded and in hex, send nothing"},
	}, frameFlags()...)
}

// sendConfig reads send's options into a run's Config, checking them as
// iputils does and refusing them in its words.
func sendConfig(c *cli.Context, a *pingArgs) (*ping.Config, error) {
	cfg := &ping.Config{Size: ping.DefaultSize, Flood: c.Bool("flood"), Broadcast: c.Bool("broadcast"), Oversize: true}
	family, ttlZero := 0, false
	// In the order given, as iputils reads them: the first bad value is
	// the one refused, after the warnings of those before it.
	for _, name := range optionOrder(c) {
		switch name {
		case "4", "6":
			f := int(name[0] - '0')
			if family != 0 && family != f {
				return nil, a.fatal("only one -4 or -6 option may be specified")
			}
			family = f
		case "R":
			if cfg.IPOption != ping.IPOptionNone && cfg.IPOption != ping.IPOptionRecordRoute {
				return nil, a.fatal("only one of -T or -R may be used")
			}
			cfg.IPOption = ping.IPOptionRecordRoute
		case "T":
			if cfg.IPOption == ping.IPOptionRecordRoute {
				return nil, a.fatal("only one of -T or -R may be used")
			}
			switch t := c.String("T"); t {
			case "tsonly":
				cfg.IPOption = ping.IPOptionTimestamp
			case "tsandaddr":
				cfg.IPOption = ping.IPOptionTimestampAddr
			case "tsprespec":
				cfg.IPOption = ping.IPOptionTimestampPrespec
			default:
				return nil, a.fatal("invalid timestamp type: %s", t)
			}
		case "flowlabel":
			v, err := a.flow(c.String("flowlabel"))
			if err != nil {
				return nil, err
			}
			cfg.FlowLabel = v
		case "N":
			return nil, a.fatal("-N %s: ICMPv6 node information queries are not supported by pingcraft", c.String("N"))
		case "count":
			v, err := a.integer(c.String("count"), 1, math.MaxInt64)
			if err != nil {
				return nil, err
			}
			cfg.Count = int(v)
		case "interval":
			v, err := a.float(c.String("interval"), "bad timing interval")
			if err != nil {
				return nil, err
			}
			if v > math.MaxInt32/1000 {
				return nil, a.fatal("bad timing interval: %s", c.String("interval"))
			}
			// iputils keeps whole milliseconds; 0 (or less) is its flood
			// without the dots: the next probe when the reply comes, 100 a
			// second at least.
			ms := int64(v * 1000)
			cfg.Interval = time.Duration(max(ms, 0)) * time.Millisecond
			if ms <= 0 {
				cfg.Flood = true
			}
		case "preload":
			v, err := a.integer(c.String("preload"), 1, 65536)
			if err != nil {
				return nil, err
			}
			if os.Getuid() != 0 && v > 3 {
				return nil, a.fatal("cannot set preload to value greater than 3: %d", v)
			}
			cfg.Preload = int(v)
		case "mark":
			v, err := a.integer(c.String("mark"), 0, math.MaxUint32)
			if err != nil {
				return nil, err
			}
			cfg.Mark = uint32(v)
		case "pmtudisc":
			s := c.String("pmtudisc")
			d, err := ping.ParsePMTUDisc(s)
			if err != nil {
				return nil, a.fatal("%v", err)
			}
			cfg.PMTUDisc = d
		case "pattern":
			p, err := a.pattern(c.String("pattern"))
			if err != nil {
				return nil, err
			}
			cfg.Pattern = p
		case "tos":
			v, err := a.tos(c.String("tos"))
			if err != nil {
				return nil, err
			}
			cfg.TOS = v
		case "size":
			v, err := a.integer(c.String("size"), 0, math.MaxInt32)
			if err != nil {
				return nil, err
			}
			cfg.Size = int(v)
		case "sndbuf":
			v, err := a.integer(c.String("sndbuf"), 1, math.MaxInt32)
			if err != nil {
				return nil, err
			}
			cfg.SendBuffer = int(v)
		case "ttl":
			v, err := a.integer(c.String("ttl"), 0, 255)
			if err != nil {
				return nil, err
			}
			cfg.TTL, ttlZero = uint8(v), v == 0
		case "deadline":
			v, err := a.integer(c.String("deadline"), 0, math.MaxInt32)
			if err != nil {
				return nil, err
			}
			cfg.Deadline = time.Duration(v) * time.Second
		case "timeout":
			v, err := a.float(c.String("timeout"), "bad linger time")
			if err != nil {
				return nil, err
			}
			if v < 0 || v > math.MaxInt32/1000 {
				return nil, a.fatal("bad linger time: %s", c.String("timeout"))
			}
			cfg.Timeout = time.Duration(int64(v*1000)) * time.Millisecond // 0: the default
		}
	}
	if ttlZero {
		// What the kernel answers iputils' IP_TTL of 0, once the options
		// are read.
		return nil, a.fatal("cannot set unicast time-to-live: Invalid argument")
	}
	if cfg.Size > craft.MaxPayloadIPv6 {
		return nil, a.fatal("-s %d: pingcraft sends at most %d bytes of echo data (%d over IPv4)", cfg.Size, craft.MaxPayloadIPv6, craft.MaxPayloadIPv4)
	}
	cfg.DontRoute, cfg.Debug, cfg.NoMulticastLoop = c.Bool("r"), c.Bool("d"), c.Bool("L")
	if c.Bool("adaptive") && !cfg.Flood {
		// The engine's flood: the next probe when the reply comes, waiting
		// at most the interval, printed as a normal run.
		cfg.Flood = true
		if !c.IsSet("interval") {
			cfg.Interval = ping.DefaultInterval
		}
		if os.Getuid() != 0 {
			// iputils' floor for users other than root, which also lets
			// the ping socket carry the run.
			cfg.FloodGap = 2 * time.Millisecond
		}
	}
	if c.Bool("bad-checksum") {
		cfg.Faults = craft.FaultICMPHeaderChecksum
	}
	return cfg, nil
}

// fleetConfig is how send's probes reach the target: the mode, the path
// flags and the id.
func fleetConfig(c *cli.Context, a *pingArgs) (*ping.FleetConfig, error) {
	mode, err := ping.ParseMode(c.String("mode"))
	if err != nil {
		return nil, usageError{err.Error()}
	}
	o := &resolve.Options{}
	switch {
	case c.Bool("4"):
		o.Family = 4
	case c.Bool("6"):
		o.Family = 6
	}
	// As ping -I: with a colon an IPv6 source (and, after %, the
	// interface), else an IPv4 source, else an interface.
	if s := c.String("iface"); s != "" {
		if strings.Contains(s, ":") {
			addr, dev, _ := strings.Cut(s, "%")
			src, err := netip.ParseAddr(addr)
			if err != nil {
				return nil, a.fatal("invalid source address: %s", s)
			}
			o.Source, o.Interface = src, dev
		} else if src, err := netip.ParseAddr(s); err == nil && src.Is4() {
			o.Source = src
		} else {
			o.Interface = s
		}
	}
	if s := c.String("source"); s != "" {
		src, err := netip.ParseAddr(s)
		if err != nil {
			return nil, usagef("--source %q is not an IP address", s)
		}
		o.Source = src
	}
	fc := &ping.FleetConfig{Mode: mode, Path: *o, DryRun: c.Bool("dry-run")}
	if c.IsSet("id") {
		id, err := a.integer(c.String("id"), 0, 0xffff)
		if err != nil {
			return nil, err
		}
		fc.ID = uint16(id)
	}
	return fc, nil
}

// pingResolveError words a target the path could not be found for as
// iputils words the failing call, exit 2.
func pingResolveError(a *pingArgs, name string, o *resolve.Options, err error) error {
	switch {
	case errors.Is(err, resolve.ErrNoInterface):
		return a.fatal("SO_BINDTODEVICE %s: No such device", o.Interface)
	case errors.Is(err, resolve.ErrNoAddress) && o.Source.IsValid():
		return a.fatal("bind: Cannot assign requested address")
	case errors.Is(err, resolve.ErrNoName) && o.Family != 0 && resolvesAtAll(name):
		// getaddrinfo's EAI_ADDRFAMILY: a name of the other family only.
		return a.fatal("%s: Address family for hostname not supported", name)
	case errors.Is(err, resolve.ErrNameTemporary):
		return a.fatal("%s: Temporary failure in name resolution", name)
	case errors.Is(err, resolve.ErrNoName) && a.flood:
		// ping's -f is a flood; fping's reads a file of targets. Whoever
		// meant the file gets iputils' line and where to find it.
		return a.fatal("%s: Name or service not known (-f floods, as in ping; to read targets from a file: pingcraft fping -f %s)", name, name)
	case errors.Is(err, resolve.ErrNoName):
		return a.fatal("%s: Name or service not known", name)
	case errors.Is(err, resolve.ErrNoRoute) && resolve.SystemText(err) != "":
		return a.fatal("connect: %s", resolve.SystemText(err))
	}
	return err
}

func runSend(c *cli.Context) error {
	a := &pingArgs{prog: prog(c), flood: c.Bool("flood")}
	defer a.warn(c.App.ErrWriter)
	if c.Bool("V") {
		// iputils' two lines, which scripts parse: the second says what
		// the build has (libcap for capabilities, the kernel's getrandom
		// through crypto/rand; no IDN, translations, error.h or
		// __fpending, which are C library matters).
		fmt.Fprintf(c.App.Writer, "ping from pingcraft %s\nlibcap: yes, IDN: no, NLS: no, error.h: no, getrandom(): yes, __fpending(): no\n", buildVersion())
		return nil
	}
	if c.IsSet("frame") {
		return runFrame(c)
	}
	cfg, err := sendConfig(c, a)
	if err != nil {
		return err
	}
	fc, err := fleetConfig(c, a)
	if err != nil {
		return err
	}
	a.warn(c.App.ErrWriter)
	args := c.Args().Slice()
	if len(args) == 0 {
		return worded{a.prog + ": usage error: Destination address required", 1}
	}
	// Before the target, -T tsprespec takes the addresses to stamp; any
	// other extra operand would be a source route, which pingcraft, as
	// Linux routers, does not send.
	name := args[len(args)-1]
	if len(args) > 1 {
		if cfg.IPOption != ping.IPOptionTimestampPrespec || len(args) > 5 {
			return worded{strings.TrimSuffix(pingUsage, "\n"), exitError}
		}
	}
	if cfg.IPOption == ping.IPOptionTimestampPrespec {
		// iputils asks the operands before the target for a timestamp, up
		// to 4; with the target alone, its option has room for none.
		for _, s := range args[:len(args)-1] {
			h, err := netip.ParseAddr(s)
			if err != nil || !h.Is4() {
				return a.fatal("%s: Name or service not known", s)
			}
			cfg.Prespec = append(cfg.Prespec, h)
		}
	}
	if os.Getuid() != 0 && (c.Bool("flood") || c.IsSet("interval") && cfg.Interval < 2*time.Millisecond) {
		// iputils refuses a user, privileged binary or not, after its
		// header: resolve for the header, then refuse.
		p, err := resolve.New().Resolve(c.Context, name, &fc.Path)
		if err != nil {
			return pingResolveError(a, name, &fc.Path, err)
		}
		pr := &report.Ping{W: c.App.Writer, Name: name}
		pr.Header(p.Target, cfg.Size, "", cfg.FlowLabel, 0)
		return a.fatal("cannot flood; minimal interval allowed for user is 2ms")
	}
	fl, m, err := ping.NewSingle(c.Context, name, cfg, fc)
	var flow *ping.FlowLabelError
	if errors.As(err, &flow) {
		return a.fatal("can't set flowlabel: %s", resolve.SystemText(flow.Errno))
	}
	if err != nil {
		return pingResolveError(a, name, &fc.Path, err)
	}
	defer fl.Close()
	w := c.App.Writer
	if m.Path.Broadcast && !cfg.Broadcast {
		// iputils' words for the EACCES its socket without SO_BROADCAST gets.
		return worded{prog(c) + ": Do you want to ping broadcast? Then -b. If not, check your local firewall rules", exitError}
	}
	if m.Path.Broadcast && !c.Bool("json") {
		fmt.Fprintln(c.App.ErrWriter, "WARNING: pinging broadcast address")
	}
	if ifname := fc.Path.Interface; ifname != "" && m.Path.Target.Is4() && !c.Bool("json") && !hasAddress(ifname, m.Path.Source) {
		fmt.Fprintf(c.App.ErrWriter, "%s: Warning: source address might be selected on device other than: %s\n", prog(c), ifname)
	}
	if fc.DryRun {
		e, err := ping.FirstProbe(cfg, m.Path, fl.ID())
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "pingcraft: --mode %s builds %s depth; nothing is sent\n", m.Mode, m.Mode.Depth())
		return showProbe(w, "", e, m.Mode.Depth())
	}
	if err := dropCapabilities(); err != nil {
		return err
	}
	out := report.NewAsyncWriter(w) // a slow stdout never stalls the engine
	defer out.Close()
	flood := c.Bool("flood")
	pr := &report.Ping{W: out, ErrW: c.App.ErrWriter, Name: name, Quiet: c.Bool("quiet"), Stamps: c.Bool("D"), Report: c.Bool("O"),
		Flood: flood, Adaptive: cfg.Flood && !flood, Bell: c.Bool("a"), Untimed: cfg.Size < 16,
		Zone: m.Path.Interface, Group: (m.Path.Broadcast || m.Path.Target.IsMulticast()) && !c.Bool("verbose")}
	if !flood && !c.Bool("n") && !isAddress(name) {
		// iputils names reply addresses for a target given as a name.
		n := newNamer(c.Context)
		n.name(m.Path.Target) // now: the replies' lookups are then cached
		pr.NameOf = n.name
	}
	js := &report.JSON{W: out, Name: name}
	onEvent := pr.Event
	if c.Bool("json") {
		onEvent = js.Event
	}
	p := m.Path
	header := func() {
		if c.Bool("json") {
			return
		}
		if len(cfg.Pattern) > 0 {
			fmt.Fprintf(out, "PATTERN: 0x%x\n", cfg.Pattern)
		}
		via := ""
		if fc.Path.Source.IsValid() || fc.Path.Interface != "" || c.Bool("B") {
			via = fmt.Sprintf("%s %s", p.Source, fc.Path.Interface)
		}
		options := 0
		if cfg.IPOption != ping.IPOptionNone && p.Target.Is4() {
			options = craft.MaxIPv4Options
		}
		shown := p.Target
		if a, err := netip.ParseAddr(name); err == nil && a.IsUnspecified() && a.Is6() {
			shown = a // iputils' IPv6 header names what it was given; the IPv4 one, where it goes
		}
		pr.Header(shown, cfg.Size, via, cfg.FlowLabel, options)
	}
	eng, err := fl.Engine(onEvent)
	if err != nil {
		return err
	}
	if c.Bool("verbose") && !c.Bool("json") {
		send, receive := ping.ClocksOf(fl.Targets()[0].Conn)
		pr.Transport(m, eng.ID(0), cfg.Flood, send, receive)
		pr.Authentication(cfg.Size)
	}
	header()
	stopStatus := statusOnQuit(func() {
		st := eng.Stats(0)
		pr.Status(c.App.ErrWriter, &st)
	})
	if cfg.Flood {
		// One goroutine both sends and receives a flood (ping.Engine.Run).
		// A second P would idle in epoll_wait, woken by every packet on the
		// socket for nothing: a third of a round trip's cost on a veth.
		runtime.GOMAXPROCS(1)
	}
	start := time.Now()
	runErr := eng.Run(c.Context)
	stopStatus()
	st := eng.Stats(0)
	// iputils' time runs from the first probe to the last one sent; the
	// JSON summary's time_ms stays the run's, as it always was.
	elapsed, wall := st.Span(), time.Since(start)
	drops, _ := fl.Drops(0)
	if c.Bool("json") {
		js.Summary(0, p.Target, &st, wall, drops)
	} else {
		// iputils' pipe is the most probes it saw in flight: no more
		// than were sent.
		pr.Summary(&st, elapsed, min(cfg.Preload, st.Transmitted))
		if c.Bool("verbose") {
			pr.UserSendTimes()
		}
		if drops > 0 {
			fmt.Fprintf(out, "%d replies dropped by the receive ring\n", drops)
		}
	}
	if err := out.Close(); runErr == nil {
		runErr = err
	}
	if runErr != nil {
		return runErr
	}
	if st.Received == 0 || cfg.Count > 0 && cfg.Deadline > 0 && st.Received < cfg.Count {
		return cli.Exit("", 1)
	}
	return nil
}

// resolvesAtAll reports whether name has addresses of either family,
// asking the system resolver for at most nameTimeout.
func resolvesAtAll(name string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), nameTimeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", name)
	return err == nil && len(addrs) > 0
}

// isAddress reports whether a target is given as an address, which
// iputils prints bare.
func isAddress(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// statusOnQuit calls status on every SIGQUIT until the returned stop is
// called; stop joins the goroutine that waits for the signal.
func statusOnQuit(status func()) (stop func()) {
	quit := make(chan os.Signal, 1)
	signal.Notify(quit, syscall.SIGQUIT)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-quit:
				status()
			case <-done:
				return
			}
		}
	})
	return func() {
		signal.Stop(quit)
		close(done)
		wg.Wait()
	}
}

// optionOrder is the names of the options set on send's command line, as
// their flags name them, in the order given (run keeps it from getopt);
// without it, in the order of sendFlags.
func optionOrder(c *cli.Context) []string {
	primary := map[string]string{}
	var all []string
	for _, f := range c.Command.Flags {
		names := f.Names()
		for _, n := range names {
			primary[n] = names[0]
		}
		if c.IsSet(names[0]) {
			all = append(all, names[0])
		}
	}
	given, ok := c.App.Metadata["options"].([]string)
	if !ok {
		return all
	}
	var order []string
	for _, n := range given {
		if p, ok := primary[n]; ok {
			order = append(order, p)
		}
	}
	return order
}

// hasAddress reports whether interface name has address a, as iputils
// checks the source the kernel picked for -I IFACE.
func hasAddress(name string, a netip.Addr) bool {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return true // nothing to warn of: the run fails on its own
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return true
	}
	for _, ad := range addrs {
		if n, ok := ad.(*net.IPNet); ok {
			if b, ok := netip.AddrFromSlice(n.IP); ok && b.Unmap() == a.Unmap() {
				return true
			}
		}
	}
	return false
}
