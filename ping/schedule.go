package ping

import (
	"context"
	"errors"
	"syscall"
	"time"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/resolve"
)

// schedule is the scheduler of runs at a fixed interval (iputils ping): a
// round of probes, one per target, every Interval, or in flood mode as
// soon as a reply comes. With rc set it also receives from rc while it
// waits, and nothing else may.
func (e *Engine) schedule(ctx context.Context, rc Conn) error {
	c := &e.cfg
	deadline := e.deadline()
	nextSend := e.start
	burst := max(c.Preload-1, 0) // -l N sends N at once, the first included
	timer := time.NewTimer(0)
	defer timer.Stop()
	var r Received
	var rdl time.Time // rc's receive deadline
	for {
		now := e.now()
		e.mu.Lock()
		e.expire(now)
		done := e.done(now, deadline)
		if !done && e.sendNow(now, nextSend, deadline) {
			e.sendErr = false
			e.lastRound = now
			for _, t := range e.targets {
				e.send(t, now)
			}
			early := now.Before(nextSend)
			switch {
			case burst > 0:
				burst--
			case early:
				nextSend = now.Add(c.Interval)
			default:
				nextSend = nextSend.Add(c.Interval)
				if nextSend.Before(now) {
					nextSend = now.Add(c.Interval)
				}
			}
			e.mu.Unlock()
			if err := ctx.Err(); err != nil {
				// A tiny interval sends round after round without waiting:
				// the end of the run must still be seen.
				return err
			}
			continue
		}
		wake := nextSend
		if !e.more(deadline) {
			wake = time.Time{} // nothing left to send: timeouts and lingering
			for _, t := range e.targets {
				if l := e.linger(t); !l.IsZero() && (wake.IsZero() || l.Before(wake)) {
					wake = l
				}
			}
		}
		if g := e.lastRound.Add(c.FloodGap); c.Flood && c.FloodGap > 0 && g.After(now) && (wake.IsZero() || g.Before(wake)) {
			wake = g // a reply may have come meanwhile: the gap, not it, holds the flood
		}
		wait := e.nextWake(now, wake, deadline)
		e.mu.Unlock()
		if done {
			return nil
		}
		if rc != nil {
			if err := e.receiveFor(ctx, rc, &r, now, wait, &rdl); err != nil {
				return err
			}
			continue
		}
		if err := e.sleep(ctx, timer, wait); err != nil {
			return err
		}
	}
}

// deadline is when Config.Deadline ends the run; zero without one.
func (e *Engine) deadline() time.Time {
	if e.cfg.Deadline > 0 {
		return e.start.Add(e.cfg.Deadline)
	}
	return time.Time{}
}

// sleep waits for d, the context's end or a poke, whichever comes first:
// both schedulers wait this way.
func (e *Engine) sleep(ctx context.Context, timer *time.Timer, d time.Duration) error {
	timer.Reset(d)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
	case <-e.wake: // a probe ended: the run may be over, a flood may send
	}
	return nil
}

// sendNow reports whether the next round of probes goes out now. A flood
// sends early, on a reply, while fewer than max(1, Preload) are in flight,
// and at least every Interval regardless. e.mu is held.
func (e *Engine) sendNow(now, nextSend, deadline time.Time) bool {
	c := &e.cfg
	if !e.more(deadline) {
		return false
	}
	if !now.Before(nextSend) {
		return true
	}
	if !c.Flood || e.sendErr || c.FloodGap > 0 && now.Before(e.lastRound.Add(c.FloodGap)) {
		return false
	}
	// In flight are the probes sent after the newest answered one: a lost
	// probe, overtaken by later replies, no longer holds a flood back.
	for _, t := range e.targets {
		if t.next-t.newest >= uint64(max(1, c.Preload)) {
			return false
		}
	}
	return true
}

// more reports whether probes remain to be sent. e.mu is held.
func (e *Engine) more(deadline time.Time) bool {
	c := &e.cfg
	for _, t := range e.targets {
		if c.Count > 0 && int(t.next) >= c.Count && deadline.IsZero() {
			return false
		}
	}
	return true
}

// done reports whether the run is over, and then ends what is still
// outstanding. e.mu is held.
func (e *Engine) done(now, deadline time.Time) bool {
	if !deadline.IsZero() && !now.Before(deadline) {
		e.abandon(now)
		return true
	}
	c := &e.cfg
	if c.Count == 0 {
		return false
	}
	for _, t := range e.targets {
		if !deadline.IsZero() {
			if t.stats.Received < c.Count {
				return false
			}
			continue
		}
		if int(t.next) < c.Count || t.stats.Outstanding > 0 && now.Before(e.linger(t)) {
			return false
		}
	}
	e.abandon(now)
	return true
}

// linger is when t's last probe stops being waited for: its timeout, or,
// once replies came, two of the longest round trips after it was sent, as
// iputils waits ("-W ... otherwise ping waits for two RTTs").
func (e *Engine) linger(t *target) time.Time {
	last := t.slotOf(t.next)
	if t.next == 0 || last.n != t.next {
		return time.Time{}
	}
	if t.stats.rttN == 0 {
		return e.mono(last.deadline)
	}
	return minTime(e.mono(last.deadline), e.mono(last.sent).Add(max(2*t.slowest, lingerFloor)))
}

// lingerFloor bounds the two-RTT wait from below: one early reply says
// little of how late the next may be handed over (a ring block can retire
// just after one reply and a whole timeout after the next), and the wait
// costs only when a probe is lost.
const lingerFloor = 100 * time.Millisecond

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// nextWake is how long to sleep until the next send (zero time: none),
// timeout or deadline; an hour when there is nothing but a poke to wait for.
// e.mu is held.
func (e *Engine) nextWake(now, nextSend, deadline time.Time) time.Duration {
	at := now.Add(time.Hour)
	for _, t := range []time.Time{nextSend, deadline, e.nextDeadline()} {
		if !t.IsZero() && t.Before(at) {
			at = t
		}
	}
	return max(at.Sub(now), 0)
}

// send registers target t's next probe, sends it with e.mu released, and
// records how the send went. e.mu is held on entry and on return: the
// probe's entry exists before its reply can arrive, and no system call
// runs under the lock, so receivers never wait for a send.
func (e *Engine) send(t *target, now time.Time) {
	c := &e.cfg
	n := t.next + 1
	t.next++
	p := t.slotOf(n)
	if p.n != 0 && p.state == pending {
		// The window is full of unanswered probes: the oldest gives up.
		e.timeout(t, p)
	}
	seq := uint16(n) // seq 1 first, wrapping at 65535 like iputils
	*p = probe{n: n, sent: e.off(now), payload: now.UnixNano(), deadline: e.off(now.Add(c.timeoutOf(n))), state: pending}
	t.stats.Transmitted++
	t.stats.Outstanding++
	t.stats.sent(now)
	e.enqueue(queued{t, n})
	e.data = e.payload.Append(e.data[:0], e.probe(t, p))
	oversize := t.Path.Target.Is4() && len(e.data) > craft.MaxPayloadIPv4
	if oversize || c.PMTUDisc == PMTUDiscDo && c.tooBig(t.Path, len(e.data)) {
		// What the kernel refuses with EMSGSIZE, refused here for every
		// transport alike: the probe counts as sent and as answered by an
		// error, as iputils counts its local errors.
		p.state = timedOut
		t.stats.Outstanding--
		t.stats.TimedOut++
		t.stats.Errors++
		e.emit(Event{Kind: EventSent, Target: t.index, Addr: t.Path.Target, ID: t.id, Seq: seq, At: now, Bytes: icmpHeader + len(e.data)})
		mtu := t.Path.MTU
		if oversize {
			mtu = 0xffff // what IPv4's total length field holds
		}
		e.emit(Event{Kind: EventLocalError, Target: t.index, Addr: t.Path.Target, ID: t.id, Seq: seq, At: now, MTU: mtu})
		e.poke()
		return
	}
	e.echo = c.echo(t.Path, t.id, seq, e.data)
	if len(e.echo.IPOptions) > 0 {
		// The ring modes build the header: write the host's own entry
		// as the kernel writes it into a socket's IP_OPTIONS.
		e.opts = craft.RecordOwn(append(e.opts[:0], e.echo.IPOptions...), t.Path.Source, now)
		e.echo.IPOptions = e.opts
	}
	e.inSend = queued{t, n}
	e.mu.Unlock()
	var sent time.Time
	var err error
	if t.Path.Broadcast && !c.Broadcast {
		err = syscall.EACCES // what a socket without SO_BROADCAST gets
	} else {
		sent, err = t.Conn.Send(&e.echo)
	}
	e.mu.Lock()
	e.inSend = queued{}
	held := e.held
	e.held = e.held[:0]
	if mtu, ok := tooBigMTU(err); ok && len(held) == 0 {
		// A path MTU learnt during the run: a local error, as above.
		p.state = timedOut
		t.stats.Outstanding--
		t.stats.TimedOut++
		t.stats.Errors++
		if mtu == 0 {
			mtu = t.Path.MTU
		}
		e.emit(Event{Kind: EventSent, Target: t.index, Addr: t.Path.Target, ID: t.id, Seq: seq, At: now, Bytes: icmpHeader + len(e.data)})
		e.emit(Event{Kind: EventLocalError, Target: t.index, Addr: t.Path.Target, ID: t.id, Seq: seq, At: now, MTU: mtu})
		e.poke()
		return
	}
	if err != nil && len(held) == 0 {
		// Never on the wire: a send error, not loss. The seq is spent so
		// that -c counts attempts and a dead path cannot loop forever.
		p.n = 0
		t.stats.Transmitted--
		t.stats.Outstanding--
		t.stats.SendErrors++
		e.sendErr = true
		e.emit(Event{Kind: EventSendError, Target: t.index, Addr: t.Path.Target, ID: t.id, Seq: seq, At: now, Err: err})
		return
	}
	// An error despite an answer: the probe did leave, so it counts.
	if !sent.IsZero() {
		p.sent = e.off(sent)
	}
	e.emit(Event{Kind: EventSent, Target: t.index, Addr: t.Path.Target, ID: t.id, Seq: seq, At: e.mono(p.sent), Bytes: icmpHeader + len(e.data)})
	for i := range held {
		e.count(&held[i])
	}
}

const icmpHeader = 8

// tooBigMTU is the path MTU of a send refused with EMSGSIZE (0: not
// known). Apart from send, so that the target errors.As needs is made
// only for an error: declared in send, it escaped to the heap on every
// probe.
func tooBigMTU(err error) (int, bool) {
	if err == nil {
		return 0, false
	}
	var tooBig *tooBigError
	if !errors.As(err, &tooBig) {
		return 0, false
	}
	return tooBig.mtu, true
}

// echo is the probe with id and seq to p, carrying data.
func (c *Config) echo(p *resolve.Path, id, seq uint16, data []byte) craft.Echo {
	opts := c.ipOpts
	if p.Target.Is6() && !p.Target.Is4In6() {
		opts = nil // iputils too ignores -R and -T for IPv6
	}
	return craft.Echo{
		ID: id, Seq: seq, TTL: c.TTL, TOS: c.TOS, DontFragment: c.dontFragment(p, len(data)),
		IPID: seq, Payload: data, Faults: c.Faults, IPOptions: opts, FlowLabel: c.FlowLabel,
		Src: p.Source, Dst: p.Target, SrcMAC: p.SourceMAC, DstMAC: p.NextHopMAC,
	}
}
