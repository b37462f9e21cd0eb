package ping

import (
	"context"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pingcraft/pingcraft/resolve"
)

// runMany runs an engine over the targets at addrs, all through c, and
// returns the events and every target's statistics.
func runMany(t *testing.T, cfg *Config, c *fakeConn, addrs []netip.Addr) ([]Event, []Stats) {
	t.Helper()
	c.many = true
	var targets []Target
	for _, a := range addrs {
		targets = append(targets, Target{Path: &resolve.Path{Target: a, Source: us, Interface: "eth0", Index: 2}, Conn: c})
	}
	var events []Event
	var e *Engine
	e, err := New(cfg, targets, func(ev *Event) {
		events = append(events, *ev)
		s := e.targets[ev.Target].stats
		if s.Transmitted != s.Received+s.TimedOut+s.Outstanding {
			t.Errorf("%s after %v seq %d: transmitted %d != received %d + timed out %d + outstanding %d",
				ev.Addr, ev.Kind, ev.Seq, s.Transmitted, s.Received, s.TimedOut, s.Outstanding)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.Run(ctx); err != nil {
		t.Fatal(err)
	}
	c.stop()
	var st []Stats
	for i := range addrs {
		st = append(st, e.Stats(i))
	}
	return events, st
}

var manyAddrs = []netip.Addr{netip.MustParseAddr("198.18.64.1"), netip.MustParseAddr("198.18.64.2"), netip.MustParseAddr("198.18.64.3")}

// TestPacedTurns: targets take turns in the order given, each probe at
// least the gap after the one before, each target at its own interval.
func TestPacedTurns(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		gap  time.Duration
	}{
		{"gap", Config{Count: 3, Interval: 60 * time.Millisecond, Gap: 10 * time.Millisecond, Timeout: time.Second, Size: 56}, 10 * time.Millisecond},
		{"rate", Config{Count: 3, Interval: 60 * time.Millisecond, Rate: 200, Timeout: time.Second, Size: 56}, 5 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				evs, st := runMany(t, &tc.cfg, newFakeConn(func(uint16) answer { return answer{id: -1} }), manyAddrs)
				var order []string
				var prev time.Time
				last := map[netip.Addr]time.Time{}
				for _, ev := range evs {
					if ev.Kind != EventSent {
						continue
					}
					order = append(order, ev.Addr.String()+" "+itoa(ev.Seq))
					if !prev.IsZero() && ev.At.Sub(prev) < tc.gap {
						t.Errorf("%s seq %d sent %v after the probe before, under the %v gap", ev.Addr, ev.Seq, ev.At.Sub(prev), tc.gap)
					}
					if l, ok := last[ev.Addr]; ok && ev.At.Sub(l) < tc.cfg.Interval-time.Millisecond {
						t.Errorf("%s seq %d sent %v after its last, under its %v interval", ev.Addr, ev.Seq, ev.At.Sub(l), tc.cfg.Interval)
					}
					prev, last[ev.Addr] = ev.At, ev.At
				}
				want := []string{
					"198.18.64.1 1", "198.18.64.2 1", "198.18.64.3 1",
					"198.18.64.1 2", "198.18.64.2 2", "198.18.64.3 2",
					"198.18.64.1 3", "198.18.64.2 3", "198.18.64.3 3",
				}
				if diff := cmp.Diff(want, order); diff != "" {
					t.Errorf("send order (-want +got):\n%s", diff)
				}
				for i, s := range st {
					if s.Transmitted != 3 || s.Received != 3 {
						t.Errorf("%s: %d sent, %d received", manyAddrs[i], s.Transmitted, s.Received)
					}
				}
			})
		})
	}
}

// TestUntilReply: fping's default mode. A target answering at once gets
// one probe; one answering the third gets three; a silent one gets
// 1+Retries, each waiting Backoff times longer than the one before.
func TestUntilReply(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newFakeConn(nil)
		c.fateTo = func(dst netip.Addr, seq uint16) answer {
			switch dst {
			case manyAddrs[0]:
				return answer{id: -1}
			case manyAddrs[1]:
				return answer{id: -1, drop: seq < 3}
			}
			return answer{drop: true}
		}
		cfg := &Config{UntilReply: true, Retries: 3, Backoff: 2, Timeout: 20 * time.Millisecond, Interval: time.Second, Size: 56}
		evs, st := runMany(t, cfg, c, manyAddrs)
		got := []Stats{}
		for _, s := range st {
			got = append(got, Stats{Transmitted: s.Transmitted, Received: s.Received, TimedOut: s.TimedOut})
		}
		want := []Stats{{Transmitted: 1, Received: 1}, {Transmitted: 3, Received: 1, TimedOut: 2}, {Transmitted: 4, TimedOut: 4}}
		if diff := cmp.Diff(want, got, cmp.AllowUnexported(Stats{})); diff != "" {
			t.Errorf("per target (-want +got):\n%s", diff)
		}
		// The silent target's tries: each waits 20, 40, 80, 160ms.
		var sends []time.Time
		for _, ev := range evs {
			if ev.Kind == EventSent && ev.Addr == manyAddrs[2] {
				sends = append(sends, ev.At)
			}
		}
		for i := 1; i < len(sends); i++ {
			if wait, min := sends[i].Sub(sends[i-1]), cfg.Timeout<<(i-1); wait < min {
				t.Errorf("try %d sent %v after try %d, want at least its %v timeout", i+1, wait, i, min)
			}
		}
	})
}

func TestPacedRefusesFlood(t *testing.T) {
	c := newFakeConn(nil)
	targets := []Target{{Path: &resolve.Path{Target: manyAddrs[0]}, Conn: c}, {Path: &resolve.Path{Target: manyAddrs[1]}, Conn: c}}
	if _, err := New(&Config{Flood: true}, targets, nil); err == nil {
		t.Error("flood over two targets accepted")
	}
}

// TestDueQueueOrder: the queue hands targets out by due time, ties in the
// order they went in, across lanes of different delays, as a sort would.
func TestDueQueueOrder(t *testing.T) {
	var q dueQueue
	ts := make([]target, 40)
	now := int64(0)
	for i := range ts {
		ts[i].index = i
		q.push(&ts[i], 0)
	}
	var got []int
	for round := 0; q.len() > 0; round++ {
		tg := q.pop()
		got = append(got, tg.index)
		if round < 200 {
			// Each goes back in after one of three delays, the clock
			// moving on as the schedule's does.
			now += int64(round % 2)
			d := []int64{5, 7, 5, 11}[tg.index%4]
			tg.due = now + d
			q.push(tg, d)
		}
	}
	if len(got) != 240 {
		t.Fatalf("%d pops, want 240", len(got))
	}
	// The same pushes replayed on a list searched for the least (due,
	// turn) each time.
	type item struct {
		idx  int
		due  int64
		turn int
	}
	var list []item
	turn := 0
	for i := range ts {
		list = append(list, item{i, 0, turn})
		turn++
	}
	now = 0
	var sim []int
	for round := 0; len(list) > 0; round++ {
		best := 0
		for j, it := range list {
			if it.due < list[best].due || it.due == list[best].due && it.turn < list[best].turn {
				best = j
			}
		}
		it := list[best]
		list = append(list[:best], list[best+1:]...)
		sim = append(sim, it.idx)
		if round < 200 {
			now += int64(round % 2)
			d := []int64{5, 7, 5, 11}[it.idx%4]
			list = append(list, item{it.idx, now + d, turn})
			turn++
		}
	}
	if diff := cmp.Diff(sim, got); diff != "" {
		t.Errorf("pop order (-sorted +queue):\n%s", diff)
	}
}

// TestPacedShortGapSleeps: a gap below gapStrict is kept on average, and
// the scheduler sleeps at least gapSleep for it: the probes of 20ms at a
// 100µs gap go in about 20 wake-ups, not 200.
func TestPacedShortGapSleeps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var addrs []netip.Addr
		a := netip.MustParseAddr("198.18.64.0")
		for range 200 {
			a = a.Next()
			addrs = append(addrs, a)
		}
		cfg := &Config{Count: 1, Gap: 100 * time.Microsecond, Interval: time.Second, Timeout: time.Second, Size: 56}
		evs, _ := runMany(t, cfg, newFakeConn(func(uint16) answer { return answer{id: -1} }), addrs)
		var first, last time.Time
		wakes := map[time.Time]bool{}
		for _, ev := range evs {
			if ev.Kind != EventSent {
				continue
			}
			if first.IsZero() {
				first = ev.At
			}
			last = ev.At
			wakes[ev.At] = true
		}
		if span := last.Sub(first); span < 19*time.Millisecond || span > 21*time.Millisecond {
			t.Errorf("200 probes at a 100µs gap took %v, want about 20ms", span)
		}
		if len(wakes) > 25 {
			t.Errorf("sent at %d instants, want about 20 (a wake-up a millisecond)", len(wakes))
		}
	})
}
