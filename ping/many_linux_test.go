package ping

import (
	"context"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pingcraft/pingcraft/lab/labtest"
	"github.com/pingcraft/pingcraft/resolve"
)

// TestManyTargetsOneConn: one Conn of each mode serves several targets of
// one family through one engine: every target gets its own replies, all
// of them, and nobody else's.
func TestManyTargetsOneConn(t *testing.T) {
	l := labtest.New(t)
	for _, six := range []bool{false, true} {
		addrs := []netip.Addr{l.Target4, l.Many4.Addr().Next(), l.Many4.Addr().Next().Next(), l.Many4.Addr().Next().Next().Next()}
		if six {
			addrs = []netip.Addr{l.Target6, l.Many6.Addr().Next(), l.Many6.Addr().Next().Next(), l.Many6.Addr().Next().Next().Next()}
		}
		for _, mode := range []Mode{ModeEthernet, ModeIP, ModeRaw, ModeDgram} {
			name := mode.String() + map[bool]string{false: "/4", true: "/6"}[six]
			t.Run(name, func(t *testing.T) {
				var conn Conn
				var targets []Target
				if err := l.Host.Do(func() error {
					if err := os.WriteFile("/proc/sys/net/ipv4/ping_group_range", []byte("0 2147483647"), 0o644); err != nil {
						return err
					}
					for _, a := range addrs {
						p, err := resolve.New().Resolve(context.Background(), a.String(), nil)
						if err != nil {
							return err
						}
						targets = append(targets, Target{Path: p})
					}
					var err error
					conn, err = open(targets[0].Path, mode, &OpenConfig{ID: 0x4d4e})
					return err
				}); err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				for i := range targets {
					targets[i].Conn = conn
				}
				got := map[netip.Addr][]uint16{}
				e, err := New(&Config{Count: 3, Interval: 20 * time.Millisecond, Timeout: 2 * time.Second, Size: DefaultSize}, targets, func(ev *Event) {
					if ev.Kind != EventSent {
						got[ev.Addr] = append(got[ev.Addr], ev.Seq)
						if ev.Kind != EventReply || ev.From != ev.Addr {
							t.Errorf("%v from %s for %s seq %d", ev.Kind, ev.From, ev.Addr, ev.Seq)
						}
					}
				})
				if err != nil {
					t.Fatal(err)
				}
				if err := e.Run(t.Context()); err != nil {
					t.Fatal(err)
				}
				want := map[netip.Addr][]uint16{}
				for i, a := range addrs {
					want[a] = []uint16{1, 2, 3}
					if st := e.Stats(i); st.Transmitted != 3 || st.Received != 3 {
						t.Errorf("%s: %d transmitted, %d received", a, st.Transmitted, st.Received)
					}
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("replies per target (-want +got):\n%s", diff)
				}
			})
		}
	}
}
