//go:build linux && cgo

package capture

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcap"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/lab"
	"github.com/pingcraft/pingcraft/lab/labtest"
)

// compile compiles a libpcap expression for Ethernet frames, with gopacket's
// binding directly: capture/libpcap imports capture, so capture's own
// tests cannot import it.
func compile(t *testing.T, expr string) []bpf.RawInstruction {
	t.Helper()
	insns, err := pcap.CompileBPFFilter(layers.LinkTypeEthernet, DefaultSnaplen, expr)
	if err != nil {
		t.Fatalf("filter %q: %v", expr, err)
	}
	prog := make([]bpf.RawInstruction, len(insns))
	for i, in := range insns {
		prog[i] = bpf.RawInstruction{Op: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	return prog
}

// openIn opens a ring inside n's namespace, closed when the test ends.
func openIn(t *testing.T, n *lab.Node, cfg *Config) *Ring {
	t.Helper()
	r, err := openRingIn(n, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// frame is one decoded frame and its capture time.
type frame struct {
	p  craft.Packet
	at time.Time
}

// readFrames reads until n frames passed the filter or the deadline passes.
func readFrames(t *testing.T, r *Ring, n int, deadline time.Time) []frame {
	t.Helper()
	dec, err := craft.NewDecoder(craft.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	var got []frame
	for len(got) < n && time.Now().Before(deadline) {
		data, ci, err := r.ReadPacket()
		if errors.Is(err, ErrTimeout) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if ci.CaptureLength != len(data) || ci.Length < len(data) {
			t.Errorf("capture info %+v for %d bytes", ci, len(data))
		}
		var f frame
		if err := dec.Decode(data, &f.p); err != nil {
			t.Fatal(err)
		}
		f.at = ci.Timestamp
		got = append(got, f)
	}
	return got
}

// TestRingPing captures iputils ping across the lab: every request and reply,
// in order, with kernel timestamps, counted and not dropped; by a TPACKET_V3
// ring and by a TPACKET_V2 one, which wakes the reader for each frame.
func TestRingPing(t *testing.T) {
	t.Parallel()
	labtest.RequireTool(t, "ping", "iputils-ping")
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"v3", Config{Program: compile(t, "icmp")}},
		// A block timeout far beyond the read deadline: only a ring that
		// hands over every frame as it comes passes.
		{"v2", Config{Program: compile(t, "icmp"), Version: TPacketV2, Snaplen: 256, BlockTimeout: 30 * time.Second, BlockSize: 4 * 4096}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testRingPing(t, tc.cfg)
		})
	}
}

func testRingPing(t *testing.T, cfg Config) {
	l := labtest.New(t)
	cfg.Interface = l.HostLink
	r := openIn(t, l.Host, &cfg)

	ping := l.Host.Command(t.Context(), "ping", "-n", "-c", "3", "-i", "0.2", "-W", "2", l.Target4.String())
	out := new(strings.Builder)
	ping.Stdout, ping.Stderr = out, out
	if err := ping.Start(); err != nil {
		t.Fatal(err)
	}
	got := readFrames(t, r, 6, time.Now().Add(5*time.Second))
	if err := ping.Wait(); err != nil {
		t.Fatalf("ping: %v\n%s", err, out)
	}

	var requests, replies int
	var prev time.Time
	sent := map[uint16]time.Time{}
	for i, f := range got {
		p := &f.p
		if f.at.IsZero() || f.at.Before(prev) {
			t.Errorf("frame %d stamped %v, after %v", i, f.at, prev)
		}
		prev = f.at
		switch {
		case p.Class == craft.ClassEchoRequest && p.Src == l.Host4 && p.Dst == l.Target4:
			requests++
			sent[p.Seq] = f.at
		case p.Class == craft.ClassEchoReply && p.Src == l.Target4 && p.Dst == l.Host4 && p.TTL == 63:
			replies++
			if at, ok := sent[p.Seq]; !ok || !f.at.After(at) {
				t.Errorf("reply seq %d stamped %v; its request %v", p.Seq, f.at, at)
			}
		default:
			t.Errorf("frame %d: unexpected %s", i, p)
		}
	}
	if requests != 3 || replies != 3 {
		t.Errorf("saw %d requests and %d replies, want 3 and 3", requests, replies)
	}
	st, err := r.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Packets != 6 || st.Drops != 0 {
		t.Errorf("Stats() = %+v, want 6 packets, no drops", st)
	}
	// Counters are cumulative although the kernel resets its own on
	// every read.
	if st2, err := r.Stats(); err != nil || st2 != st {
		t.Errorf("Stats() again = %+v, %v; want %+v", st2, err, st)
	}
}

// TestRingClose closes a ring under a blocked reader: Close waits at most a
// poll timeout, the reader gets net.ErrClosed, nothing crashes.
func TestRingClose(t *testing.T) {
	t.Parallel()
	l := labtest.New(t)
	const poll = 100 * time.Millisecond
	r := openIn(t, l.Host, &Config{Interface: l.HostLink, Program: compile(t, "udp port 9"), PollTimeout: poll})

	read := func() error {
		for {
			if _, _, err := r.ReadPacket(); !errors.Is(err, ErrTimeout) {
				return err
			}
		}
	}
	labtest.CloseUnblocks(t, read, r.Close, poll/2, poll+50*time.Millisecond)
	if _, _, err := r.ReadPacket(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("ReadPacket after Close: %v, want net.ErrClosed", err)
	}
	if st, err := r.Stats(); err != nil || st != (Stats{}) {
		t.Errorf("Stats after Close = %+v, %v; want the final zero counters", st, err)
	}
}

// TestRingInterfaceDown takes the interface down under a ring: one read
// says so, and once it is back up the ring captures again.
func TestRingInterfaceDown(t *testing.T) {
	t.Parallel()
	labtest.RequireTool(t, "ping", "iputils-ping")
	l := labtest.New(t)
	r := openIn(t, l.Host, &Config{Interface: l.HostLink, Program: compile(t, "icmp"), PollTimeout: 20 * time.Millisecond})
	ip := func(args ...string) {
		if out, err := l.Host.Command(t.Context(), "ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	ip("link", "set", l.HostLink, "down")
	var err error
	for range 10 {
		if _, _, err = r.ReadPacket(); !errors.Is(err, ErrTimeout) {
			break
		}
	}
	if !errors.Is(err, unix.ENETDOWN) {
		t.Fatalf("ReadPacket with %s down: %v, want ENETDOWN", l.HostLink, err)
	}
	if _, _, err := r.ReadPacket(); !errors.Is(err, ErrTimeout) {
		t.Fatalf("ReadPacket after ENETDOWN was reported: %v, want a timeout", err)
	}
	ip("link", "set", l.HostLink, "up")
	// -w: the kernel finishes bringing the link up asynchronously, and
	// ping keeps trying until a reply or the deadline.
	ping := l.Host.Command(t.Context(), "ping", "-n", "-c", "1", "-w", "3", l.Router4.String())
	if out, err := ping.CombinedOutput(); err != nil {
		t.Fatalf("ping: %v\n%s", err, out)
	}
	if got := readFrames(t, r, 2, time.Now().Add(2*time.Second)); len(got) != 2 {
		t.Errorf("after the interface came back up the ring captured %d frames of 1 ping, want 2", len(got))
	}
}

// TestRingEarlyFrames floods the host link with UDP to port 9 while rings
// open with a filter for port 7: frames captured before the kernel filter was
// attached must never be handed out.
func TestRingEarlyFrames(t *testing.T) {
	t.Parallel()
	l := labtest.New(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	flood := make(chan error, 1)
	go func() {
		flood <- l.Host.Do(func() error {
			c, err := net.Dial("udp4", netip.AddrPortFrom(l.Router4, 9).String())
			if err != nil {
				return err
			}
			defer c.Close()
			b := make([]byte, 64)
			for ctx.Err() == nil {
				c.Write(b) // ECONNREFUSED from the router's ICMP: ignored
			}
			return nil
		})
	}()

	var early int
	const opens = 20
	for range opens {
		r, err := openRingIn(l.Host, &Config{Interface: l.HostLink, Program: compile(t, "udp port 7"), PollTimeout: 5 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		for {
			data, ci, err := r.ReadPacket()
			if errors.Is(err, ErrTimeout) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Errorf("read a %d-byte frame stamped %v that the filter rejects", len(data), ci.Timestamp)
		}
		early += r.earlyRejected
		r.Close()
	}
	cancel()
	if err := <-flood; err != nil {
		t.Fatal(err)
	}
	t.Logf("%d frames from before the kernel filter were dropped over %d opens", early, opens)
	if early == 0 {
		t.Error("no frame arrived before the kernel filter: their dropping went untested")
	}
}

// openRingIn opens a ring inside n's namespace.
func openRingIn(n *lab.Node, cfg *Config) (*Ring, error) {
	var r *Ring
	err := n.Do(func() error {
		var err error
		r, err = OpenRing(cfg)
		return err
	})
	return r, err
}

// TestRingPermission opens a ring without CAP_NET_RAW: the error must say
// so in a way errors.Is understands.
func TestRingPermission(t *testing.T) {
	errc := make(chan error, 1)
	go func() {
		// Capabilities are per thread: drop CAP_NET_RAW on this one and
		// let it die with the goroutine (no UnlockOSThread).
		runtime.LockOSThread()
		if os.Geteuid() == 0 {
			hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
			var data [2]unix.CapUserData
			if err := unix.Capget(&hdr, &data[0]); err != nil {
				errc <- err
				return
			}
			data[0].Effective &^= 1 << unix.CAP_NET_RAW
			if err := unix.Capset(&hdr, &data[0]); err != nil {
				errc <- err
				return
			}
		}
		r, err := OpenRing(&Config{Interface: "lo"})
		if err == nil {
			r.Close()
		}
		errc <- err
	}()
	err := <-errc
	if !errors.Is(err, os.ErrPermission) {
		t.Fatalf("OpenRing without CAP_NET_RAW: %v, want an error wrapping os.ErrPermission", err)
	}
	t.Log(err)
}

func TestRingNoInterface(t *testing.T) {
	_, err := OpenRing(&Config{Interface: "pingcraft-none0"})
	if err == nil || !strings.HasPrefix(err.Error(), "capture: interface pingcraft-none0: ") {
		t.Errorf("OpenRing on a missing interface: %v", err)
	}
	// A jump beyond the end: x/net/bpf refuses it before the kernel could.
	_, err = OpenRing(&Config{Interface: "lo", Program: []bpf.RawInstruction{{Op: 0x05, K: 7}}})
	if want := "capture: filter: "; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("OpenRing with a bad program: %v, want an error starting %q", err, want)
	}
}
