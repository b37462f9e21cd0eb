package main

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pingcraft/pingcraft/ping"
	"github.com/pingcraft/pingcraft/report"
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

// fpingUsageExit is fping's exit status for a command line it refuses.
const fpingUsageExit = 1

// fpingHelp is fping's help beyond its usage line.
const fpingHelp = `Flags and lines follow fping 5: -c/-C N probes per target, -p MSEC
per-target period, -i MSEC between any two probes, -t MSEC timeout, -r
retries, -B backoff, -b size, -H ttl, -q, -a, -u, -e. Exit status as fping:
0 all answered, 1 some did not, 2 a name was not found, 3 bad arguments, 4
a system error.`

func fpingFlags() []cli.Flag {
	return append(pathFlags(),
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
	)
}

// runFping runs the fping personality, with fping's exit codes.
func runFping(c *cli.Context) error {
	err := fping(c)
	var exit cli.ExitCoder
	if err == nil || errors.As(err, &exit) {
		return err
	}
	code := fpingSysError
	var u usageError
	if errors.As(err, &u) {
		code = fpingBadArgs
	}
	return worded{prog(c) + ": " + oneLine(err.Error()), code}
}

// manyTargets gathers the targets: arguments, a file, or a generated range.
func manyTargets(c *cli.Context) ([]string, error) {
	args := c.Args().Slice()
	var names []string
	var err error
	switch file := c.String("file"); {
	case c.Bool("generate") && c.IsSet("file"):
		return nil, usagef("-g and -f exclude each other")
	case c.Bool("generate"):
		names, err = generate(args)
	case c.IsSet("file") && len(args) > 0:
		return nil, usagef("-f %s and targets on the command line exclude each other", file)
	case c.IsSet("file"):
		r := io.Reader(os.Stdin)
		if file != "-" {
			fh, err := os.Open(file)
			if err != nil {
				return nil, usagef("-f: %v", err)
			}
			defer fh.Close()
			r = fh
		}
		if names, err = resolve.ReadTargets(r, maxTargets); err != nil {
			return nil, usagef("-f %s: %v", file, err)
		}
	default:
		names = args
	}
	switch {
	case err != nil:
		return nil, err
	case len(names) == 0:
		return nil, usagef("fping needs targets: addresses or names, -g CIDR, or -f FILE")
	case len(names) > maxTargets:
		return nil, usagef("%d targets: at most %d in one run", len(names), maxTargets)
	}
	return names, nil
}

// generate expands -g CIDR or -g START END as fping does.
func generate(args []string) ([]string, error) {
	g := "-g " + strings.Join(args, " ")
	var names []string
	var err error
	switch len(args) {
	case 1:
		p, perr := netip.ParsePrefix(args[0])
		if perr != nil {
			return nil, usagef("%s: give a CIDR prefix such as 198.18.64.0/24, or START END", g)
		}
		names, err = resolve.Prefix(p, maxTargets)
	case 2:
		first, ferr := netip.ParseAddr(args[0])
		last, lerr := netip.ParseAddr(args[1])
		if ferr != nil || lerr != nil {
			return nil, usagef("%s: START and END must be addresses", g)
		}
		names, err = resolve.Range(first, last, maxTargets)
	default:
		return nil, usagef("-g takes CIDR or START END")
	}
	if err != nil {
		return nil, usagef("%s: %v", g, err)
	}
	return names, nil
}

func fping(c *cli.Context) error {
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
	fl, err := ping.NewFleet(c.Context, names, cfg, &ping.FleetConfig{Mode: mode, Path: *o})
	switch {
	case c.Context.Err() != nil:
		return nil
	case errors.Is(err, ping.ErrRefused):
		return usageError{err.Error()}
	case err != nil:
		return err
	}
	defer fl.Close()
	unknown := false
	for _, m := range fl.Members() {
		switch {
		case errors.Is(m.Err, resolve.ErrNoName):
			unknown = true
			fmt.Fprintf(stderr, "%s: Name or service not known\n", m.Name)
		case m.Err != nil:
			fmt.Fprintf(stderr, "%s: %v\n", m.Name, oneLine(m.Err.Error()))
		}
	}
	targets := fl.Targets()
	if len(targets) == 0 {
		if unknown {
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

	kept := make([]string, len(targets))
	for i := range targets {
		kept[i] = fl.MemberOf(i).Name
	}
	// Slow outputs never stall the engine.
	w, errw := report.NewAsyncWriter(c.App.Writer), report.NewAsyncWriter(stderr)
	defer errw.Close()
	defer w.Close()
	fp := &report.Fping{W: w, Err: errw, Names: kept, Count: c.IsSet("count") || c.IsSet("vcount"),
		Columns: c.IsSet("vcount"), Quiet: c.Bool("quiet"), Alive: c.Bool("alive"), Unreachable: c.Bool("unreach"),
		Elapsed: c.Bool("elapsed")}
	js := &report.JSON{W: w, Names: kept}
	onEvent := fp.Event
	if c.Bool("json") {
		onEvent = js.Event
	}
	eng, err := fl.Engine(onEvent)
	if err != nil {
		return err
	}
	start := time.Now()
	runErr := eng.Run(c.Context)
	elapsed := time.Since(start)
	stats := make([]ping.Stats, len(targets))
	alive := 0
	for i := range targets {
		stats[i] = eng.Stats(i)
		if stats[i].Received > 0 {
			alive++
		}
	}
	if c.Bool("json") {
		for i, t := range targets {
			drops, _ := fl.Drops(i)
			js.Summary(i, t.Path.Target, &stats[i], elapsed, drops)
		}
	} else {
		fp.Summary(stats)
		if dropped, _ := fl.Drops(-1); dropped > 0 {
			fmt.Fprintf(errw, "%d frames dropped by the receive ring: losses above may be ours, not the network's\n", dropped)
		}
	}
	switch {
	case runErr != nil:
		return runErr
	case unknown:
		return cli.Exit("", fpingNameUnknown)
	case alive < len(fl.Members()):
		return cli.Exit("", fpingSomeDown)
	}
	return nil
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
