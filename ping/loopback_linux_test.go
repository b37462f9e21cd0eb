package ping

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pingcraft/pingcraft/lab/labtest"
)

// TestLoopbackBesideRemote: with loopback targets (127.0.0.1, or the
// host's own address, which is reached through lo too) beside a remote
// one, the raw sockets on lo must not count the remote target's replies,
// which its ring counts already: the socket bound to the host's address
// sees them unless it is bound to lo too. The responder in the target counts what was
// answered, independently of the engine.
func TestLoopbackBesideRemote(t *testing.T) {
	l := labtest.New(t)
	for _, six := range []bool{false, true} {
		loop, own, remote := netip.MustParseAddr("127.0.0.1"), l.Host4, l.Target4
		if six {
			loop, own, remote = netip.IPv6Loopback(), l.Host6, l.Target6
		}
		addrs := []netip.Addr{loop, own, remote}
		t.Run(remote.String(), func(t *testing.T) {
			resp, err := labtest.Respond(l.Target, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Close()
			const count = 10
			var f *Fleet
			if err := l.Host.Do(func() (err error) {
				f, err = NewFleet(t.Context(), []string{loop.String(), own.String(), remote.String()},
					&Config{Count: count, Interval: 20 * time.Millisecond, Timeout: 2 * time.Second}, nil)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if n := len(f.Conns()); n != 3 {
				t.Fatalf("%d conns, want two on lo and one on %s", n, l.HostLink)
			}
			e, err := f.Engine(nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Run(t.Context()); err != nil {
				t.Fatal(err)
			}
			for i, a := range addrs {
				st := e.Stats(i)
				if st.Transmitted != count || st.Received != count || st.Duplicates != 0 || st.Errors != 0 {
					t.Errorf("%s: %d transmitted, %d received, %d duplicates, %d errors; want %d, %d, 0, 0",
						a, st.Transmitted, st.Received, st.Duplicates, st.Errors, count, count)
				}
			}
			if got, st := resp.Stats().Replies, e.Stats(2); got != st.Received+st.Duplicates {
				t.Errorf("the responder sent %d replies, the engine counted %d replies and %d duplicates", got, st.Received, st.Duplicates)
			}
		})
	}
}
