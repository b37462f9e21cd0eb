package main

import (
	"errors"
	"fmt"
	"math"
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

func sendFlags() []cli.Flag {
	return append(pathFlags(),
		&cli.IntFlag{Name: "count", Aliases: []string{"c"}, Usage: "stop after `N` probes"},
		&cli.Float64Flag{Name: "interval", Aliases: []string{"i"}, Value: 1, Usage: "`SECONDS` between probes (below 0.002 needs CAP_NET_RAW)"},
		&cli.Float64Flag{Name: "timeout", Aliases: []string{"W"}, Value: 10, Usage: "`SECONDS` to wait for each reply"},
		&cli.Float64Flag{Name: "deadline", Aliases: []string{"w"}, Usage: "stop after `SECONDS` whatever else"},
		&cli.IntFlag{Name: "size", Aliases: []string{"s"}, Value: ping.DefaultSize, Usage: "`BYTES` of echo data"},
		&cli.IntFlag{Name: "ttl", Aliases: []string{"t"}, Usage: "IP time to live / hop limit"},
		&cli.IntFlag{Name: "tos", Aliases: []string{"Q"}, Usage: "IP type of service / traffic class"},
		&cli.StringFlag{Name: "pmtudisc", Aliases: []string{"M"}, Usage: "path MTU discovery: `want` (DF when the probe fits the path MTU), do (always DF) or dont"},
		&cli.StringFlag{Name: "pattern", Aliases: []string{"p"}, Usage: "fill data with `HEX` (up to 16 bytes)"},
		&cli.BoolFlag{Name: "broadcast", Aliases: []string{"b"}, Usage: "allow a broadcast TARGET"},
		&cli.BoolFlag{Name: "flood", Aliases: []string{"f"}, Usage: "flood: next probe as soon as a reply comes, at least 100 a second"},
		&cli.IntFlag{Name: "preload", Aliases: []string{"l"}, Usage: "send `N` probes at once, then keep N in flight in flood mode"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print the summary only"},
		&cli.BoolFlag{Name: "D", Usage: "print a unix timestamp before each line"},
		&cli.BoolFlag{Name: "O", Usage: "report a probe without reply when the next one goes"},
		&cli.BoolFlag{Name: "n", Usage: "numeric output (always on: pingcraft never resolves addresses to names)"},
		&cli.StringFlag{Name: "mode", Value: "auto", Usage: "auto, ethernet, ip, raw or dgram"},
		&cli.BoolFlag{Name: "json", Usage: "one JSON object per event, then a summary object"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "show the path, transport and timestamp source first"},
		&cli.IntFlag{Name: "id", Value: -1, Usage: "ICMP identifier (ping sockets ignore it)"},
		&cli.BoolFlag{Name: "bad-checksum", Usage: "send the classic header-only ICMP checksum (no reply should come)"},
		&cli.BoolFlag{Name: "dry-run", Usage: "print the probe decoded and in hex, send nothing"},
	)
}

// seconds converts a flag in seconds, refusing what a duration cannot hold.
func seconds(c *cli.Context, name string) (time.Duration, error) {
	v := c.Float64(name)
	if v < 0 || math.IsNaN(v) || v > 1e6 {
		return 0, usagef("-%s %v: give seconds from 0 to 1000000", name, v)
	}
	return time.Duration(v * float64(time.Second)), nil
}

func sendConfig(c *cli.Context) (*ping.Config, error) {
	cfg := &ping.Config{Size: c.Int("size"), Flood: c.Bool("flood"), Preload: c.Int("preload"), Broadcast: c.Bool("broadcast")}
	if c.IsSet("count") {
		if c.Int("count") < 1 {
			return nil, usagef("-c %d: the count must be at least 1", c.Int("count"))
		}
		cfg.Count = c.Int("count")
	}
	var err error
	if cfg.Interval, err = seconds(c, "interval"); err != nil {
		return nil, err
	}
	if !c.IsSet("interval") {
		cfg.Interval = 0 // the engine's default: 1s, or 10ms for a flood
	}
	if c.IsSet("interval") && cfg.Interval == 0 && !cfg.Flood {
		return nil, usagef("-i 0: give a positive interval, or -f to flood")
	}
	if cfg.Timeout, err = seconds(c, "timeout"); err != nil {
		return nil, err
	}
	if cfg.Deadline, err = seconds(c, "deadline"); err != nil {
		return nil, err
	}
	switch {
	case cfg.Size < 0 || cfg.Size > craft.MaxPayloadIPv6:
		return nil, usagef("-s %d: give 0 to %d bytes (%d for IPv4)", cfg.Size, craft.MaxPayloadIPv6, craft.MaxPayloadIPv4)
	case cfg.Preload < 0 || cfg.Preload > 65536:
		return nil, usagef("-l %d: give 1 to 65536", cfg.Preload)
	case c.IsSet("ttl") && (c.Int("ttl") < 1 || c.Int("ttl") > 255):
		return nil, usagef("-t %d: the TTL must be 1 to 255", c.Int("ttl"))
	case c.Int("tos") < 0 || c.Int("tos") > 255:
		return nil, usagef("-Q %d: the TOS must be 0 to 255", c.Int("tos"))
	case c.Int("id") > 0xffff || c.Int("id") < -1:
		return nil, usagef("--id %d: give 0 to 65535", c.Int("id"))
	}
	cfg.TTL, cfg.TOS = uint8(c.Int("ttl")), uint8(c.Int("tos"))
	if s := c.String("pmtudisc"); s != "" {
		if cfg.PMTUDisc, err = ping.ParsePMTUDisc(s); err != nil {
			return nil, usageError{err.Error()}
		}
	}
	if s := c.String("pattern"); s != "" {
		if cfg.Pattern, err = craft.ParsePattern(s); err != nil {
			return nil, usageError{err.Error()}
		}
	}
	if c.Bool("bad-checksum") {
		cfg.Faults = craft.FaultICMPHeaderChecksum
	}
	return cfg, nil
}

// fleetConfig is how send's probes reach the target: the mode, the path
// flags and the id.
func fleetConfig(c *cli.Context) (*ping.FleetConfig, error) {
	mode, err := ping.ParseMode(c.String("mode"))
	if err != nil {
		return nil, usageError{err.Error()}
	}
	o, err := pathOptions(c)
	if err != nil {
		return nil, err
	}
	// Like ping -I, -I takes an interface or a source address.
	if a, err := netip.ParseAddr(o.Interface); err == nil {
		o.Interface, o.Source = "", a
	}
	fc := &ping.FleetConfig{Mode: mode, Path: *o, DryRun: c.Bool("dry-run")}
	if id := c.Int("id"); id >= 0 {
		fc.ID = uint16(id)
	}
	return fc, nil
}

func runSend(c *cli.Context) error {
	if c.NArg() != 1 {
		if c.NArg() > 1 {
			return usagef("send takes one TARGET, got %d (%s): for many, use 'pingcraft fping'", c.NArg(), strings.Join(c.Args().Slice(), " "))
		}
		return usagef("send needs a TARGET: an address or a host name")
	}
	cfg, err := sendConfig(c)
	if err != nil {
		return err
	}
	fc, err := fleetConfig(c)
	if err != nil {
		return err
	}
	name := c.Args().First()
	fl, m, err := ping.NewSingle(c.Context, name, cfg, fc)
	if err != nil {
		return pingWords(c, name, err)
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
	pr := &report.Ping{W: out, ErrW: c.App.ErrWriter, Name: name, Quiet: c.Bool("quiet"), Stamps: c.Bool("D"), Report: c.Bool("O"), Flood: cfg.Flood,
		Zone: m.Path.Interface, Group: (m.Path.Broadcast || m.Path.Target.IsMulticast()) && !c.Bool("verbose")}
	js := &report.JSON{W: out, Name: name}
	onEvent := pr.Event
	if c.Bool("json") {
		onEvent = js.Event
	}
	eng, err := fl.Engine(onEvent)
	if err != nil {
		return err
	}
	p := m.Path
	if !c.Bool("json") {
		if c.Bool("verbose") {
			pr.Transport(m, eng.ID(0), cfg.Flood)
		}
		via := ""
		if c.String("iface") != "" || c.String("source") != "" {
			via = fmt.Sprintf("%s %s", p.Source, p.Interface)
		}
		shown := p.Target
		if a, err := netip.ParseAddr(name); err == nil && a.IsUnspecified() && a.Is6() {
			shown = a // iputils' IPv6 header names what it was given; the IPv4 one, where it goes
		}
		pr.Header(shown, cfg.Size, via)
	}
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
	elapsed := time.Since(start)
	st := eng.Stats(0)
	drops, _ := fl.Drops(0)
	if c.Bool("json") {
		js.Summary(0, p.Target, &st, elapsed, drops)
	} else {
		pr.Summary(&st, elapsed, cfg.Preload)
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

// pingWords words the errors iputils has words for as iputils does: a
// name that does not resolve, a target without a route.
func pingWords(c *cli.Context, name string, err error) error {
	switch {
	case errors.Is(err, resolve.ErrNameTemporary):
		return worded{fmt.Sprintf("%s: %s: Temporary failure in name resolution", prog(c), name), exitError}
	case errors.Is(err, resolve.ErrNoName):
		return worded{fmt.Sprintf("%s: %s: Name or service not known", prog(c), name), exitError}
	case errors.Is(err, resolve.ErrNoRoute) && resolve.SystemText(err) != "":
		return worded{fmt.Sprintf("%s: connect: %s", prog(c), resolve.SystemText(err)), exitError}
	}
	return err
}
