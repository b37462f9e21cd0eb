package ping

import (
	"context"
	"math"
	"time"
)

// paced reports whether a run of n targets is paced (see Config.Gap).
func (c *Config) paced(n int) bool {
	return n > 1 || c.Gap > 0 || c.Rate > 0 || c.UntilReply
}

// gap is the least time between two probes of a paced run.
func (c *Config) gap() time.Duration {
	g := c.Gap
	if c.Rate > 0 {
		g = max(g, time.Duration(float64(time.Second)/c.Rate))
	}
	return g
}

// A gap of gapStrict or more is a minimum between any two probes, as
// fping's -i; a shorter one, below what a sleep can hit, is kept on
// average, and gapCatchUp bounds how far its clock may lag behind: how
// many probes may go back to back after a late wake-up.
const (
	gapStrict  = 2 * time.Millisecond
	gapCatchUp = 10 * time.Millisecond
)

// timeoutOf is how long probe n (1-based) of a target waits for its reply:
// Timeout, grown by Backoff for each retry of an until-reply run.
func (e *Engine) timeoutOf(n uint64) time.Duration {
	c := &e.cfg
	if !c.UntilReply || c.Backoff == 1 || n <= 1 {
		return c.Timeout
	}
	return time.Duration(float64(c.Timeout) * math.Pow(c.Backoff, float64(n-1)))
}

// wants reports whether target t has probes left to send. e.mu is held.
func (e *Engine) wants(t *target) bool {
	c := &e.cfg
	switch {
	case c.UntilReply:
		return t.stats.Received == 0 && t.stats.Outstanding == 0 && int(t.next) <= c.Retries
	case c.Count > 0:
		return int(t.next) < c.Count
	}
	return true
}

// schedulePaced is the scheduler of paced runs: a heap of targets by the
// time their next probe is due, never a goroutine or a timer per target.
// Targets take turns at the run's gap; each keeps its own interval.
func (e *Engine) schedulePaced(ctx context.Context) error {
	c := &e.cfg
	gap := c.gap()
	var deadline time.Time
	if c.Deadline > 0 {
		deadline = e.start.Add(c.Deadline)
	}
	e.mu.Lock()
	h := make(targetHeap, 0, len(e.targets))
	for _, t := range e.targets {
		t.due = 0
		h.push(t)
	}
	e.mu.Unlock()
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
				if c.UntilReply && t.stats.Received == 0 && int(t.next) <= c.Retries {
					// Still waiting on the last try: look again when it ends.
					t.due = e.off(now) + int64(e.timeoutOf(t.next))
					h.push(t)
				}
				continue
			}
			due := e.mono(t.due)
			e.send(t, now)
			if gap > 0 {
				// A short gap is kept on average: a sleep that overran
				// (timers are coarser than a 50µs gap) is made up for by
				// sending the probes that were due meanwhile. A probe is
				// never counted as sent before it was due.
				slot := nextGap
				if slot.Before(due) {
					slot = due
				}
				nextGap = slot.Add(gap)
				if gap >= gapStrict {
					nextGap = now.Add(gap)
				} else if lag := now.Add(-gapCatchUp); nextGap.Before(lag) {
					nextGap = lag
				}
			}
			if e.wants(t) || c.UntilReply {
				if c.UntilReply {
					t.due = e.off(now) + int64(e.timeoutOf(t.next))
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
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		case <-e.wake:
		}
	}
}

// pacedDone reports whether a paced run is over: every target has sent
// all it will and nothing is outstanding, or the deadline passed. e.mu is
// held.
func (e *Engine) pacedDone(now, deadline time.Time) bool {
	if deadline.IsZero() || now.Before(deadline) {
		for _, t := range e.targets {
			if e.wants(t) || t.stats.Outstanding > 0 {
				return false
			}
		}
		return true
	}
	for _, q := range e.queue {
		if p := e.slot(q); p.n == q.n && p.state == pending {
			p.deadline = e.off(now)
			e.timeout(q.t, p)
		}
	}
	e.queue = e.queue[:0]
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
