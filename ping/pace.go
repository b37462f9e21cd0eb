package ping

import (
	"context"
	"time"
)

// A gap of gapStrict or more is a minimum between any two probes, as
// fping's -i; a shorter one, below what a sleep can hit, is kept on
// average, and gapCatchUp bounds how far its clock may lag behind: how
// many probes may go back to back after a late wake-up.
const (
	gapStrict  = 2 * time.Millisecond
	gapCatchUp = 10 * time.Millisecond
)

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

// schedulePaced is the scheduler of paced runs: a heap of targets by the
// time their next probe is due, never a goroutine or a timer per target.
// Targets take turns at the run's gap; each keeps its own interval. The
// heap is the scheduler's own: it is touched outside the lock too.
func (e *Engine) schedulePaced(ctx context.Context) error {
	c := &e.cfg
	gap := c.gap()
	deadline := e.deadline()
	h := make(targetHeap, 0, len(e.targets))
	for _, t := range e.targets {
		t.due = 0
		h.push(t)
	}
	nextGap := e.start
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		now := e.now()
		e.mu.Lock()
		e.expire(now)
		for len(h) > 0 && !now.Before(e.mono(h[0].due)) && !now.Before(nextGap) && (deadline.IsZero() || now.Before(deadline)) {
			t := h.pop()
			if !e.wants(t) {
				if c.UntilReply && t.retrying(c) {
					// Still waiting on the last try: look again when it ends.
					t.due = e.off(now) + int64(c.timeoutOf(t.next))
					h.push(t)
				}
				continue
			}
			due := e.mono(t.due)
			e.send(t, now)
			if gap > 0 {
				nextGap = nextSlot(nextGap, due, now, gap)
			}
			if e.wants(t) || c.UntilReply {
				if c.UntilReply {
					t.due = e.off(now) + int64(c.timeoutOf(t.next))
				} else {
					t.due = e.off(now) + int64(c.Interval) // from the send, as fping
				}
				h.push(t)
			}
		}
		done := e.pacedDone(now, deadline)
		wake := time.Time{}
		if len(h) > 0 {
			wake = e.mono(h[0].due)
			if wake.Before(nextGap) {
				wake = nextGap
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
func (e *Engine) pacedDone(now, deadline time.Time) bool {
	if deadline.IsZero() || now.Before(deadline) {
		for _, t := range e.targets {
			if e.wants(t) || t.stats.Outstanding > 0 {
				return false
			}
		}
		return true
	}
	e.abandon(now)
	return true
}

// targetHeap is a binary min-heap of targets by due time.
type targetHeap []*target

func (h *targetHeap) push(t *target) {
	*h = append(*h, t)
	t.hidx = len(*h) - 1
	h.up(t.hidx)
}

func (h *targetHeap) pop() *target {
	old := *h
	t := old[0]
	last := len(old) - 1
	old[0], old[last] = old[last], nil
	*h = old[:last]
	if last > 0 {
		(*h)[0].hidx = 0
		h.down(0)
	}
	t.hidx = -1
	return t
}

func (h targetHeap) less(i, j int) bool {
	if h[i].due != h[j].due {
		return h[i].due < h[j].due
	}
	return h[i].index < h[j].index // in the order given, as fping
}

func (h targetHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].hidx, h[j].hidx = i, j
}

func (h targetHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h targetHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h.swap(i, m)
		i = m
	}
}
