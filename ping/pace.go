package ping

import (
	"context"
	"time"
)

// A gap of gapStrict or more is a minimum between any two probes, as
// fping's -i; a shorter one, below what a sleep can hit, is kept on
// average, and gapCatchUp bounds how far its clock may lag behind: how
// many probes may go back to back after a late wake-up.
//
// gapSleep is the least such a run sleeps for its gap alone: no timer hits
// 10µs, and a wake-up every few probes costs a context switch each (8% of
// the CPU of 100,000 probes a second); the millisecond's probes then go
// back to back, as the catch-up lets them anyway.
const (
	gapStrict  = 2 * time.Millisecond
	gapCatchUp = 10 * time.Millisecond
	gapSleep   = time.Millisecond
)

// runInFlight is the most probes a run over n targets may have in flight
// at once, which its receive ring or socket buffer is sized for: each
// target's outstanding probes times the targets (inFlight), and in a run
// paced by a gap or a rate never more than that gap lets go while one
// probe waits for its reply. A million targets at --rate 10000 with a
// 500ms timeout have about 5,000 probes in flight, not a million: their
// ring is a few MiB, not the 256 MiB cap that would still drop replies.
func (c *Config) runInFlight(n int) int {
	in := c.inFlight(n)
	if g := c.gap(); c.paced(n) && g > 0 {
		_, catchUp := c.spacing(n)
		in = min(in, satInt(c.wait()/g)+1+catchUp)
	}
	return in
}

// wants reports whether target t has probes left to send. e.mu is held.
func (e *Engine) wants(t *target) bool {
	c := &e.cfg
	switch {
	case c.UntilReply:
		return t.retrying(c) && t.stats.Outstanding == 0
	case c.Count > 0:
		return int(t.next) < c.Count
	}
	return true
}

// retrying reports whether t, in an UntilReply run, may still be tried:
// no reply yet, tries left, and no send failed (fping gives up a target
// whose sendto fails rather than retry it).
func (t *target) retrying(c *Config) bool {
	return t.stats.Received == 0 && t.stats.SendErrors == 0 && int(t.next) <= c.Retries
}

// schedulePaced is the scheduler of paced runs: a queue of targets by the
// time their next probe is due (dueQueue), never a goroutine or a timer per
// target. Targets take turns at the run's gap; each keeps its own
// interval. The queue is the scheduler's own: it is touched outside the
// lock too.
func (e *Engine) schedulePaced(ctx context.Context) error {
	c := &e.cfg
	gap := c.gap()
	deadline := e.deadline()
	var q dueQueue
	for _, t := range e.targets {
		t.due = 0
		q.push(t, 0)
	}
	e.mu.Lock()
	e.settled = 0 // receivers read it (see ended)
	e.mu.Unlock()
	nextGap := e.start
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		now := e.now()
		e.mu.Lock()
		e.expire(now)
		for q.len() > 0 && !now.Before(e.mono(q.head().due)) && !now.Before(nextGap) && (deadline.IsZero() || now.Before(deadline)) {
			t := q.pop()
			if !e.wants(t) {
				if c.UntilReply && t.retrying(c) {
					// Still waiting on the last try: look again when it ends.
					d := int64(c.timeoutOf(t.next))
					t.due = e.off(now) + d
					q.push(t, d)
				}
				continue
			}
			due := e.mono(t.due)
			e.send(t, now)
			if gap > 0 {
				nextGap = nextSlot(nextGap, due, now, gap)
			}
			if e.wants(t) || c.UntilReply {
				d := int64(c.Interval) // from the send, as fping
				if c.UntilReply {
					d = int64(c.timeoutOf(t.next))
				}
				t.due = e.off(now) + d
				q.push(t, d)
			}
		}
		done := e.pacedDone(now, deadline)
		wake := time.Time{}
		if q.len() > 0 {
			wake = e.mono(q.head().due)
			if wake.Before(nextGap) {
				wake = nextGap
				if gap < gapStrict {
					wake = laterOf(wake, now.Add(gapSleep))
				}
			}
		}
		wait := e.nextWake(now, wake, deadline)
		e.mu.Unlock()
		if done {
			return nil
		}
		if err := e.sleep(ctx, timer, wait); err != nil {
			return err
		}
	}
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// nextSlot is when the probe after one due at due and sent at now may go.
// A short gap is kept on average: a sleep that overran (timers are coarser
// than a 50µs gap) is made up for by sending the probes that were due
// meanwhile. A probe is never counted as sent before it was due.
func nextSlot(slot, due, now time.Time, gap time.Duration) time.Time {
	if gap >= gapStrict {
		return now.Add(gap)
	}
	if slot.Before(due) {
		slot = due
	}
	slot = slot.Add(gap)
	if lag := now.Add(-gapCatchUp); slot.Before(lag) {
		slot = lag
	}
	return slot
}

// pacedDone reports whether a paced run is over: every target has sent
// all it will and nothing is outstanding, or the deadline passed, which
// ends what is still outstanding. e.mu is held.
//
// A target that is through (it wants no more probes and has none
// outstanding) stays through: its count, its tries and its replies only
// grow. So the targets are looked at in order from the first one not yet
// through (e.settled), and each wake-up costs one look, not one per
// target: with 100,000 targets a wake-up per reply would otherwise cost
// 100,000 looks a reply.
func (e *Engine) pacedDone(now, deadline time.Time) bool {
	if deadline.IsZero() || now.Before(deadline) {
		for ; e.settled < len(e.targets); e.settled++ {
			if t := e.targets[e.settled]; e.wants(t) || t.stats.Outstanding > 0 {
				return false
			}
		}
		return true
	}
	e.abandon(now)
	return true
}

// dueQueue holds a paced run's targets by when their next probe is due.
// A target goes back in after each turn due a delay after it: its
// Interval, or in an until-reply run the timeout of its try. The clock
// only moves forward, so targets put in with the same delay come due in
// the order they went in: one FIFO lane per delay is in order by itself,
// and the next target due is the earliest of the lanes' heads. A run with
// -c or -l has one lane (its Interval), an until-reply run one per try
// whose timeout differs: a turn costs O(lanes), whatever the number of
// targets, where a heap over 100,000 targets costs 17 levels, each a
// cache miss. Ties go in the order the targets went in, as fping's event
// queue keeps them; the first turn goes in the order given.
type dueQueue struct {
	lanes []dueLane
	n     int
	turn  uint64 // counts pushes, to order ties across lanes
}

// dueLane is a FIFO ring of targets pushed with one delay.
type dueLane struct {
	delay      int64
	ring       []*target
	head, size int
}

func (q *dueQueue) len() int { return q.n }

// push adds t, whose t.due is delay after now, to the lane of delay.
func (q *dueQueue) push(t *target, delay int64) {
	var l *dueLane
	for i := range q.lanes {
		if q.lanes[i].delay == delay {
			l = &q.lanes[i]
			break
		}
	}
	if l == nil {
		q.lanes = append(q.lanes, dueLane{delay: delay})
		l = &q.lanes[len(q.lanes)-1]
	}
	if l.size == len(l.ring) {
		// Grown by doubling, in order from the head: a run's lanes reach
		// their size in its first turns and allocate nothing after.
		ring := make([]*target, max(2*len(l.ring), 16))
		n := copy(ring, l.ring[l.head:])
		copy(ring[n:], l.ring[:l.head])
		l.ring, l.head = ring, 0
	}
	l.ring[(l.head+l.size)%len(l.ring)] = t
	l.size++
	q.n++
	t.turn = q.turn
	q.turn++
}

// first is the lane whose head is due first; q must not be empty.
func (q *dueQueue) first() *dueLane {
	var best *dueLane
	for i := range q.lanes {
		l := &q.lanes[i]
		if l.size == 0 {
			continue
		}
		if best == nil {
			best = l
			continue
		}
		a, b := l.ring[l.head], best.ring[best.head]
		if a.due < b.due || a.due == b.due && a.turn < b.turn {
			best = l
		}
	}
	return best
}

// head is the target due first; q must not be empty.
func (q *dueQueue) head() *target {
	l := q.first()
	return l.ring[l.head]
}

// pop removes and returns the target due first; q must not be empty.
func (q *dueQueue) pop() *target {
	l := q.first()
	t := l.ring[l.head]
	l.ring[l.head] = nil
	l.head = (l.head + 1) % len(l.ring)
	l.size--
	q.n--
	return t
}
