package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"net/netip"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/ping"
	"github.com/pingcraft/pingcraft/resolve"
)

// fping's exit codes, for send over many targets.
const (
	fpingAllAlive    = 0
	fpingSomeDown    = 1
	fpingNameUnknown = 2
	fpingBadArgs     = 3
	fpingSysError    = 4
)

// maxTargets bounds one run: -g 10.0.0.0/8 is a mistake, not a plan.
const maxTargets = 1 << 16

// manyValueFlags are the flags of either flavour of send that take a value,
// for telling targets from flag values before parsing.
var manyValueFlags = map[string]bool{
	"c": true, "count": true, "C": true, "p": true, "i": true, "t": true, "r": true, "B": true, "b": true,
	"W": true, "w": true, "s": true, "Q": true, "M": true, "l": true, "I": true, "iface": true, "S": true,
	"source": true, "mode": true, "id": true, "rate": true, "H": true, "interval": true, "timeout": true,
	"deadline": true, "size": true, "ttl": true, "tos": true, "pmtudisc": true, "pattern": true,
	"preload": true, "file": true, "period": true, "retry": true, "backoff": true, "vcount": true,
}

// manyStyle reports whether the arguments after "send" ask for fping's
// flavour: more than one target, -g, a target file, or a flag only fping
// has. A lone "-f" stays iputils' flood unless a file (or "-") follows.
func manyStyle(args []string) bool {
	targets := 0
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			targets += len(args) - i - 1
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			targets++
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch name {
		case "g", "generate", "C", "a", "u", "e", "file", "rate", "r", "B", "retry", "backoff", "alive", "unreach", "elapsed":
			return true
		case "f":
			if i+1 < len(args) && (args[i+1] == "-" || isFile(args[i+1])) {
				return true
			}
			continue
		}
		if manyValueFlags[name] && !hasValue {
			i++
		}
	}
	return targets > 1
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

func manyCommand() *cli.Command {
	return &cli.Command{
		Name:      "send-many",
		Hidden:    true,
		Usage:     "ping many targets at once, with fping's flags and output",
		ArgsUsage: "TARGET... | -g CIDR | -g START END | -f FILE",
		Flags: append(pathFlags(),
			&cli.IntFlag{Name: "count", Aliases: []string{"c"}, Usage: "`N` probes per target, a line per probe and a summary"},
			&cli.IntFlag{Name: "vcount", Aliases: []string{"C"}, Usage: "as -c, the summary listing every probe's time"},
			&cli.Float64Flag{Name: "period", Aliases: []string{"p"}, Value: 1000, Usage: "`MSEC` between two probes to one target"},
			&cli.Float64Flag{Name: "interval", Aliases: []string{"i"}, Value: 10, Usage: "at least `MSEC` between any two probes"},
			&cli.Float64Flag{Name: "rate", Usage: "at most `N` probes a second over all targets"},
			&cli.Float64Flag{Name: "timeout", Aliases: []string{"t"}, Usage: "`MSEC` to wait for a reply (500; with -c/-C the period, up to 2000)"},
			&cli.IntFlag{Name: "retry", Aliases: []string{"r"}, Value: 3, Usage: "without -c: `N` more probes to a silent target"},
			&cli.Float64Flag{Name: "backoff", Aliases: []string{"B"}, Value: 1.5, Usage: "each retry waits `F` times longer"},
			&cli.IntFlag{Name: "size", Aliases: []string{"b"}, Value: ping.DefaultSize, Usage: "`BYTES` of echo data"},
			&cli.IntFlag{Name: "ttl", Aliases: []string{"H"}, Usage: "IP time to live / hop limit"},
			&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "read targets from `FILE` ('-': standard input)"},
			&cli.BoolFlag{Name: "generate", Aliases: []string{"g"}, Usage: "targets from CIDR or START END"},
			&cli.BoolFlag{Name: "alive", Aliases: []string{"a"}, Usage: "print the targets that answered"},
			&cli.BoolFlag{Name: "unreach", Aliases: []string{"u"}, Usage: "print the targets that did not"},
			&cli.BoolFlag{Name: "elapsed", Aliases: []string{"e"}, Usage: "print the round trip with alive targets"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no per-probe lines"},
			&cli.StringFlag{Name: "mode", Value: "auto", Usage: "auto, ethernet, ip, raw or dgram"},
			&cli.BoolFlag{Name: "json", Usage: "one JSON object per event, then a summary object per target"},
		),
		Action: func(c *cli.Context) error {
			err := runMany(c)
			var exit cli.ExitCoder
			if err == nil || errors.As(err, &exit) {
				return err
			}
			code := fpingSysError
			var u usageError
			if errors.As(err, &u) {
				code = fpingBadArgs
			}
			return cli.Exit(oneLine(err.Error()), code)
		},
	}
}

// manyTargets gathers the targets: arguments, a file, or a generated range.
func manyTargets(c *cli.Context) ([]string, error) {
	args := c.Args().Slice()
	var names []string
	switch {
	case c.Bool("generate"):
		if c.IsSet("file") {
			return nil, usagef("-g and -f exclude each other")
		}
		var err error
		if names, err = generate(args); err != nil {
			return nil, err
		}
	case c.IsSet("file"):
		if len(args) > 0 {
			return nil, usagef("-f %s and targets on the command line exclude each other", c.String("file"))
		}
		var r io.Reader = os.Stdin
		if f := c.String("file"); f != "-" {
			fh, err := os.Open(f)
			if err != nil {
				return nil, usagef("-f: %v", err)
			}
			defer fh.Close()
			r = fh
		}
		lines := bufio.NewScanner(r)
		for lines.Scan() {
			line := strings.TrimSpace(lines.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			names = append(names, strings.Fields(line)[0])
			if len(names) > maxTargets {
				return nil, usagef("-f %s: more than %d targets: split the list", c.String("file"), maxTargets)
			}
		}
		if err := lines.Err(); err != nil {
			return nil, fmt.Errorf("-f %s: %w", c.String("file"), err)
		}
	default:
		names = args
	}
	if len(names) == 0 {
		return nil, usagef("send needs targets: addresses or names, -g CIDR, or -f FILE")
	}
	if len(names) > maxTargets {
		return nil, usagef("%d targets: at most %d in one run", len(names), maxTargets)
	}
	return names, nil
}

// generate expands -g CIDR or -g START END as fping does: an IPv4 prefix
// shorter than /31 leaves out its network and broadcast addresses.
func generate(args []string) ([]string, error) {
	var first, last netip.Addr
	switch len(args) {
	case 1:
		p, err := netip.ParsePrefix(args[0])
		if err != nil {
			return nil, usagef("-g %s: give a CIDR prefix such as 198.18.64.0/24, or START END", args[0])
		}
		p = p.Masked()
		first = p.Addr()
		bits := first.BitLen() - p.Bits()
		if bits > 16 {
			return nil, usagef("-g %s: %s addresses: at most %d in one run (a /%d for IPv4, /%d for IPv6)", args[0],
				new(big.Int).Lsh(big.NewInt(1), uint(bits)), maxTargets, 32-16, 128-16)
		}
		last = first
		for range (1 << bits) - 1 {
			last = last.Next()
		}
		if first.Is4() && bits > 1 {
			first, last = first.Next(), last.Prev()
		}
	case 2:
		var err error
		if first, err = netip.ParseAddr(args[0]); err != nil {
			return nil, usagef("-g %s %s: %q is not an address", args[0], args[1], args[0])
		}
		if last, err = netip.ParseAddr(args[1]); err != nil {
			return nil, usagef("-g %s %s: %q is not an address", args[0], args[1], args[1])
		}
		if first.Is4() != last.Is4() || last.Less(first) {
			return nil, usagef("-g %s %s: give START then END of one family, START first", args[0], args[1])
		}
	default:
		return nil, usagef("-g takes CIDR or START END")
	}
	var names []string
	for a := first; ; a = a.Next() {
		names = append(names, a.String())
		if len(names) > maxTargets {
			return nil, usagef("-g %s: more than %d addresses: narrow the range", strings.Join(args, " "), maxTargets)
		}
		if a == last {
			return names, nil
		}
	}
}

// connKey is what targets sharing a Conn have in common.
type connKey struct {
	mode   ping.Mode
	iface  string
	source netip.Addr
	six    bool
}

func runMany(c *cli.Context) error {
	ctx := c.Context
	stderr := c.App.ErrWriter
	names, err := manyTargets(c)
	if err != nil {
		return err
	}
	mode, err := ping.ParseMode(c.String("mode"))
	if err != nil {
		return usageError{err.Error()}
	}
	cfg, err := manyConfig(c)
	if err != nil {
		return err
	}
	o, err := pathOptions(c)
	if err != nil {
		return err
	}
	o.NoSolicit = true

	resolver, err := resolve.NewBatch()
	if err != nil {
		return err
	}
	defer resolver.Close()
	var paths []*resolve.Path
	var kept []string
	unknown := false
	for _, name := range names {
		p, err := resolver.Resolve(ctx, name, o)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, resolve.ErrNoName) {
				unknown = true
				fmt.Fprintf(stderr, "%s: Name or service not known\n", name)
				continue
			}
			return err
		}
		if p.Target.Is4() && cfg.Size > craft.MaxPayloadIPv4 {
			return usagef("-b %d: IPv4 carries at most %d bytes of echo data", cfg.Size, craft.MaxPayloadIPv4)
		}
		paths, kept = append(paths, p), append(kept, name)
	}
	if len(paths) == 0 {
		return cli.Exit("", fpingNameUnknown)
	}

	id, err := ping.NewID()
	if err != nil {
		return err
	}
	conns := map[connKey]ping.Conn{}
	defer func() {
		for _, conn := range conns {
			conn.Close()
		}
	}()
	macs := map[netip.Addr]*resolve.Path{} // next hops already solicited
	targets := make([]ping.Target, len(paths))
	for i, p := range paths {
		m := mode
		if m == ping.ModeAuto {
			m = ping.AutoMode(p)
		}
		if p.Kind == resolve.KindEthernet && (m == ping.ModeEthernet || m == ping.ModeIP) {
			if done := macs[p.NextHop]; done != nil {
				p.NextHopMAC, p.MACSource = done.NextHopMAC, done.MACSource
			} else if err := resolver.Solicit(ctx, p, o); err != nil {
				if mode != ping.ModeAuto || !errors.Is(err, os.ErrPermission) {
					return err
				}
				m = ping.ModeDgram
			} else {
				macs[p.NextHop] = p
			}
		}
		k := connKey{m, p.Interface, p.Source, p.Target.Is6()}
		conn := conns[k]
		if conn == nil {
			open := m
			if mode == ping.ModeAuto {
				open = ping.ModeAuto
			}
			if conn, _, err = ping.Open(p, open, &ping.OpenConfig{ID: id, Size: cfg.Size, InFlight: inFlight(cfg, len(paths))}); err != nil {
				return err
			}
			conns[k] = conn
		}
		targets[i] = ping.Target{Path: p, Conn: conn}
	}
	if err := dropCapabilities(); err != nil {
		return err
	}
	// Resolving thousands of targets leaves megabytes of netlink garbage
	// behind; give it back before a run that may last for hours.
	debug.FreeOSMemory()

	w := c.App.Writer
	fp := &ping.FpingPrinter{W: w, Err: stderr, Names: kept, Count: c.IsSet("count") || c.IsSet("vcount"),
		Columns: c.IsSet("vcount"), Quiet: c.Bool("quiet"), Alive: c.Bool("alive"), Unreachable: c.Bool("unreach"),
		Elapsed: c.Bool("elapsed")}
	js := &ping.JSONWriter{W: w, Names: kept}
	onEvent := fp.Event
	if c.Bool("json") {
		onEvent = js.Event
	}
	eng, err := ping.New(cfg, targets, onEvent)
	if err != nil {
		return err
	}
	start := time.Now()
	runErr := eng.Run(ctx)
	elapsed := time.Since(start)
	stats := make([]ping.Stats, len(targets))
	alive := 0
	for i := range targets {
		stats[i] = eng.Stats(i)
		if stats[i].Received > 0 {
			alive++
		}
	}
	drops := map[ping.Conn]uint64{}
	var dropped uint64
	for _, conn := range conns {
		if d, err := conn.Drops(); err == nil {
			drops[conn], dropped = d, dropped+d
		}
	}
	if c.Bool("json") {
		for i, p := range paths {
			js.Name = kept[i]
			js.Summary(p.Target, &stats[i], elapsed, drops[targets[i].Conn])
		}
	} else {
		fp.Summary(stats)
		if dropped > 0 {
			fmt.Fprintf(stderr, "%d frames dropped by the receive ring: losses above may be ours, not the network's\n", dropped)
		}
	}
	switch {
	case runErr != nil:
		return runErr
	case unknown:
		return cli.Exit("", fpingNameUnknown)
	case alive < len(targets):
		return cli.Exit("", fpingSomeDown)
	}
	return nil
}

// inFlight is the most probes a run may have in flight at once: each
// target's, for as long as a probe waits, times the targets.
func inFlight(cfg *ping.Config, targets int) int {
	wait := cfg.Timeout
	if cfg.UntilReply {
		wait = time.Duration(float64(cfg.Timeout) * math.Pow(cfg.Backoff, float64(cfg.Retries)))
	}
	return targets * (int(wait/cfg.Interval) + 1)
}

// manyConfig turns fping's flags into the engine's.
func manyConfig(c *cli.Context) (*ping.Config, error) {
	msec := func(name string) (time.Duration, error) {
		v := c.Float64(name)
		if v < 0 || v != v || v > 1e9 {
			return 0, usagef("-%s %v: give milliseconds from 0 to 1000000000", name, v)
		}
		return time.Duration(v * float64(time.Millisecond)), nil
	}
	cfg := &ping.Config{Size: c.Int("size"), Retries: c.Int("retry"), Backoff: c.Float64("backoff"), Rate: c.Float64("rate")}
	var err error
	if cfg.Interval, err = msec("period"); err != nil {
		return nil, err
	}
	if cfg.Gap, err = msec("interval"); err != nil {
		return nil, err
	}
	if cfg.Timeout, err = msec("timeout"); err != nil {
		return nil, err
	}
	switch {
	case c.IsSet("count") && c.IsSet("vcount"):
		return nil, usagef("-c and -C exclude each other: give one")
	case c.IsSet("vcount"):
		cfg.Count = c.Int("vcount")
	case c.IsSet("count"):
		cfg.Count = c.Int("count")
	default:
		cfg.UntilReply = true
	}
	if (c.IsSet("count") || c.IsSet("vcount")) && cfg.Count <= 0 {
		return nil, usagef("-c %d: give a positive number of probes", cfg.Count)
	}
	if cfg.Interval <= 0 {
		return nil, usagef("-p %v: give a positive period", c.Float64("period"))
	}
	if !c.IsSet("timeout") {
		cfg.Timeout = 500 * time.Millisecond
		if !cfg.UntilReply {
			cfg.Timeout = min(cfg.Interval, 2*time.Second)
		}
	}
	if cfg.Timeout <= 0 {
		return nil, usagef("-t %v: give a positive timeout", c.Float64("timeout"))
	}
	if cfg.Size < 0 || cfg.Retries < 0 || cfg.Backoff < 1 || cfg.Backoff > 5 || cfg.Rate < 0 {
		return nil, usagef("-b, -r and --rate must not be negative, -B must be from 1 to 5")
	}
	if c.IsSet("ttl") {
		if t := c.Int("ttl"); t < 1 || t > 255 {
			return nil, usagef("-H %d: give a TTL from 1 to 255", t)
		}
		cfg.TTL = uint8(c.Int("ttl"))
	}
	if cfg.Gap < time.Millisecond && os.Geteuid() != 0 {
		// As fping: flooding many targets is for those who may.
		return nil, usagef("-i below 1 ms needs root")
	}
	return cfg, nil
}
