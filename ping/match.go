package ping

import (
	"net/netip"
	"time"

	"github.com/pingcraft/pingcraft/craft"
)

// arrival is a packet that answers one of our probes, as handle saw it:
// everything counting it needs, none of it aliasing the Conn's buffer, so
// that it can wait while its probe is still being sent.
type arrival struct {
	t   *target
	n   uint64 // the probe it answers
	err bool   // an ICMP error, not a reply
	// at and stamp are the packet's own time; now the engine's monotonic
	// clock when it was handled, which bounds the RTT.
	at, now time.Time
	stamp   StampSource
	hw      time.Time // the NIC's receive stamp, zero without one
	ttl     uint8
	hasTTL  bool
	bytes   int
	from    netip.Addr
	seq     uint16
	opts    []byte // the reply's IPv4 options (-R, -T), copied
	// bad is the first wrong data byte of a corrupted reply, -1 if none.
	bad int
	// badSum: the reply's ICMP checksum is wrong (iputils' "BAD CHECKSUM!").
	badSum    bool
	want, got byte
	icmp      craft.ICMPError
}

// handle matches one packet c received. It takes e.mu. A packet counts
// only when c is its target's Conn: a socket that sees more than its own
// interface (a raw socket sees every ICMP packet of the host) must not
// count a reply the target's own Conn counts too. It counts only when it
// carries the authenticator of the probe it answers (see craft.Payload):
// a forger who saw other probes, or another pinger with our id, is not
// heard.
func (e *Engine) handle(c Conn, r *Received) {
	e.mu.Lock()
	defer e.mu.Unlock()
	pk := &r.Packet
	var a arrival
	switch pk.Class {
	case craft.ClassEchoRequest:
		if r.Outgoing {
			if t := e.byAddr[pk.Dst]; t != nil && t.Conn == c && pk.ID == t.id {
				p := t.find(pk.Seq)
				// A NIC's stamp replaces the kernel's software one: rtt
				// uses it when the reply has one too.
				first := p != nil && (p.kernel == 0 || r.Stamp == StampHardware && p.kclock != StampHardware)
				if first && (r.Own || e.payload.Authentic(pk.Payload, e.probe(t, p))) {
					p.kernel, p.kclock = r.At.UnixNano(), r.Stamp
				}
			}
		}
		return
	case craft.ClassEchoReply:
		t := e.byAddr[r.From]
		if t == nil {
			t = e.group(pk.ID, pk.Seq)
		}
		if t == nil || t.Conn != c || pk.ID != t.id {
			return // another host, or another pinger's reply with the same id
		}
		p := t.find(pk.Seq)
		if p == nil {
			return
		}
		pr := e.probe(t, p)
		if !e.payload.Authentic(pk.Payload, pr) {
			return // forged, or another pinger's with our id and seq
		}
		a = arrival{t: t, n: p.n, seq: pk.Seq, bad: -1, badSum: pk.ICMPChecksum.Status == craft.ChecksumBad}
		if bad := e.payload.Check(pk.Payload, pr); bad >= 0 && !a.badSum {
			a.bad = bad
			e.check = e.payload.Append(e.check[:0], pr)
			if bad < len(e.check) {
				a.want = e.check[bad]
			}
			if bad < len(pk.Payload) {
				a.got = pk.Payload[bad]
			}
		}
	case craft.ClassError:
		q := &pk.Error.Quote
		if !q.Echo {
			return
		}
		t := e.byAddr[q.Dst]
		// The quoted probe must have left from here: a quote with another
		// source is another host's probe, or made up.
		if t == nil || t.Conn != c || q.ID != t.id || t.Path.Source.IsValid() && q.Src != t.Path.Source {
			return
		}
		if pk.ICMPChecksum.Status == craft.ChecksumBad {
			return // the kernel drops these unread; so do we
		}
		p := t.find(q.Seq)
		if p == nil {
			return
		}
		// Most routers quote 8 bytes of ICMP, none of the data; a quote
		// that does reach the authenticator must carry the right one.
		if len(pk.QuoteData) >= craft.AuthLen && !e.payload.Authentic(pk.QuoteData, e.probe(t, p)) {
			return
		}
		a = arrival{t: t, n: p.n, seq: q.Seq, err: true, icmp: pk.Error}
	default:
		return
	}
	a.at, a.stamp, a.hw, a.now = r.At, r.Stamp, r.HW, e.now()
	a.ttl, a.hasTTL, a.bytes, a.from = r.TTL, r.HasTTL, r.Bytes, r.From
	if len(r.Packet.IPOptions) > 0 && !a.err {
		a.opts = append([]byte(nil), r.Packet.IPOptions...)
	}
	if e.inSend.t == a.t && e.inSend.n == a.n {
		// Answered while its send call is still running (on a veth the
		// whole round trip runs inside sendto): count it once the probe
		// is known to have left, so that events keep their order.
		e.held = append(e.held, a)
		return
	}
	e.count(&a)
}

// count turns an arrival into statistics and an event. e.mu is held.
func (e *Engine) count(a *arrival) {
	t := a.t
	p := t.slotOf(a.n)
	if p.n != a.n {
		return // its slot was reused meanwhile
	}
	if a.err {
		t.stats.Errors++
		if p.state == pending {
			// No reply will come: the error is the probe's outcome, as
			// iputils counts it toward -c.
			p.state = timedOut
			t.stats.Outstanding--
			t.stats.TimedOut++
			e.ended(t)
		}
		e.emit(Event{Kind: EventICMPError, Target: t.index, Addr: t.Path.Target, ID: t.id, Seq: a.seq, At: a.at,
			From: a.from, Error: a.icmp, TTL: a.ttl, HasTTL: a.hasTTL})
		return
	}
	rtt, send, recv := e.rttEnds(p, a)
	ev := Event{Target: t.index, Addr: t.Path.Target, ID: t.id, Seq: a.seq, At: a.at, RTT: rtt, Stamp: bothEnds(send, recv),
		SendClock: send, ReceiveClock: recv,
		TTL: a.ttl, HasTTL: a.hasTTL, Bytes: a.bytes, From: a.from, IPOptions: a.opts}
	if a.badSum {
		// As iputils: printed, counted apart, never a reply; the probe
		// still waits for a good one.
		ev.Kind = EventBadChecksum
		t.stats.BadChecksums++
		e.emit(ev)
		return
	}
	if a.bad >= 0 {
		// Checked before counting: a corrupted reply is never a good one.
		ev.Kind, ev.BadByte, ev.Want, ev.Got = EventCorrupted, a.bad, a.want, a.got
		t.stats.Corrupted++
		e.emit(ev)
		return
	}
	switch p.state {
	case pending:
		p.state = replied
		t.newest = max(t.newest, p.n)
		t.slowest = max(t.slowest, a.now.Sub(e.mono(p.sent)))
		t.stats.Outstanding--
		t.stats.Received++
		t.stats.addRTT(rtt)
		ev.Kind = EventReply
		e.ended(t)
	case replied:
		t.stats.Duplicates++
		t.stats.addRTT(rtt)
		ev.Kind = EventDuplicate
	case timedOut:
		t.stats.Late++
		ev.Kind = EventLate
	}
	e.emit(ev)
}

// ended wakes the scheduler for a probe of t that a reply or an error
// ended: the run may be over, or a flood may send. A paced run is over
// once every target is through, and pacedDone finds them through in
// order: only the first target not yet through can end it, so only its
// probes wake the scheduler. 100,000 replies a second would otherwise wake
// it 100,000 times a second, each a context switch, for nothing. e.mu is
// held.
func (e *Engine) ended(t *target) {
	if e.paced && e.settled < len(e.targets) && e.targets[e.settled] != t {
		return
	}
	e.poke()
}

// probe is what t's probe in slot p was authenticated with. The result is
// the engine's, reused by the next call. e.mu is held.
func (e *Engine) probe(t *target, p *probe) *craft.Probe {
	e.pr = craft.Probe{ID: t.id, N: p.n, Dst: t.Path.Target, Sent: time.Unix(0, p.payload)}
	return &e.pr
}

// rtt is rttEnds with one clock for both ends (see Event.Stamp).
func (e *Engine) rtt(p *probe, a *arrival) (time.Duration, StampSource) {
	d, send, recv := e.rttEnds(p, a)
	return d, bothEnds(send, recv)
}

// bothEnds is Event.Stamp of an RTT timed with these clocks.
func bothEnds(send, recv StampSource) StampSource {
	if send == recv {
		return send
	}
	return StampUser
}

// rttEnds picks the best pair of stamps, and says which clock timed each
// end: both the NIC's, both the kernel's, or the kernel's receive stamp and
// the user-space send time (as iputils) when no send stamp came. It guards
// against clock steps: wall clocks may jump, the monotonic offset in p.sent
// does not.
func (e *Engine) rttEnds(p *probe, a *arrival) (d time.Duration, send, recv StampSource) {
	sent := e.mono(p.sent)
	mono := a.now.Sub(sent) // monotonic: an upper bound for the RTT
	switch {
	case p.kclock == StampHardware && p.kernel != 0 && !a.hw.IsZero():
		d, send, recv = a.hw.Sub(time.Unix(0, p.kernel)), StampHardware, StampHardware
	case a.stamp == StampKernel && p.kclock != StampHardware && p.kernel != 0:
		d, send, recv = a.at.Sub(time.Unix(0, p.kernel)), StampKernel, StampKernel
	case a.stamp == StampKernel:
		d, send, recv = a.at.Sub(sent.Round(0)), StampUser, StampKernel
	default:
		d, send, recv = mono, StampUser, StampUser
	}
	if d < 0 || d > mono {
		return mono, StampUser, StampUser
	}
	return d, send, recv
}

// group returns the broadcast or multicast target a reply from an address
// that is no target's answers, by its id and seq; nil when none. e.mu is
// held.
func (e *Engine) group(id, seq uint16) *target {
	for _, t := range e.groups {
		if t.id == id && t.find(seq) != nil {
			return t
		}
	}
	return nil
}
