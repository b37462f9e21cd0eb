package ping

import (
	"context"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/resolve"
)

// loopConn answers every probe at once, as a veth round trip inside the
// send call does, so that a flood measures the engine and nothing else.
type loopConn struct {
	waiting bool
	reply   Received
	data    []byte
}

func (l *loopConn) Mode() Mode { return ModeRaw }

func (l *loopConn) Send(e *craft.Echo) (time.Time, error) {
	l.data = append(l.data[:0], e.Payload...)
	l.reply.Packet = craft.Packet{Class: craft.ClassEchoReply, IPVersion: 4, Src: e.Dst, Dst: e.Src,
		TTL: 64, ID: e.ID, Seq: e.Seq, Payload: l.data}
	l.reply.From, l.reply.TTL, l.reply.HasTTL, l.reply.Bytes = e.Dst, 64, true, 8+len(l.data)
	l.waiting = true
	return time.Now(), nil
}

func (l *loopConn) Receive(r *Received) error {
	if !l.waiting {
		return os.ErrDeadlineExceeded
	}
	l.waiting = false
	*r = l.reply
	r.At, r.Stamp = time.Now(), StampUser
	return nil
}

func (l *loopConn) SetReceiveDeadline(time.Time) error { return nil }
func (l *loopConn) ID() uint16                         { return 0x1234 }
func (l *loopConn) Drops() (uint64, error)             { return 0, nil }
func (l *loopConn) Close() error                       { return nil }

// BenchmarkFloodRoundTrip is the engine's own cost of one flood round trip
// (send, receive, match, check, count, two events), without any socket.
func BenchmarkFloodRoundTrip(b *testing.B) {
	b.ReportAllocs()
	events := 0
	e, err := New(&Config{Count: b.N, Flood: true, Size: DefaultSize, Timeout: time.Second},
		[]Target{{Path: path(), Conn: &loopConn{}}}, func(*Event) { events++ })
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	if err := e.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if st := e.Stats(0); st.Received != b.N {
		b.Fatalf("%d of %d replies counted", st.Received, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rt/s")
}

// TestEnqueueKeepsOrder: the queue survives being moved to the front of its
// array and grown, in any interleaving of appends and pops.
func TestEnqueueKeepsOrder(t *testing.T) {
	e := &Engine{}
	var want []uint64
	n := uint64(0)
	for round := range 200 {
		for range round%7 + 1 {
			n++
			e.enqueue(queued{n: n})
			want = append(want, n)
		}
		for range round % 5 {
			if len(e.queue) == 0 {
				break
			}
			if e.queue[0].n != want[0] {
				t.Fatalf("round %d: head %d, want %d", round, e.queue[0].n, want[0])
			}
			e.queue, want = e.queue[1:], want[1:]
		}
	}
	for i, q := range e.queue {
		if q.n != want[i] {
			t.Fatalf("queue[%d] = %d, want %d", i, q.n, want[i])
		}
	}
	if len(e.queue) != len(want) {
		t.Fatalf("%d queued, want %d", len(e.queue), len(want))
	}
}

// BenchmarkTargetMemory is the engine's heap per target of a many-target
// run (fping -c style: 1 s period and timeout), windows and statistics
// included, the resolved paths not. Reported as B/target.
func BenchmarkTargetMemory(b *testing.B) {
	const n = 10000
	c := &loopConn{}
	for range b.N {
		targets := make([]Target, n)
		paths := make([]resolve.Path, n)
		a := netip.MustParseAddr("198.18.64.0")
		for i := range targets {
			a = a.Next()
			paths[i] = resolve.Path{Target: a}
			targets[i] = Target{Path: &paths[i], Conn: c}
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		e, err := New(&Config{Count: 5, Interval: time.Second, Timeout: time.Second, Size: DefaultSize}, targets, nil)
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/target")
		runtime.KeepAlive(e)
	}
}

// queueConn answers every probe at once through a queue, for runs over
// many targets; its buffers are reused so that it allocates nothing.
type queueConn struct {
	q    chan int
	bufs [][]byte
	pk   []craft.Packet
	next int
	dl   atomic.Int64
	poke chan struct{} // a new deadline: Receive looks again
}

func newQueueConn(n int) *queueConn {
	c := &queueConn{q: make(chan int, n), bufs: make([][]byte, n), pk: make([]craft.Packet, n), poke: make(chan struct{}, 1)}
	for i := range c.bufs {
		c.bufs[i] = make([]byte, 0, 128)
	}
	return c
}

func (c *queueConn) Mode() Mode { return ModeRaw }

func (c *queueConn) Send(e *craft.Echo) (time.Time, error) {
	i := c.next % len(c.bufs)
	c.next++
	c.bufs[i] = append(c.bufs[i][:0], e.Payload...)
	c.pk[i] = craft.Packet{Class: craft.ClassEchoReply, IPVersion: 4, Src: e.Dst, Dst: e.Src, TTL: 64, ID: e.ID, Seq: e.Seq, Payload: c.bufs[i]}
	c.q <- i
	return time.Now(), nil
}

func (c *queueConn) Receive(r *Received) error {
	select {
	case i := <-c.q:
		*r = Received{Packet: c.pk[i], From: c.pk[i].Src, TTL: 64, HasTTL: true, Bytes: 8 + len(c.bufs[i]), At: time.Now(), Stamp: StampUser}
		return nil
	default:
	}
	wait := time.Until(time.Unix(0, c.dl.Load()))
	if wait <= 0 {
		return os.ErrDeadlineExceeded
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case i := <-c.q:
		*r = Received{Packet: c.pk[i], From: c.pk[i].Src, TTL: 64, HasTTL: true, Bytes: 8 + len(c.bufs[i]), At: time.Now(), Stamp: StampUser}
		return nil
	case <-t.C:
		return os.ErrDeadlineExceeded
	case <-c.poke:
		return os.ErrDeadlineExceeded // the caller sets a new one and calls again
	}
}

func (c *queueConn) SetReceiveDeadline(t time.Time) error {
	if old := c.dl.Swap(t.UnixNano()); t.UnixNano() >= old {
		return nil // a later deadline: the waiting Receive may keep its timer
	}
	select {
	case c.poke <- struct{}{}:
	default:
	}
	return nil
}
func (c *queueConn) ID() uint16             { return 0x1234 }
func (c *queueConn) Drops() (uint64, error) { return 0, nil }
func (c *queueConn) Close() error           { return nil }

// BenchmarkManyTargets is one round of probes to 10,000 and to 100,000
// targets through a paced run (send, receive, match, two events each), per
// probe: the hot path of send over many targets, sockets aside. Run with
// -memprofile to see what it allocates.
func BenchmarkManyTargets(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) { benchManyTargets(b, n) })
	}
}

func benchManyTargets(b *testing.B, n int) {
	targets := make([]Target, n)
	c := newQueueConn(2 * n)
	a := netip.MustParseAddr("198.18.64.0")
	for i := range targets {
		a = a.Next()
		targets[i] = Target{Path: &resolve.Path{Target: a}, Conn: c}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		e, err := New(&Config{Count: 1, Interval: time.Second, Timeout: time.Second, Size: DefaultSize}, targets, func(*Event) {})
		if err != nil {
			b.Fatal(err)
		}
		if err := e.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
		if st := e.Stats(n - 1); st.Received != 1 {
			b.Fatalf("last target: %+v", st)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/probe")
}

// BenchmarkPacedProbe is the engine's CPU per probe of a paced run held at
// 1,000, 10,000 and 100,000 targets (200,000 probes a second in all, each
// target's interval growing with their number; replies at once through a
// fake network), and what it allocates per probe once the
// run has started: the schedule, the windows and the matching should cost
// the same per probe whatever the number of targets. cpu-ns/probe is the
// process's CPU time (rusage: scheduler, receiver and fake network) over
// the probes; allocs/probe counts the heap allocations during Run.
func BenchmarkPacedProbe(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			targets := make([]Target, n)
			paths := make([]resolve.Path, n)
			c := newQueueConn(2 * n)
			a := netip.MustParseAddr("198.18.64.0")
			for i := range targets {
				a = a.Next()
				paths[i] = resolve.Path{Target: a}
				targets[i] = Target{Path: &paths[i], Conn: c}
			}
			rounds := max(1, b.N/n)
			events := 0
			interval := time.Duration(n) * 5 * time.Microsecond
			e, err := New(&Config{Count: rounds, Interval: interval, Timeout: 5 * interval, Size: DefaultSize},
				targets, func(ev *Event) {
					if ev.Kind == EventReply {
						events++
					}
				})
			if err != nil {
				b.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			cpu0 := cpuTime(b)
			b.ResetTimer()
			if err := e.Run(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			cpu := cpuTime(b) - cpu0
			runtime.ReadMemStats(&after)
			probes := float64(rounds * n)
			if events != rounds*n {
				b.Logf("%d of %d probes answered in time", events, rounds*n)
			}
			b.ReportMetric(float64(cpu.Nanoseconds())/probes, "cpu-ns/probe")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/probes, "allocs/probe")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// cpuTime is the process's user and system time so far.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
