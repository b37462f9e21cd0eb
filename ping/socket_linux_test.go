package ping

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/lab"
	"github.com/pingcraft/pingcraft/lab/labtest"
	"github.com/pingcraft/pingcraft/resolve"
)

// openPingGroups lets every group use ping sockets in n's namespace.
func openPingGroups(n *lab.Node) error {
	return n.Do(func() error {
		return os.WriteFile("/proc/sys/net/ipv4/ping_group_range", []byte("0 2147483647"), 0o644)
	})
}

// runIn resolves target in n, opens mode and runs the engine there.
func runIn(t *testing.T, n *lab.Node, target netip.Addr, mode Mode, cfg *Config) ([]Event, Stats, uint16) {
	t.Helper()
	var events []Event
	var st Stats
	var id uint16
	err := n.Do(func() error {
		p, err := resolve.New().Resolve(context.Background(), target.String(), nil)
		if err != nil {
			return err
		}
		c, err := openTransport(p, mode, 0x7063)
		if err != nil {
			return err
		}
		defer c.Close()
		e, err := New(cfg, []Target{{Path: p, Conn: c}}, func(ev *Event) { events = append(events, *ev) })
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.Run(ctx); err != nil {
			return err
		}
		st, id = e.Stats(0), e.ID(0)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return events, st, id
}

// openTransport is Open without auto: the tests name the mode.
func openTransport(p *resolve.Path, mode Mode, id uint16) (Conn, error) {
	switch mode {
	case ModeRaw, ModeDgram:
		return openSocketConn(p, mode, id)
	}
	return nil, fmt.Errorf("mode %v: not a socket transport", mode)
}

func TestSocketTransports(t *testing.T) {
	for _, mode := range []Mode{ModeRaw, ModeDgram} {
		for _, six := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/v6=%v", mode, six), func(t *testing.T) {
				l := labtest.NewPrefixed(t, "ts-")
				if err := openPingGroups(l.Host); err != nil {
					t.Fatal(err)
				}
				target, router, unreach := l.Target4, l.Router4, l.Unreachable4.Addr().Next()
				if six {
					target, router, unreach = l.Target6, l.Router6, l.Unreachable6.Addr().Next()
				}
				cfg := &Config{Count: 3, Interval: 20 * time.Millisecond, Timeout: time.Second, Size: 56}

				evs, st, id := runIn(t, l.Host, target, mode, cfg)
				if st.Transmitted != 3 || st.Received != 3 || st.Errors != 0 {
					t.Errorf("to the target: %+v", st)
				}
				for _, ev := range evs {
					if ev.Kind == EventReply && (!ev.HasTTL || ev.TTL != 63 || ev.From != target || ev.Bytes != 64 || ev.ID != id) {
						t.Errorf("reply %+v: want TTL 63 from %v, 64 bytes, id %d", ev, target, id)
					}
					if ev.Kind == EventReply && (ev.Stamp != StampKernel || ev.SendClock != StampKernel || ev.ReceiveClock != StampKernel) {
						t.Errorf("reply stamps %v (send %v, receive %v): a socket on a veth is stamped by the kernel both ways", ev.Stamp, ev.SendClock, ev.ReceiveClock)
					}
				}
				if mode == ModeRaw && id != 0x7063 {
					t.Errorf("raw socket probes carry id %#x, want ours, 0x7063", id)
				}

				cfg.TTL = 1
				evs, st, _ = runIn(t, l.Host, target, mode, cfg)
				checkErrors(t, evs, st, router, craft.ErrTimeExceeded)

				cfg.TTL = 0
				evs, st, _ = runIn(t, l.Host, unreach, mode, cfg)
				checkErrors(t, evs, st, router, craft.ErrUnreachable)
			})
		}
	}
}

func checkErrors(t *testing.T, evs []Event, st Stats, from netip.Addr, kind craft.ErrorKind) {
	t.Helper()
	if st.Received != 0 || st.Errors != 3 || st.TimedOut != 3 {
		t.Errorf("want 3 %v errors and 3 timeouts: %+v", kind, st)
	}
	for _, ev := range evs {
		if ev.Kind == EventICMPError && (ev.From != from || ev.Error.Kind != kind) {
			t.Errorf("error event %v %q from %v, want %v from %v", ev.Error.Kind, ev.Error.String(), ev.From, kind, from)
		}
	}
}
