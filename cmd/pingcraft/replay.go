package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pingcraft/pingcraft/capture"
	"github.com/pingcraft/pingcraft/replay"
	"github.com/pingcraft/pingcraft/resolve"
)

const replayHelp = `Sends the IP packets of a pcap or pcapng file out of -i IFACE as Ethernet
frames, each rewritten: addresses by --map (an address or a prefix into one of
the same length), the source MAC the interface's, the destination MAC the next
hop's for the mapped destination (resolved as send resolves it: route,
neighbour table, ARP or NDP), --ttl, and every length and checksum computed
again. Frames that are not IP, fragments and frames cut short by the capture
are skipped, each said. Timing is the capture's unless --speed, --pps or
--topspeed. With --match, each frame's answer is reported: the echo reply, the
TCP or UDP segment back, or an ICMP error quoting it, or none within --timeout
(and why, when the frame went to another MAC than the next hop's).`

func replayFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "interface", Aliases: []string{"i"}, Usage: "send on `IFACE` (Ethernet; not lo, where the kernel drops injected frames)"},
		&cli.StringSliceFlag{Name: "map", Usage: "rewrite `FROM=TO` addresses or prefixes, source and destination (repeatable)"},
		&cli.UintFlag{Name: "ttl", Usage: "set the TTL or hop limit (0: as captured)"},
		&cli.BoolFlag{Name: "keep-macs", Usage: "send with the captured MACs, not the interface's and the next hop's"},
		&cli.Float64Flag{Name: "speed", Value: 1, Usage: "`X` times the captured pace"},
		&cli.Float64Flag{Name: "pps", Usage: "`N` frames a second, whatever the capture's timing"},
		&cli.BoolFlag{Name: "topspeed", Usage: "send as fast as possible"},
		&cli.IntFlag{Name: "loop", Value: 1, Usage: "send the file `N` times"},
		&cli.BoolFlag{Name: "match", Usage: "report each frame's answer"},
		&cli.DurationFlag{Name: "timeout", Value: time.Second, Usage: "with --match, how long an answer may take"},
		&cli.BoolFlag{Name: "json", Usage: "one JSON object per frame and a summary"},
	}
}

// replayed is one frame's line.
type replayed struct {
	V       int     `json:"v"`
	Event   string  `json:"event"`
	Frame   int     `json:"frame"`
	Summary string  `json:"summary,omitempty"`
	Answer  string  `json:"answer,omitempty"` // reply, tcp, udp, error, none
	From    string  `json:"from,omitempty"`
	Text    string  `json:"text,omitempty"`
	RTTMs   float64 `json:"rtt_ms,omitempty"`
	Skipped string  `json:"skipped,omitempty"`
	Reason  string  `json:"reason,omitempty"`

	dst    netip.Addr
	sentTo net.HardwareAddr
}

func runReplay(c *cli.Context) error {
	if c.NArg() != 1 {
		return usagef("replay takes one FILE.pcap, got %d arguments", c.NArg())
	}
	path := c.Args().First()
	ifname := c.String("interface")
	var maps []replay.Map
	for _, s := range c.StringSlice("map") {
		m, err := replay.ParseMap(s)
		if err != nil {
			return usageError{err.Error()}
		}
		maps = append(maps, m)
	}
	pace := replay.Pace{Speed: c.Float64("speed"), PPS: c.Float64("pps"), Top: c.Bool("topspeed")}
	switch {
	case ifname == "":
		return usagef("replay needs -i IFACE: the interface to send on")
	case c.Uint("ttl") > 255:
		return usagef("--ttl %d: give 0 (as captured) to 255", c.Uint("ttl"))
	case pace.Speed <= 0 || pace.PPS < 0:
		return usagef("--speed must be above 0 and --pps not below")
	case c.Int("loop") < 1:
		return usagef("--loop %d: give 1 or more", c.Int("loop"))
	case c.Duration("timeout") <= 0:
		return usagef("--timeout %v: give a positive duration", c.Duration("timeout"))
	}
	ifi, err := net.InterfaceByName(ifname)
	switch {
	case err != nil:
		return usagef("-i %s: no such interface: see 'ip link'", ifname)
	case ifi.Flags&net.FlagLoopback != 0:
		return usagef("-i %s: the kernel drops frames injected on loopback: replay on an Ethernet interface (a lab's h0)", ifname)
	case len(ifi.HardwareAddr) != 6:
		return usagef("-i %s: not an Ethernet interface (no 6-byte MAC)", ifname)
	}
	// The file is read once to learn where its frames go, then once per
	// loop to send them.
	open := func() (*capture.FileReader, error) {
		r, err := capture.OpenFileContext(c.Context, path)
		if err != nil {
			var fe *capture.FormatError
			if errors.As(err, &fe) {
				return nil, usageError{fmt.Sprintf("%s: %s", path, fe.Msg)}
			}
			return nil, usageError{fmt.Sprintf("%s: %s", path, oneLine(err.Error()))}
		}
		return r, nil
	}
	r, err := open()
	if err != nil {
		return err
	}
	link := r.Link()
	probe := &replay.Rewrite{Maps: maps}
	dsts := map[netip.Addr]bool{}
	for {
		data, ci, err := r.ReadPacket()
		if err != nil {
			break
		}
		if dst, err := probe.Destination(link, data, ci.Length); err == nil {
			dsts[dst] = true
		}
	}
	r.Close()

	// Every next hop is asked now, while privileges are held.
	res, err := resolve.NewBatch()
	if err != nil {
		return err
	}
	macs := map[netip.Addr]net.HardwareAddr{}
	unresolved := map[netip.Addr]string{}
	for dst := range dsts {
		p, err := res.Resolve(c.Context, dst.String(), &resolve.Options{Interface: ifname})
		switch {
		case err != nil:
			unresolved[dst] = oneLine(err.Error())
		case p.NextHopMAC == nil:
			unresolved[dst] = "the next hop " + p.NextHop.String() + " did not answer ARP or NDP"
		default:
			macs[dst] = p.NextHopMAC
		}
	}
	res.Close()
	rw := &replay.Rewrite{Maps: maps, TTL: uint8(c.Uint("ttl"))}
	if !c.Bool("keep-macs") {
		rw.SrcMAC = ifi.HardwareAddr
		rw.DstMAC = func(dst netip.Addr) (net.HardwareAddr, error) {
			if mac := macs[dst]; mac != nil {
				return mac, nil
			}
			return nil, fmt.Errorf("no next hop for %s: %s", dst, unresolved[dst])
		}
	}
	tx, err := openReplaySocket(ifi)
	if err != nil {
		return err
	}
	defer tx.Close()
	var rx capture.Source
	if c.Bool("match") {
		if rx, err = openReplayCapture(ifname); err != nil {
			return err
		}
		defer rx.Close()
	}
	if err := dropCapabilities(); err != nil {
		return err
	}

	out := c.App.Writer
	m := newMatcher(c.Duration("timeout"))
	answered := 0
	emit := func(l replayed) {
		l.V, l.Event = 1, "frame"
		if l.Answer != "" && l.Answer != "none" {
			answered++
		}
		if c.Bool("json") {
			json.NewEncoder(out).Encode(l)
			return
		}
		switch {
		case l.Skipped != "":
			fmt.Fprintf(out, "frame %d: skipped: %s\n", l.Frame, l.Skipped)
		case l.Answer == "none":
			fmt.Fprintf(out, "frame %d: %s: no answer within %v%s\n", l.Frame, l.Summary, c.Duration("timeout"), map[bool]string{true: " (" + l.Reason + ")", false: ""}[l.Reason != ""])
		case l.Answer != "":
			fmt.Fprintf(out, "frame %d: %s: %s from %s in %.3f ms\n", l.Frame, l.Summary, l.Text, l.From, l.RTTMs)
		}
	}
	var done sync.WaitGroup
	if rx != nil {
		done.Go(func() { m.receive(c.Context, rx) })
	}
	sent, skipped, n := 0, 0, 0
	start := time.Now()
	for range c.Int("loop") {
		r, err := open()
		if err != nil {
			return err
		}
		var prev time.Time
		for c.Context.Err() == nil {
			data, ci, err := r.ReadPacket()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				r.Close()
				return worded{fmt.Sprintf("pingcraft: replay %s: %s", path, oneLine(err.Error())), exitError}
			}
			n++
			f, err := rw.Apply(link, data, ci.Length)
			if err != nil {
				skipped++
				emit(replayed{Frame: n, Skipped: err.Error()})
				continue
			}
			if gap := pace.Gap(prev, ci.Timestamp); gap > 0 {
				select {
				case <-time.After(gap):
				case <-c.Context.Done():
				}
			}
			prev = ci.Timestamp
			if rx != nil {
				// Expected before it leaves: its answer can be read
				// before send returns.
				m.expect(n, f, time.Now())
			}
			if err := tx.send(f.Data); err != nil {
				r.Close()
				return worded{fmt.Sprintf("pingcraft: replay: send frame %d on %s: %s", n, ifname, oneLine(err.Error())), exitError}
			}
			sent++
			for _, l := range m.finished(false) {
				emit(l.withReason(rw, macs, c.Bool("keep-macs")))
			}
		}
		r.Close()
	}
	if rx != nil {
		m.wait(c.Context)
		for _, l := range m.finished(true) {
			emit(l.withReason(rw, macs, c.Bool("keep-macs")))
		}
		m.stop()
		done.Wait()
	}
	took := time.Since(start).Round(time.Millisecond)
	if c.Bool("json") {
		json.NewEncoder(out).Encode(map[string]any{"v": 1, "event": "summary", "frames": n, "sent": sent, "skipped": skipped, "answered": answered, "ms": took.Milliseconds()})
	} else if rx != nil {
		fmt.Fprintf(out, "%d frames, %d sent, %d skipped, %d answered, in %v\n", n, sent, skipped, answered, took)
	} else {
		fmt.Fprintf(out, "%d frames, %d sent, %d skipped, in %v\n", n, sent, skipped, took)
	}
	if c.Context.Err() != nil {
		return worded{"", 128 + 2}
	}
	if rx != nil && answered < sent {
		return worded{"", 1} // as ping: some frame got no answer
	}
	return nil
}

// withReason says why a frame got no answer when it went to another MAC
// than its next hop's.
func (l replayed) withReason(rw *replay.Rewrite, macs map[netip.Addr]net.HardwareAddr, kept bool) replayed {
	if l.Answer == "none" && kept && l.sentTo != nil {
		if mac := macs[l.dst]; mac != nil && mac.String() != l.sentTo.String() {
			l.Reason = fmt.Sprintf("sent to %s, the captured MAC; the next hop for %s is %s: drop --keep-macs", l.sentTo, l.dst, mac)
		}
	}
	return l
}

// matcher ties what the capture sees to the frames sent.
type matcher struct {
	timeout time.Duration
	mu      sync.Mutex
	pending []*outstanding
	done    []replayed
	end     chan struct{}
}

type outstanding struct {
	n    int
	f    *replay.Frame
	at   time.Time
	ans  *replay.Answer
	when time.Time
}

func newMatcher(timeout time.Duration) *matcher {
	return &matcher{timeout: timeout, end: make(chan struct{})}
}

func (m *matcher) expect(n int, f *replay.Frame, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pending = append(m.pending, &outstanding{n: n, f: f, at: at})
}

func (m *matcher) receive(ctx context.Context, rx capture.Source) {
	for {
		select {
		case <-m.end:
			return
		case <-ctx.Done():
			return
		default:
		}
		data, ci, err := rx.ReadPacket()
		if err != nil {
			if errors.Is(err, capture.ErrTimeout) {
				continue
			}
			return
		}
		arr, ok := replay.Parse(data) // once, whatever is pending
		if !ok {
			continue
		}
		m.mu.Lock()
		for _, o := range m.pending {
			if o.ans != nil {
				continue
			}
			if a, ok := arr.Answers(o.f); ok {
				a.RTT = ci.Timestamp.Sub(o.at)
				o.ans, o.when = &a, ci.Timestamp
				break
			}
		}
		m.mu.Unlock()
	}
}

// finished hands out, in order, the frames answered or timed out (all of
// them when final).
func (m *matcher) finished(final bool) []replayed {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []replayed
	now := time.Now()
	for len(m.pending) > 0 {
		o := m.pending[0]
		if o.ans == nil && !final && now.Sub(o.at) < m.timeout {
			break
		}
		m.pending = m.pending[1:]
		l := replayed{Frame: o.n, Summary: o.f.Summary, Answer: "none", dst: o.f.Dst, sentTo: net.HardwareAddr(o.f.Data[0:6])}
		if o.ans != nil {
			l.Answer, l.From, l.Text = o.ans.Kind, o.ans.From.String(), o.ans.Text
			l.RTTMs = float64(o.ans.RTT.Microseconds()) / 1000
		}
		out = append(out, l)
	}
	return out
}

// wait waits until every frame is answered or timed out.
func (m *matcher) wait(ctx context.Context) {
	for ctx.Err() == nil {
		m.mu.Lock()
		var last time.Time
		open := false
		for _, o := range m.pending {
			if o.ans == nil {
				open, last = true, o.at
			}
		}
		m.mu.Unlock()
		if !open || time.Since(last) >= m.timeout {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (m *matcher) stop() { close(m.end) }
