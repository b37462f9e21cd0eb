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

// Target is one destination and the connection its probes use.
type Target struct {
	Path *resolve.Path
	Conn Conn
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
	// groups are the broadcast and multicast targets, whose replies come
	// from whoever answers.
	groups  []*target
	queue   []queued // pending probes in send order: their deadlines ascend
	qbuf    []queued // queue's backing array, whose front queue moves past
	wake    chan struct{}
	start   time.Time
	ev      Event       // the event being reported; onEvent must not keep &ev
	check   []byte      // what a corrupted reply should have held
	pr      craft.Probe // the probe being authenticated
	sendErr bool        // the last round had a send error: wait an interval
	// settled: the targets before it are through (see pacedDone); paced:
	// the run is paced (see ended).
	settled int
	paced   bool
	// lastRound is when the last round of a flood went, for FloodGap.
	lastRound time.Time
	// inSend is the probe whose send call is running, with the lock
	// released; held are the answers to it that came meanwhile.
	inSend queued
	held   []arrival

	// Only the scheduler touches these, outside the lock.
	data []byte     // echo data of the probe being sent
	echo craft.Echo // the probe being sent, reused: Conn.Send takes a pointer
	opts []byte     // its IPv4 options, with this host's own entry (ring modes)
}

// New prepares a run. onEvent is called for every event, from the engine's
// goroutines with its lock held: it must be quick (print into a buffer, bump
// a counter) and must not call back into the engine. The *Event is reused
// once onEvent returns; the Event itself may be copied and kept.
//
// New refuses what a target's transport cannot carry (see Conn.Mode): a
// flood, an interval under 2ms or a bad checksum on the ping socket, a bad
// checksum on a raw ICMPv6 socket, data beyond what the family carries.
// The errors wrap ErrRefused. Probes beyond the path MTU with PMTUDiscDo
// are not refused but answered one by one (EventLocalError), as iputils
// answers them.
func New(cfg *Config, targets []Target, onEvent func(*Event)) (*Engine, error) {
	c, err := withDefaults(cfg, len(targets))
	if err != nil {
		return nil, err
	}
	if len(targets) == 0 {
		return nil, errors.New("ping: no targets")
	}
	if onEvent == nil {
		onEvent = func(*Event) {}
	}
	e := &Engine{
		cfg:     c,
		payload: craft.Payload{Size: c.Size, Pattern: c.Pattern, Auth: craft.NewAuthenticator(c.Key)},
		onEvent: onEvent,
		now:     time.Now,
		byAddr:  make(map[netip.Addr]*target, len(targets)),
		wake:    make(chan struct{}, 1),
	}
	win := windowSize(&c, len(targets))
	// The targets and their windows in two arrays, in the order given: the
	// schedule visits them in that order, so that a run over 100,000
	// targets walks memory instead of jumping about it, and New makes two
	// allocations, not two a target.
	all := make([]target, len(targets))
	windows := make([]probe, win*len(targets))
	e.targets = make([]*target, 0, len(targets))
	for i, tg := range targets {
		if err := Refuse(&c, tg.Path, tg.Conn.Mode()); err != nil {
			return nil, err
		}
		t := &all[i]
		*t = target{Target: tg, index: i, id: tg.Conn.ID(), window: windows[i*win : (i+1)*win : (i+1)*win]}
		if _, dup := e.byAddr[tg.Path.Target]; dup {
			return nil, fmt.Errorf("ping: target %s given twice", tg.Path.Target)
		}
		e.targets = append(e.targets, t)
		e.byAddr[tg.Path.Target] = t
		if tg.Path.Broadcast || tg.Path.Target.IsMulticast() {
			e.groups = append(e.groups, t)
		}
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
	e.mu.Lock()
	e.paced = paced
	e.mu.Unlock()
	if !paced && e.cfg.Flood && len(seen) == 1 {
		// As ping -f does, one goroutine sends and receives: the reply is
		// usually queued by the time the send returns, and handing it
		// from a receiving goroutine would cost more than the round trip.
		return stopped(ctx, e.schedule(ctx, e.targets[0].Conn))
	}

	rctx, stopReceivers := context.WithCancel(ctx)
	var wg sync.WaitGroup
	errs := make(chan error, len(seen))
	for c := range seen {
		wg.Go(func() {
			if err := e.receive(rctx, c); err != nil {
				errs <- err
				stopReceivers()
			}
		})
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
	return stopped(ctx, err)
}

// stopped is nil for a run the caller's ctx ended: a normal end, as Ctrl-C
// is for ping.
func stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil
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
		e.handle(c, &r)
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
	e.handle(c, r)
	return nil
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
