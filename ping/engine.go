package ping

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/resolve"
)

// Config is what every probe of a run shares. A nil *Config means defaults.
type Config struct {
	// Count probes per target; 0 sends until the context ends or Deadline.
	// With Deadline set, the run also ends once Count replies arrived.
	Count int
	// Interval between two probes to one target (default 1s). In flood
	// mode it is the longest wait when no reply comes (default 10ms).
	Interval time.Duration
	// Timeout is how long a probe waits for its reply (default 10s, the
	// time iputils lingers for the last one).
	Timeout time.Duration
	// Deadline ends the run this long after it starts, whatever else.
	Deadline time.Duration
	// Size of the echo data (default 56).
	Size         int
	TTL, TOS     uint8
	DontFragment bool
	Pattern      []byte
	// Preload probes are sent at once when the run starts; in flood mode
	// as many are kept in flight.
	Preload int
	// Flood sends the next probe as soon as a reply comes back.
	Flood  bool
	Faults craft.Faults
	// Cookie tells our replies from other pingers'; zero picks a random one.
	Cookie craft.Cookie

	// Gap is the least time between any two probes of the run, whatever
	// their targets (fping -i); Rate, when set, caps the probes per second
	// of the whole run the same way. Below 2ms, what a sleep cannot hit,
	// the gap is kept on average instead. A run with more than one target, a
	// Gap, a Rate or UntilReply is paced: each target keeps its own
	// Interval (fping -p), the targets taking turns.
	Gap  time.Duration
	Rate float64
	// UntilReply ends each target's probing at its first reply, after at
	// most 1+Retries probes, each sent when the one before timed out and
	// waiting Backoff times longer (fping without -c).
	UntilReply bool
	Retries    int
	Backoff    float64
}

// Defaults.
const (
	DefaultInterval      = time.Second
	DefaultFloodInterval = 10 * time.Millisecond
	DefaultTimeout       = 10 * time.Second
	DefaultSize          = 56
)

// Target is one destination and the connection its probes use.
type Target struct {
	Path *resolve.Path
	Conn Conn
}

// probe is one slot of a target's window of recent probes.
// Times are kept as integers, 41 bytes instead of 97: a run with 10,000
// targets holds a window of these for each.
type probe struct {
	n        uint64 // 1 + the probe's number in its target's run; 0: empty
	sent     int64  // user send time, ns after the run's start (monotonic)
	deadline int64  // ns after the run's start
	kernel   int64  // kernel send stamp when the ring saw it leave, Unix ns; 0: none
	payload  int64  // the send time written into the data, Unix ns
	state    uint8
}

// mono is the time off ns after the run's start, with a monotonic reading.
func (e *Engine) mono(off int64) time.Time { return e.start.Add(time.Duration(off)) }

// off is t as ns after the run's start.
func (e *Engine) off(t time.Time) int64 { return int64(t.Sub(e.start)) }

const (
	pending uint8 = iota + 1
	replied
	timedOut
)

type target struct {
	Target
	index  int
	due    int64 // paced runs: when the next probe goes, ns after the start
	hidx   int   // paced runs: place in the schedule's heap
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

// Engine runs one probing session over any number of targets.
type Engine struct {
	cfg     Config
	payload craft.Payload
	onEvent func(*Event)
	now     func() time.Time

	mu      sync.Mutex
	targets []*target
	byAddr  map[netip.Addr]*target
	queue   []queued // pending probes in send order: their deadlines ascend
	qbuf    []queued // queue's backing array, whose front queue moves past
	wake    chan struct{}
	start   time.Time
	data    []byte     // echo data of the probe being sent; only schedule sends
	ev      Event      // the event being reported; onEvent must not keep &ev
	echo    craft.Echo // the probe being sent, reused: Conn.Send takes a pointer
	sendErr bool       // the last round had a send error: wait an interval
}

type queued struct {
	t *target
	n uint64
}

// New prepares a run. onEvent is called for every event, from the engine's
// goroutines with its lock held: it must be quick and must not call back
// into the engine. The *Event is reused once onEvent returns; the Event
// itself may be copied and kept.
func New(cfg *Config, targets []Target, onEvent func(*Event)) (*Engine, error) {
	c := Config{}
	if cfg != nil {
		c = *cfg
	}
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
		if c.Flood {
			c.Interval = DefaultFloodInterval
		}
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Size == 0 && cfg == nil {
		c.Size = DefaultSize
	}
	if c.Count < 0 || c.Preload < 0 || c.Size < 0 || c.Gap < 0 || c.Rate < 0 || c.Retries < 0 || c.Backoff < 0 {
		return nil, errors.New("ping: count, preload, size, gap, rate, retries and backoff must not be negative")
	}
	if c.Backoff == 0 {
		c.Backoff = 1
	}
	if c.paced(len(targets)) && (c.Flood || c.Preload > 0) {
		return nil, errors.New("ping: flood and preload take one target, without a gap, a rate or until-reply")
	}
	if len(targets) == 0 {
		return nil, errors.New("ping: no targets")
	}
	if c.Cookie == (craft.Cookie{}) {
		if _, err := rand.Read(c.Cookie[:]); err != nil {
			return nil, fmt.Errorf("ping: cookie: %w", err)
		}
	}
	if onEvent == nil {
		onEvent = func(*Event) {}
	}
	e := &Engine{
		cfg:     c,
		payload: craft.Payload{Size: c.Size, Cookie: c.Cookie, Pattern: c.Pattern},
		onEvent: onEvent,
		now:     time.Now,
		byAddr:  make(map[netip.Addr]*target, len(targets)),
		wake:    make(chan struct{}, 1),
	}
	win := windowSize(&c)
	for i, tg := range targets {
		t := &target{Target: tg, index: i, id: tg.Conn.ID(), window: make([]probe, win)}
		if _, dup := e.byAddr[tg.Path.Target]; dup {
			return nil, fmt.Errorf("ping: target %s given twice", tg.Path.Target)
		}
		e.targets = append(e.targets, t)
		e.byAddr[tg.Path.Target] = t
	}
	return e, nil
}

// NewID returns a random, non-zero ICMP identifier to open Conns with.
func NewID() (uint16, error) {
	var b [2]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 0, fmt.Errorf("ping: id: %w", err)
	}
	return uint16(b[0])<<8 | uint16(b[1]) | 1, nil
}

// windowSize is how many recent probes a target remembers: enough to cover
// everything that can be in flight, a power of two for cheap indexing.
func windowSize(c *Config) int {
	inFlight := int((c.Timeout+c.Interval-1)/c.Interval) + c.Preload + 1
	n := 4
	for n < 2*inFlight && n < 1<<16 {
		n <<= 1
	}
	return n
}

// ID returns the identifier of target i's probes.
func (e *Engine) ID(i int) uint16 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.targets[i].id
}

// Stats returns a snapshot of target i's statistics.
func (e *Engine) Stats(i int) Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.targets[i].stats
}

// Run probes until Count is done, Deadline passes or ctx ends, then returns.
// Receiving goroutines are joined before it returns; the Conns stay open.
func (e *Engine) Run(ctx context.Context) error {
	e.mu.Lock()
	e.start = e.now()
	e.mu.Unlock()

	seen := map[Conn]bool{}
	for _, t := range e.targets {
		seen[t.Conn] = true
	}
	paced := e.cfg.paced(len(e.targets))
	if !paced && e.cfg.Flood && len(seen) == 1 {
		// As ping -f does, one goroutine sends and receives: the reply is
		// usually queued by the time the send returns, and handing it
		// from a receiving goroutine would cost more than the round trip.
		err := e.schedule(ctx, e.targets[0].Conn)
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return nil
		}
		return err
	}

	rctx, stopReceivers := context.WithCancel(ctx)
	var wg sync.WaitGroup
	errs := make(chan error, len(e.targets))
	for c := range seen {
		wg.Add(1)
		go func(c Conn) {
			defer wg.Done()
			if err := e.receive(rctx, c); err != nil {
				errs <- err
				stopReceivers()
			}
		}(c)
	}
	var err error
	if paced {
		err = e.schedulePaced(rctx)
	} else {
		err = e.schedule(rctx, nil)
	}
	stopReceivers()
	for c := range seen {
		c.SetReceiveDeadline(time.Now()) // unblock a pending Receive now
	}
	wg.Wait()
	select {
	case rerr := <-errs:
		if err == nil || errors.Is(err, context.Canceled) && ctx.Err() == nil {
			err = rerr
		}
	default:
	}
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil // stopped by the caller: a normal end, as Ctrl-C is for ping
	}
	return err
}

// receivePoll bounds each Receive so cancellation is seen promptly.
const receivePoll = 100 * time.Millisecond

func (e *Engine) receive(ctx context.Context, c Conn) error {
	var r Received
	for ctx.Err() == nil {
		if err := c.SetReceiveDeadline(time.Now().Add(receivePoll)); err != nil {
			return fmt.Errorf("ping: receive: %w", err)
		}
		err := c.Receive(&r)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("ping: receive: %w", err)
		}
		e.handle(&r)
	}
	return nil
}

// receiveFor waits up to d from now for one packet from c and handles it.
// Its wait is bounded by receivePoll so that cancellation is seen promptly.
// *set is the deadline c has, kept while it still lies ahead and no later
// than wanted: a poller deadline costs a timer update, a flood would pay it
// every round trip, and waking early only costs one more loop.
func (e *Engine) receiveFor(ctx context.Context, c Conn, r *Received, now time.Time, d time.Duration, set *time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	want := now.Add(min(d, receivePoll))
	if !set.After(now) || set.After(want) {
		if err := c.SetReceiveDeadline(want); err != nil {
			return fmt.Errorf("ping: receive: %w", err)
		}
		*set = want
	}
	err := c.Receive(r)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil
	case err != nil:
		return fmt.Errorf("ping: receive: %w", err)
	}
	e.handle(r)
	return nil
}

// schedule sends probes and expires them until the run is over. With rc
// set, it also receives from rc while it waits, and nothing else may.
func (e *Engine) schedule(ctx context.Context, rc Conn) error {
	c := &e.cfg
	var deadline time.Time
	if c.Deadline > 0 {
		deadline = e.start.Add(c.Deadline)
	}
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
		if !done && e.sending(now, nextSend, deadline) {
			e.sendErr = false
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
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		case <-e.wake: // a probe ended: the run may be over, a flood may send
		}
	}
}

// sending reports whether the next round of probes goes out now. A flood
// sends early, on a reply, while fewer than max(1, Preload) are in flight,
// and at least every Interval regardless. e.mu is held.
func (e *Engine) sending(now, nextSend, deadline time.Time) bool {
	c := &e.cfg
	if !e.more(deadline) {
		return false
	}
	if !now.Before(nextSend) {
		return true
	}
	if !c.Flood || e.sendErr {
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

// done reports whether the run is over. e.mu is held.
func (e *Engine) done(now, deadline time.Time) bool {
	if !deadline.IsZero() && !now.Before(deadline) {
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
	// Whatever is still outstanding is lost; say so, keeping the counts.
	for _, q := range e.queue {
		if p := e.slot(q); p.n == q.n && p.state == pending {
			p.deadline = e.off(now)
			e.timeout(q.t, p)
		}
	}
	e.queue = e.queue[:0]
	return true
}

// linger is when t's last probe stops being waited for: its timeout, or,
// once replies came, two of the longest round trips after it was sent, as
// iputils waits ("-W ... otherwise ping waits for two RTTs").
func (e *Engine) linger(t *target) time.Time {
	last := &t.window[(t.next-1)&uint64(len(t.window)-1)]
	if last.n != t.next {
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
func (e *Engine) nextWake(now, nextSend, deadline time.Time) time.Duration {
	at := now.Add(time.Hour)
	for _, t := range []time.Time{nextSend, deadline} {
		if !t.IsZero() && t.Before(at) {
			at = t
		}
	}
	for len(e.queue) > 0 {
		q := e.queue[0]
		if p := e.slot(q); p.n == q.n && p.state == pending {
			if d := e.mono(p.deadline); d.Before(at) {
				at = d
			}
			break
		}
		e.queue = e.queue[1:] // ended already
	}
	if w := at.Sub(now); w > 0 {
		return w
	}
	return 0
}

func (e *Engine) slot(q queued) *probe {
	return &q.t.window[(q.n-1)&uint64(len(q.t.window)-1)]
}

// send registers and sends target t's next probe. e.mu is held: the entry
// exists before the reply can arrive.
func (e *Engine) send(t *target, now time.Time) {
	c := &e.cfg
	n := t.next + 1
	t.next++
	p := &t.window[(n-1)&uint64(len(t.window)-1)]
	if p.n != 0 && p.state == pending {
		// The window is full of unanswered probes: the oldest gives up.
		e.timeout(t, p)
	}
	seq := uint16(n) // seq 1 first, wrapping at 65535 like iputils
	*p = probe{n: n, sent: e.off(now), payload: now.UnixNano(), deadline: e.off(now.Add(e.timeoutOf(n))), state: pending}
	e.data = e.payload.Append(e.data[:0], now)
	data := e.data
	e.echo = craft.Echo{
		ID: t.id, Seq: seq, TTL: c.TTL, TOS: c.TOS, DontFragment: c.DontFragment,
		IPID: seq, Payload: data, Faults: c.Faults,
		Src: t.Path.Source, Dst: t.Path.Target, SrcMAC: t.Path.SourceMAC, DstMAC: t.Path.NextHopMAC,
	}
	sent, err := t.Conn.Send(&e.echo)
	if err != nil {
		// Never on the wire: a send error, not loss. The seq is spent so
		// that -c counts attempts and a dead path cannot loop forever.
		p.n = 0
		e.sendErr = true
		t.stats.SendErrors++
		e.emit(Event{Kind: EventSendError, Target: t.index, Addr: t.Path.Target, ID: t.id, Seq: seq, At: now, Err: err})
		return
	}
	if !sent.IsZero() {
		p.sent = e.off(sent)
	}
	t.stats.Transmitted++
	t.stats.Outstanding++
	e.enqueue(queued{t, n})
	e.emit(Event{Kind: EventSent, Target: t.index, Addr: t.Path.Target, ID: t.id, Seq: seq, At: e.mono(p.sent), Bytes: icmpHeader + len(data)})
}

const icmpHeader = 8

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
		q := e.queue[i]
		p := e.slot(q)
		if p.n != q.n || p.state != pending {
			continue // answered, or its slot was reused
		}
		if now.Before(e.mono(p.deadline)) {
			break
		}
		e.timeout(q.t, p)
	}
	e.queue = e.queue[i:]
}

func (e *Engine) timeout(t *target, p *probe) {
	p.state = timedOut
	t.stats.Outstanding--
	t.stats.TimedOut++
	e.emit(Event{Kind: EventTimeout, Target: t.index, Addr: t.Path.Target, ID: t.id, Seq: uint16(p.n), At: e.mono(p.deadline)})
}

// ours reports whether echo data carries this run's cookie (or is too
// short to carry any).
func (e *Engine) ours(data []byte) bool {
	if !e.payload.HasCookie() {
		return true
	}
	c, ok := craft.CookieOf(data)
	return ok && c == e.payload.Cookie
}

// find returns the slot of t's probe with this seq, if it is still known.
func (t *target) find(seq uint16) *probe {
	// The newest probe numbered seq modulo 65536 that was sent.
	n := t.next - uint64(uint16(t.next)-seq)
	if n == 0 || n > t.next || t.next-n >= uint64(len(t.window)) {
		return nil
	}
	p := &t.window[(n-1)&uint64(len(t.window)-1)]
	if p.n != n {
		return nil
	}
	return p
}

// handle matches one received packet. It takes e.mu.
func (e *Engine) handle(r *Received) {
	e.mu.Lock()
	defer e.mu.Unlock()
	pk := &r.Packet
	switch pk.Class {
	case craft.ClassEchoRequest:
		if r.Outgoing {
			if t := e.byAddr[pk.Dst]; t != nil && pk.ID == t.id && e.ours(pk.Payload) {
				if p := t.find(pk.Seq); p != nil && p.kernel == 0 {
					p.kernel = r.At.UnixNano()
				}
			}
		}
	case craft.ClassEchoReply:
		t := e.byAddr[r.From]
		if t == nil || pk.ID != t.id {
			return
		}
		if !e.ours(pk.Payload) {
			return // another pinger's reply with the same id
		}
		p := t.find(pk.Seq)
		if p == nil {
			return
		}
		e.reply(t, p, r)
	case craft.ClassError:
		q := &pk.Error.Quote
		if !q.Echo {
			return
		}
		t := e.byAddr[q.Dst]
		if t == nil || q.ID != t.id || (q.Src.IsValid() && q.Src != t.Path.Source && t.Path.Source.IsValid()) {
			return
		}
		p := t.find(q.Seq)
		if p == nil {
			return
		}
		t.stats.Errors++
		if p.state == pending {
			// No reply will come: the error is the probe's outcome, as
			// iputils counts it toward -c.
			p.state = timedOut
			t.stats.Outstanding--
			t.stats.TimedOut++
			e.poke()
		}
		ev := Event{Kind: EventICMPError, Target: t.index, Addr: t.Path.Target, ID: t.id, Seq: q.Seq, At: r.At,
			From: r.From, Error: pk.Error, TTL: r.TTL, HasTTL: r.HasTTL}
		e.emit(ev)
	}
}

func (e *Engine) reply(t *target, p *probe, r *Received) {
	pk := &r.Packet
	now := e.now()
	rtt, stamp := e.rtt(p, r, now)
	ev := Event{Target: t.index, Addr: t.Path.Target, ID: t.id, Seq: pk.Seq, At: r.At, RTT: rtt, Stamp: stamp,
		TTL: r.TTL, HasTTL: r.HasTTL, Bytes: r.Bytes, From: r.From}
	if bad := e.payload.Check(pk.Payload, time.Unix(0, p.payload)); bad >= 0 {
		// Checked before counting: a corrupted reply is never a good one.
		ev.Kind, ev.BadByte = EventCorrupted, bad
		want := e.payload.Append(nil, time.Unix(0, p.payload))
		if bad < len(want) {
			ev.Want = want[bad]
		}
		if bad < len(pk.Payload) {
			ev.Got = pk.Payload[bad]
		}
		t.stats.Corrupted++
		e.emit(ev)
		return
	}
	switch p.state {
	case pending:
		p.state = replied
		t.newest = max(t.newest, p.n)
		t.slowest = max(t.slowest, now.Sub(e.mono(p.sent)))
		t.stats.Outstanding--
		t.stats.Received++
		t.stats.addRTT(rtt)
		ev.Kind = EventReply
		e.poke()
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

// emit reports ev through the engine's one Event, so that a flood
// allocates nothing per event. e.mu is held.
func (e *Engine) emit(ev Event) {
	e.ev = ev
	e.onEvent(&e.ev)
}

// poke wakes the scheduler after a probe ended: the run may be over, or a
// flood may send the next probe.
func (e *Engine) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// rtt picks the best pair of stamps and guards against clock steps: wall
// clocks may jump, the monotonic offset in p.sent does not.
func (e *Engine) rtt(p *probe, r *Received, now time.Time) (time.Duration, StampSource) {
	sent := e.mono(p.sent)
	mono := now.Sub(sent) // monotonic: an upper bound for the RTT
	var d time.Duration
	stamp := StampUser
	switch {
	case r.Stamp == StampKernel && p.kernel != 0:
		d, stamp = r.At.Sub(time.Unix(0, p.kernel)), StampKernel
	case r.Stamp == StampKernel:
		d = r.At.Sub(sent.Round(0)) // kernel receive, user send, as iputils
	default:
		d = mono
	}
	if d < 0 || d > mono {
		return mono, StampUser
	}
	return d, stamp
}
