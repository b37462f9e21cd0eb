package ping

import (
	"time"
)

// probe is one slot of a target's window of recent probes.
// Times are kept as integers, 42 bytes instead of 97: a run with 10,000
// targets holds a window of these for each.
type probe struct {
	n        uint64 // 1 + the probe's number in its target's run; 0: empty
	sent     int64  // user send time, ns after the run's start (monotonic)
	deadline int64  // ns after the run's start
	kernel   int64  // kernel (or NIC) send stamp, Unix ns (NIC: its clock); 0: none
	payload  int64  // the send time written into the data, Unix ns
	state    uint8
	kclock   StampSource // kernel's clock: StampKernel or StampHardware
}

const (
	pending uint8 = iota + 1
	replied
	timedOut
)

// target is one destination's state: its window of recent probes and its
// statistics. Everything in it is guarded by the engine's lock.
type target struct {
	Target
	index  int
	due    int64  // paced runs: when the next probe goes, ns after the start
	turn   uint64 // paced runs: when it went into the schedule's queue, for ties
	id     uint16
	next   uint64 // number of the next probe
	newest uint64 // number of the newest probe that was answered
	// slowest is the longest a reply took to reach the engine (monotonic
	// clock): the RTT plus what the receive path adds, such as a ring's
	// block timeout. Lingering is measured in it.
	slowest time.Duration
	window  []probe
	stats   Stats
}

// slotOf is the window slot of t's probe n.
func (t *target) slotOf(n uint64) *probe {
	return &t.window[(n-1)&uint64(len(t.window)-1)]
}

// find returns the slot of t's probe with this seq, if it is still known.
func (t *target) find(seq uint16) *probe {
	// The newest probe numbered seq modulo 65536 that was sent.
	n := t.next - uint64(uint16(t.next)-seq)
	if n == 0 || n > t.next || t.next-n >= uint64(len(t.window)) {
		return nil
	}
	p := t.slotOf(n)
	if p.n != n {
		return nil
	}
	return p
}

// queued is a pending probe in the timeout queue.
type queued struct {
	t *target
	n uint64
}

func (e *Engine) slot(q queued) *probe { return q.t.slotOf(q.n) }

// live reports whether q's probe still waits for its reply.
func (e *Engine) live(q queued) (*probe, bool) {
	p := e.slot(q)
	return p, p.n == q.n && p.state == pending
}

// enqueue appends q to the queue, moving the queue back to the front of
// its array when it reaches the end, so that a steady flood allocates none.
func (e *Engine) enqueue(q queued) {
	if len(e.queue) == cap(e.queue) {
		if len(e.queue) < cap(e.qbuf)/2 {
			e.queue = e.qbuf[:copy(e.qbuf[:cap(e.qbuf)], e.queue)]
		} else {
			e.qbuf = append(make([]queued, 0, 2*cap(e.qbuf)+16), e.queue...)
			e.queue = e.qbuf
		}
	}
	e.queue = append(e.queue, q)
}

// expire times out pending probes whose deadline passed. e.mu is held.
func (e *Engine) expire(now time.Time) {
	i := 0
	for ; i < len(e.queue); i++ {
		p, ok := e.live(e.queue[i])
		if !ok {
			continue // answered, or its slot was reused
		}
		if now.Before(e.mono(p.deadline)) {
			break
		}
		e.timeout(e.queue[i].t, p)
	}
	e.queue = e.queue[i:]
}

// abandon ends the run's outstanding probes now, as lost: the end of every
// run, whichever scheduler ran it, keeps the counts whole. e.mu is held.
func (e *Engine) abandon(now time.Time) {
	for _, q := range e.queue {
		if p, ok := e.live(q); ok {
			p.deadline = e.off(now)
			e.timeout(q.t, p)
		}
	}
	e.queue = e.queue[:0]
}

// nextDeadline is when the oldest pending probe times out (zero: none),
// dropping ended probes from the front of the queue. e.mu is held.
func (e *Engine) nextDeadline() time.Time {
	for len(e.queue) > 0 {
		if p, ok := e.live(e.queue[0]); ok {
			return e.mono(p.deadline)
		}
		e.queue = e.queue[1:]
	}
	return time.Time{}
}

func (e *Engine) timeout(t *target, p *probe) {
	p.state = timedOut
	t.stats.Outstanding--
	t.stats.TimedOut++
	e.emit(Event{Kind: EventTimeout, Target: t.index, Addr: t.Path.Target, ID: t.id, Seq: uint16(p.n), At: e.mono(p.deadline)})
}

// mono is the time off ns after the run's start, with a monotonic reading.
func (e *Engine) mono(off int64) time.Time { return e.start.Add(time.Duration(off)) }

// off is t as ns after the run's start.
func (e *Engine) off(t time.Time) int64 { return int64(t.Sub(e.start)) }
