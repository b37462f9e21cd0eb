package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/ping"
	"github.com/pingcraft/pingcraft/resolve"
)

// minUserInterval is iputils' floor for callers without CAP_NET_RAW.
const minUserInterval = 2 * time.Millisecond

func sendCommand() *cli.Command {
	return &cli.Command{
		Name:      "send",
		Usage:     "ping TARGET with probes pingcraft builds, at the depth --mode says",
		ArgsUsage: "TARGET",
		Description: `Flags follow iputils ping. The probe leaves as an Ethernet frame (--mode
ethernet), an IP packet (ip), through a raw socket (raw) or the ping socket
(dgram); auto picks the deepest the link and your privileges allow.
Exit status: 0 a reply came, 1 none did, 2 an error.

With more than one TARGET, -g CIDR (or START END), -f FILE, or a flag only
fping has (-C, -a, -u, -e, -r, -B, --rate), send takes fping's flags and
prints what fping prints: -c/-C N, -p MSEC per-target period, -i MSEC
between any two probes, -t MSEC timeout, -r retries, -B backoff, -b size,
-H ttl, -q, -a, -u, -e. Exit status then as fping: 0 all answered, 1 some
did not, 2 a name was not found, 3 bad arguments, 4 a system error.`,
		Flags: append(pathFlags(),
			&cli.IntFlag{Name: "count", Aliases: []string{"c"}, Usage: "stop after `N` probes"},
			&cli.Float64Flag{Name: "interval", Aliases: []string{"i"}, Value: 1, Usage: "`SECONDS` between probes (below 0.002 needs CAP_NET_RAW)"},
			&cli.Float64Flag{Name: "timeout", Aliases: []string{"W"}, Value: 10, Usage: "`SECONDS` to wait for each reply"},
			&cli.Float64Flag{Name: "deadline", Aliases: []string{"w"}, Usage: "stop after `SECONDS` whatever else"},
			&cli.IntFlag{Name: "size", Aliases: []string{"s"}, Value: ping.DefaultSize, Usage: "`BYTES` of echo data"},
			&cli.IntFlag{Name: "ttl", Aliases: []string{"t"}, Usage: "IP time to live / hop limit"},
			&cli.IntFlag{Name: "tos", Aliases: []string{"Q"}, Usage: "IP type of service / traffic class"},
			&cli.StringFlag{Name: "pmtudisc", Aliases: []string{"M"}, Usage: "`do` (set DF) or dont"},
			&cli.StringFlag{Name: "pattern", Aliases: []string{"p"}, Usage: "fill data with `HEX` (up to 16 bytes)"},
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
		),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				if c.NArg() > 1 {
					return usagef("send takes one TARGET and flags go before it: got %q", c.Args().Slice())
				}
				return usagef("send needs a TARGET: an address or a host name")
			}
			return runSend(c)
		},
	}
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
	cfg := &ping.Config{Size: c.Int("size"), Flood: c.Bool("flood"), Preload: c.Int("preload")}
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
	if cfg.Size < 0 || cfg.Size > craft.MaxPayloadIPv6 {
		return nil, usagef("-s %d: give 0 to %d bytes (%d for IPv4)", cfg.Size, craft.MaxPayloadIPv6, craft.MaxPayloadIPv4)
	}
	if cfg.Preload < 0 || cfg.Preload > 65536 {
		return nil, usagef("-l %d: give 1 to 65536", cfg.Preload)
	}
	if c.IsSet("ttl") {
		if t := c.Int("ttl"); t < 1 || t > 255 {
			return nil, usagef("-t %d: the TTL must be 1 to 255", t)
		}
		cfg.TTL = uint8(c.Int("ttl"))
	}
	if q := c.Int("tos"); q < 0 || q > 255 {
		return nil, usagef("-Q %d: the TOS must be 0 to 255", q)
	}
	cfg.TOS = uint8(c.Int("tos"))
	switch c.String("pmtudisc") {
	case "", "dont":
	case "do":
		cfg.DontFragment = true
	default:
		return nil, usagef("-M %q: use do or dont", c.String("pmtudisc"))
	}
	if s := c.String("pattern"); s != "" {
		if cfg.Pattern, err = craft.ParsePattern(s); err != nil {
			return nil, usageError{err.Error()}
		}
	}
	if id := c.Int("id"); id > 0xffff || id < -1 {
		return nil, usagef("--id %d: give 0 to 65535", id)
	}
	if c.Bool("bad-checksum") {
		cfg.Faults = craft.FaultICMPHeaderChecksum
	}
	return cfg, nil
}

func runSend(c *cli.Context) error {
	ctx := c.Context
	cfg, err := sendConfig(c)
	if err != nil {
		return err
	}
	id := uint16(c.Int("id"))
	if c.Int("id") < 0 {
		if id, err = ping.NewID(); err != nil {
			return err
		}
	}
	mode, err := ping.ParseMode(c.String("mode"))
	if err != nil {
		return usageError{err.Error()}
	}
	o, err := pathOptions(c)
	if err != nil {
		return err
	}
	// Like ping -I, -I takes an interface or a source address.
	if a, err := netip.ParseAddr(o.Interface); err == nil {
		o.Interface, o.Source = "", a
	}
	// The MAC is asked for only once a transport that needs it is open:
	// ARP and NDP need CAP_NET_RAW, the ping socket does not.
	o.NoSolicit = true
	name := c.Args().First()
	resolver := resolve.New()
	path, err := resolver.Resolve(ctx, name, o)
	if err != nil {
		return err
	}
	if path.Target.Is4() && cfg.Size > craft.MaxPayloadIPv4 {
		return usagef("-s %d: IPv4 carries at most %d bytes of echo data", cfg.Size, craft.MaxPayloadIPv4)
	}
	hdr := 28
	if path.Target.Is6() {
		hdr = 48
	}
	if cfg.DontFragment && cfg.Size+hdr > path.MTU {
		return usagef("-s %d with -M do: the packet is %d bytes and %s's MTU is %d: lower -s to %d or drop -M do",
			cfg.Size, cfg.Size+hdr, path.Interface, path.MTU, path.MTU-hdr)
	}
	if c.Bool("dry-run") {
		if m := mode; m == ping.ModeAuto && ping.AutoMode(path) == ping.ModeEthernet || m == ping.ModeEthernet {
			if err := resolver.Solicit(ctx, path, o); err != nil {
				return err
			}
		}
		return dryRun(c.App.Writer, path, mode, cfg, id)
	}

	if path.Kind == resolve.KindEthernet && mode != ping.ModeRaw && mode != ping.ModeDgram {
		// The AF_PACKET transports need the next hop's MAC; asking for it
		// needs CAP_NET_RAW, and so do they: without it auto means dgram.
		if err := resolver.Solicit(ctx, path, o); err != nil {
			if mode != ping.ModeAuto || !errors.Is(err, os.ErrPermission) {
				return err
			}
			mode = ping.ModeDgram
		}
	}
	// A flood with few probes in flight waits on each reply: a per-frame
	// ring hands it over at once, a TPACKET_V3 block only on its timeout.
	flood := cfg.Flood
	conn, mode, err := ping.Open(path, mode, &ping.OpenConfig{ID: id, Flood: flood, Size: cfg.Size})
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := dropCapabilities(); err != nil {
		return err
	}
	if mode == ping.ModeDgram {
		if cfg.Flood || (cfg.Interval > 0 && cfg.Interval < minUserInterval) {
			return usagef("-i below 2ms and -f need CAP_NET_RAW (the ping socket is unprivileged): run as root or 'setcap cap_net_raw+ep' the binary")
		}
		if cfg.Faults != 0 {
			return usagef("--bad-checksum needs a transport where pingcraft writes the checksum; the ping socket rewrites it: use --mode ethernet, ip or raw")
		}
	}
	if cfg.Faults != 0 && mode == ping.ModeRaw && path.Target.Is6() {
		return usagef("--bad-checksum: a raw ICMPv6 socket has the kernel write the checksum: use --mode ethernet or ip")
	}

	w := c.App.Writer
	pr := &ping.Printer{W: w, Name: name, Quiet: c.Bool("quiet"), Stamps: c.Bool("D"), Report: c.Bool("O"), Flood: cfg.Flood}
	js := &ping.JSONWriter{W: w, Name: name}
	onEvent := pr.Event
	if c.Bool("json") {
		onEvent = js.Event
	}
	eng, err := ping.New(cfg, []ping.Target{{Path: path, Conn: conn}}, onEvent)
	if err != nil {
		return err
	}
	if c.Bool("verbose") && !c.Bool("json") {
		describe(w, path, mode, eng.ID(0), flood)
	}
	if !c.Bool("json") {
		via := ""
		if c.String("iface") != "" || c.String("source") != "" {
			via = fmt.Sprintf("%s %s", path.Source, path.Interface)
		}
		pr.Header(path.Target, cfg.Size, via)
	}

	quit := make(chan os.Signal, 1)
	signal.Notify(quit, syscall.SIGQUIT)
	defer signal.Stop(quit)
	stopStatus := make(chan struct{})
	go func() {
		for {
			select {
			case <-quit:
				st := eng.Stats(0)
				pr.Status(c.App.ErrWriter, &st)
			case <-stopStatus:
				return
			}
		}
	}()
	if cfg.Flood {
		// One goroutine both sends and receives a flood (ping.Engine.Run).
		// A second P would idle in epoll_wait, woken by every packet on the
		// socket for nothing: a third of a round trip's cost on a veth.
		runtime.GOMAXPROCS(1)
	}
	start := time.Now()
	runErr := eng.Run(ctx)
	close(stopStatus)
	elapsed := time.Since(start)
	st := eng.Stats(0)
	drops, _ := conn.Drops()
	if c.Bool("json") {
		js.Summary(path.Target, &st, elapsed, drops)
	} else {
		pr.Summary(&st, elapsed, cfg.Preload)
		if drops > 0 {
			fmt.Fprintf(w, "%d replies dropped by the receive ring\n", drops)
		}
	}
	if runErr != nil {
		return runErr
	}
	if st.Received == 0 || cfg.Count > 0 && cfg.Deadline > 0 && st.Received < cfg.Count {
		return cli.Exit("", 1)
	}
	return nil
}

func describe(w io.Writer, p *resolve.Path, m ping.Mode, id uint16, flood bool) {
	ring := "TPACKET_V3"
	if flood {
		ring = "TPACKET_V2 (per-frame, for a flood)"
	}
	socket := map[ping.Mode]string{
		ping.ModeEthernet: "AF_PACKET SOCK_RAW out, " + ring + " ring in; kernel timestamps both ways",
		ping.ModeIP:       "AF_PACKET SOCK_DGRAM out, " + ring + " ring in; kernel timestamps both ways",
		ping.ModeRaw:      "SOCK_RAW ICMP socket; kernel receive time, user send time",
		ping.ModeDgram:    "ping socket (SOCK_DGRAM ICMP); kernel receive time, user send time",
	}[m]
	fmt.Fprintf(w, "pingcraft: path %s via %s (index %d, %s, mtu %d) from %s %s, next hop %s %s [MAC: %s]\n",
		p.Target, p.Interface, p.Index, p.Kind, p.MTU, p.Source, p.SourceMAC, p.NextHop, p.NextHopMAC, p.MACSource)
	fmt.Fprintf(w, "pingcraft: transport %s: %s; icmp id %d\n", m, socket, id)
}

func dryRun(w io.Writer, p *resolve.Path, m ping.Mode, cfg *ping.Config, id uint16) error {
	if m == ping.ModeAuto {
		m = ping.AutoMode(p)
	}
	pl := craft.Payload{Size: cfg.Size, Pattern: cfg.Pattern}
	e := &craft.Echo{ID: id, Seq: 1, Src: p.Source, Dst: p.Target, SrcMAC: p.SourceMAC, DstMAC: p.NextHopMAC,
		TTL: cfg.TTL, TOS: cfg.TOS, DontFragment: cfg.DontFragment, IPID: 1, Payload: pl.Append(nil, time.Now()), Faults: cfg.Faults}
	fmt.Fprintf(w, "pingcraft: --mode %s builds %s depth; nothing is sent\n", m, m.Depth())
	return showProbe(w, "", e, m.Depth())
}
