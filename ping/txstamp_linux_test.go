package ping

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/lab"
	"github.com/pingcraft/pingcraft/lab/labtest"
	"github.com/pingcraft/pingcraft/resolve"
)

// The numbering of send stamps: a stamp finds the probe reserved under its
// number; one of an older count (its time before the probe's send) or of a
// number never given does not.
func TestTxStampsMatch(t *testing.T) {
	ts := &txStamps{}
	t0 := time.Unix(1_800_000_000, 0)
	dst := netip.MustParseAddr("198.18.1.2")
	for i := range 3 {
		ts.reserve(dst, 7, uint16(i+1), t0.Add(time.Duration(i)*time.Millisecond))
	}
	for _, tc := range []struct {
		name       string
		key        uint32
		at         time.Time
		hw         bool
		seq        uint16
		newest, ok bool
	}{
		{"first", 0, t0.Add(time.Microsecond), false, 1, false, true},
		{"newest", 2, t0.Add(2*time.Millisecond + time.Microsecond), false, 3, true, true},
		{"before its probe left: an older count's", 1, t0.Add(time.Microsecond), false, 0, false, false},
		{"never given", 3, t0.Add(time.Hour), false, 0, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, newest, ok := ts.match(tc.key, tc.at, tc.hw)
			if ok != tc.ok || newest != tc.newest || ok && (s.seq != tc.seq || s.dst != dst || s.id != 7) {
				t.Errorf("match(%d) = %+v, newest %v, ok %v; want seq %d, newest %v, ok %v", tc.key, s, newest, ok, tc.seq, tc.newest, tc.ok)
			}
		})
	}
	if ts.awaiting() {
		t.Errorf("the newest send's stamp was read, yet awaiting")
	}

	// A failed send (seq 4) restarts the kernel's numbering: seq 5 is 0
	// again, while the stamp of seq 1, numbered 0 too, may still be
	// queued.
	ts.reserve(dst, 7, 4, t0.Add(5*time.Millisecond))
	if !ts.awaiting() {
		t.Errorf("a send's stamp is to come, yet not awaiting")
	}
	ts.restart()
	if ts.awaiting() {
		t.Errorf("a failed send's stamp awaited")
	}
	ts.reserve(dst, 7, 5, t0.Add(10*time.Millisecond))
	if s, newest, ok := ts.match(0, t0.Add(10*time.Millisecond+time.Microsecond), false); !ok || !newest || s.seq != 5 {
		t.Errorf("0 after the restart: %+v newest %v ok %v, want seq 5, the newest", s, newest, ok)
	}
	if s, newest, ok := ts.match(0, t0.Add(time.Microsecond), false); !ok || newest || s.seq != 1 {
		t.Errorf("0 of the numbering before: %+v newest %v ok %v, want seq 1", s, newest, ok)
	}
	if _, _, ok := ts.match(3, t0.Add(time.Hour), false); ok {
		t.Errorf("3 of the numbering before, never given, matched")
	}

	// A NIC's stamp is in its own clock: not compared with the user's.
	// Once one came, the NIC's stamp of the newest send is awaited too.
	nic := &txStamps{hardware: true}
	nic.reserve(dst, 7, 1, t0)
	if s, _, ok := nic.match(0, t0.Add(time.Microsecond), false); !ok || s.seq != 1 {
		t.Errorf("software stamp on a NIC: %+v ok %v", s, ok)
	}
	nic.reserve(dst, 7, 2, t0.Add(time.Millisecond))
	if s, _, ok := nic.match(0, time.Unix(5, 0), true); !ok || s.seq != 1 {
		t.Errorf("NIC stamp: %+v ok %v, want seq 1", s, ok)
	}
	if _, _, ok := nic.match(1, t0.Add(time.Millisecond+time.Microsecond), false); !ok || !nic.awaiting() {
		t.Errorf("seq 2's software stamp: ok %v; want the NIC's still awaited", ok)
	}
	if _, _, ok := nic.match(1, time.Unix(6, 0), true); !ok || nic.awaiting() {
		t.Errorf("seq 2's NIC stamp: ok %v; want nothing more awaited", ok)
	}
}

// outgoing collects the send stamps c delivers within d, by seq; replies
// and errors are read and dropped.
func outgoing(t *testing.T, c Conn, d time.Duration) map[uint16]Received {
	t.Helper()
	got := map[uint16]Received{}
	c.SetReceiveDeadline(time.Now().Add(d))
	for {
		var r Received
		err := c.Receive(&r)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return got
		}
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		if r.Outgoing {
			if !r.Own {
				t.Errorf("a socket's send stamp not marked Own: %+v", r)
			}
			got[r.Packet.Seq] = r
		}
	}
}

// nft runs nft in n's namespace.
func nft(n *lab.Node, args ...string) error {
	out, err := n.Command(context.Background(), "nft", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("nft %v: %v: %s", args, err, out)
	}
	return nil
}

// Kernel send stamps on the raw and ping sockets: every probe's comes from
// the error queue, after the user-space time before its send and before
// Send returned, and still every probe's after sends that failed before the
// kernel numbered them (EACCES for a broadcast) and after it had (EPERM
// from a firewall), so that the numbering never slips.
func TestTxStamp(t *testing.T) {
	labtest.RequireTool(t, "nft", "nftables")
	for _, mode := range []Mode{ModeRaw, ModeDgram} {
		for _, six := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/v6=%v", mode, six), func(t *testing.T) {
				l := labtest.NewPrefixed(t, "ts-")
				if err := openPingGroups(l.Host); err != nil {
					t.Fatal(err)
				}
				target := l.Target4
				if six {
					target = l.Target6
				}
				err := l.Host.Do(func() error {
					p, err := resolve.New().Resolve(context.Background(), target.String(), nil)
					if err != nil {
						return err
					}
					c, err := openSocketConn(p, mode, 0x7473)
					if err != nil {
						return err
					}
					defer c.Close()
					if send, recv := ClocksOf(c); send != StampKernel || recv != StampKernel {
						t.Errorf("clocks on a veth: send %v, receive %v; want the kernel's both ways", send, recv)
					}
					if c.ts == nil || c.ts.hardware {
						t.Errorf("send stamps %+v: want software ones (a veth offers no NIC stamps)", c.ts)
					}
					// The choice is made from what the interface says,
					// not from a failed question.
					var info *unix.EthtoolTsInfo
					var ierr error
					c.rc.Control(func(fd uintptr) { info, ierr = unix.IoctlGetEthtoolTsInfo(int(fd), l.HostLink) })
					const sw = unix.SOF_TIMESTAMPING_TX_SOFTWARE | unix.SOF_TIMESTAMPING_RX_SOFTWARE | unix.SOF_TIMESTAMPING_SOFTWARE
					if ierr != nil || info.So_timestamping&sw != sw || info.So_timestamping&unix.SOF_TIMESTAMPING_TX_HARDWARE != 0 {
						t.Errorf("ETHTOOL_GET_TS_INFO on %s: %+v, %v; want software stamping only", l.HostLink, info, ierr)
					}
					var before, after [8]time.Time
					send := func(seq uint16, dst netip.Addr) error {
						e := craft.Echo{ID: c.ID(), Seq: seq, Dst: dst, Payload: make([]byte, 56)}
						before[seq] = time.Now()
						_, err := c.Send(&e)
						after[seq] = time.Now()
						return err
					}
					if err := send(1, target); err != nil {
						return err
					}
					if !six {
						// Refused before the kernel numbers the send.
						if err := send(2, netip.MustParseAddr("198.18.0.255")); !errors.Is(err, syscall.EACCES) {
							t.Errorf("send to the broadcast address: %v, want EACCES", err)
						}
					}
					rule := map[bool]string{false: "icmp type echo-request", true: "icmpv6 type echo-request"}[six]
					if err := errors.Join(nft(l.Host, "add table inet pcts"),
						nft(l.Host, "add chain inet pcts out { type filter hook output priority 0; }"),
						nft(l.Host, "add rule inet pcts out "+rule+" drop")); err != nil {
						return err
					}
					// Dropped after the kernel numbered it.
					// Raw IPv4 sockets report the drop (EPERM), ping
					// sockets not always: either way no stamp comes.
					if err := send(3, target); err != nil && !errors.Is(err, syscall.EPERM) {
						t.Errorf("send through a dropping firewall: %v, want EPERM or nothing", err)
					}
					if err := nft(l.Host, "delete table inet pcts"); err != nil {
						return err
					}
					for seq := uint16(4); seq <= 6; seq++ {
						if err := send(seq, target); err != nil {
							return err
						}
					}
					got := outgoing(t, c, 300*time.Millisecond)
					for _, seq := range []uint16{1, 4, 5, 6} {
						r, ok := got[seq]
						switch {
						case !ok:
							t.Errorf("seq %d: no send stamp", seq)
						case r.Stamp != StampKernel || r.Packet.Dst != target || r.Packet.ID != c.ID():
							t.Errorf("seq %d: stamp %+v, want the kernel's for %v id %d", seq, r, target, c.ID())
						case r.At.Before(before[seq]) || r.At.After(after[seq]):
							t.Errorf("seq %d: stamped at %v, outside its send call [%v, %v]", seq, r.At, before[seq], after[seq])
						}
					}
					for _, seq := range []uint16{2, 3} {
						if _, ok := got[seq]; ok {
							t.Errorf("seq %d never left but has a send stamp", seq)
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// Every reply of a run is timed by the kernel's stamps both ways, in a
// flood (one goroutine sends and receives) as in a paced run (a receiving
// goroutine reads the stamps).
func TestTxStampRun(t *testing.T) {
	l := labtest.NewPrefixed(t, "ts-")
	if err := openPingGroups(l.Host); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mode Mode
		cfg  Config
	}{
		{ModeRaw, Config{Count: 200, Flood: true, Interval: 10 * time.Millisecond, Timeout: time.Second, Size: 56}},
		{ModeRaw, Config{Count: 20, Interval: time.Millisecond, Timeout: time.Second, Size: 56}},
		{ModeDgram, Config{Count: 20, Interval: 2 * time.Millisecond, Timeout: time.Second, Size: 56}},
	} {
		t.Run(fmt.Sprintf("%v/flood=%v", tc.mode, tc.cfg.Flood), func(t *testing.T) {
			evs, st, _ := runIn(t, l.Host, l.Target4, tc.mode, &tc.cfg)
			if st.Received != tc.cfg.Count {
				t.Errorf("received %d of %d", st.Received, tc.cfg.Count)
			}
			user := 0
			for _, ev := range evs {
				if ev.Kind == EventReply && (ev.SendClock != StampKernel || ev.ReceiveClock != StampKernel) {
					user++
				}
			}
			if user > 0 {
				t.Errorf("%d of %d replies not timed by the kernel both ways", user, st.Received)
			}
		})
	}
}
