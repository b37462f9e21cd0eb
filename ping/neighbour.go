package ping

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/resolve"
)

// neighbourQueue bounds the probes waiting for one next hop's MAC, as the
// kernel's unres_qlen_bytes bounds its queue; the oldest gives way.
const neighbourQueue = 256

// neighbourConn carries the probes of ring transports (modes ethernet and
// ip) whose next hop's MAC is not known yet as the kernel carries a
// packet to an unresolved neighbour: queued while ARP or NDP runs in the
// background, so that neither the engine nor any other target waits;
// sent once the next hop answers; answered, when it does not, by a
// "host unreachable" from our own source address (what the kernel sends
// itself, and iputils prints), after which the next probe asks again.
type neighbourConn struct {
	Conn
	open    func(p *resolve.Path) (resolve.Asker, error)
	tries   int
	timeout time.Duration
	ctx     context.Context
	stop    context.CancelFunc
	wg      sync.WaitGroup
	sendMu  sync.Mutex // the inner Send must not run concurrently with itself

	mu       sync.Mutex
	byTarget map[netip.Addr]*nextHop
	hops     map[macKey]*nextHop
	errs     []Received // unreachables not yet received
	closed   bool
}

type nextHop struct {
	path      *resolve.Path // the first target's, a copy
	ask       resolve.Asker // opened while the run still may
	mac       net.HardwareAddr
	resolving bool
	queue     []craft.Echo
}

// newNeighbourConn wraps c; open opens a next hop's Asker, which asks
// tries times waiting timeout each time.
func newNeighbourConn(c Conn, open func(*resolve.Path) (resolve.Asker, error), tries int, timeout time.Duration) *neighbourConn {
	ctx, stop := context.WithCancel(context.Background())
	return &neighbourConn{Conn: c, open: open, tries: tries, timeout: timeout, ctx: ctx, stop: stop,
		byTarget: map[netip.Addr]*nextHop{}, hops: map[macKey]*nextHop{}}
}

// add makes p's probes wait for its next hop's MAC, opening the socket
// that asks for it now, in the caller's network namespace and with its
// privileges.
func (c *neighbourConn) add(p *resolve.Path) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := macKey{p.Index, p.NextHop}
	h := c.hops[k]
	if h == nil {
		cp := *p
		ask, err := c.open(&cp)
		if err != nil {
			return err
		}
		h = &nextHop{path: &cp, ask: ask}
		c.hops[k] = h
	}
	c.byTarget[p.Target] = h
	return nil
}

// Send sends e at once when its next hop's MAC is known, and otherwise
// queues it and starts asking; a queued probe counts as sent, as one the
// kernel queues does.
func (c *neighbourConn) Send(e *craft.Echo) (time.Time, error) {
	c.mu.Lock()
	h := c.byTarget[e.Dst]
	if h == nil || e.DstMAC != nil || h.mac != nil {
		var mac net.HardwareAddr
		if h != nil && e.DstMAC == nil {
			mac = h.mac
		}
		c.mu.Unlock()
		return c.send(e, mac)
	}
	at := time.Now()
	q := *e
	q.Payload = append([]byte(nil), e.Payload...) // the engine reuses e's
	if len(h.queue) == neighbourQueue {
		h.queue = h.queue[1:]
	}
	h.queue = append(h.queue, q)
	if !h.resolving && !c.closed {
		h.resolving = true
		c.wg.Add(1)
		go c.resolve(h)
	}
	c.mu.Unlock()
	return at, nil
}

func (c *neighbourConn) send(e *craft.Echo, mac net.HardwareAddr) (time.Time, error) {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if mac == nil {
		return c.Conn.Send(e)
	}
	cp := *e
	cp.DstMAC = mac
	return c.Conn.Send(&cp)
}

// resolve asks h's next hop for its MAC, then sends what waited for it or
// answers each with an unreachable.
func (c *neighbourConn) resolve(h *nextHop) {
	defer c.wg.Done()
	mac, err := h.ask.Ask(c.ctx, c.tries, c.timeout)
	c.mu.Lock()
	h.resolving = false
	queue := h.queue
	h.queue = nil
	if c.ctx.Err() != nil {
		c.mu.Unlock()
		return
	}
	if err != nil {
		now := time.Now()
		for i := range queue {
			c.errs = append(c.errs, unreachable(h.path, &queue[i], now))
		}
		c.mu.Unlock()
		return
	}
	h.mac = mac
	c.mu.Unlock()
	for i := range queue {
		c.send(&queue[i], mac) // a failure here is the kernel's to report: it queued the probe
	}
}

// unreachable is the "host unreachable" (ICMPv6: address unreachable) the
// kernel sends itself, from p's source, when a next hop does not answer:
// what iputils prints as "From SOURCE icmp_seq=N Destination Host
// Unreachable".
func unreachable(p *resolve.Path, e *craft.Echo, at time.Time) Received {
	six := p.Target.Is6()
	src := e.Src
	if !src.IsValid() {
		src = p.Source
	}
	ie := craft.ICMPError{Kind: craft.ErrUnreachable, Six: six, Type: 3, Code: 1,
		Quote: craft.Quote{Present: true, Src: src, Dst: e.Dst, Protocol: 1, TTL: e.TTL, Echo: true, ID: e.ID, Seq: e.Seq}}
	version := uint8(4)
	if six {
		ie.Type, ie.Code, ie.Quote.Protocol, version = 1, 3, 58, 6
	}
	return Received{
		Packet: craft.Packet{Class: craft.ClassError, IPVersion: version, Src: p.Source, Dst: src,
			Protocol: ie.Quote.Protocol, ICMPType: ie.Type, ICMPCode: ie.Code, Error: ie},
		From: p.Source, At: at, Stamp: StampUser,
	}
}

// Receive returns an unreachable of ours when one waits, else the inner
// Conn's next packet; an unreachable found meanwhile waits at most for the
// inner deadline, which the engine keeps short.
func (c *neighbourConn) Receive(r *Received) error {
	c.mu.Lock()
	if len(c.errs) > 0 {
		*r = c.errs[0]
		c.errs = c.errs[1:]
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	return c.Conn.Receive(r)
}

// Close stops the solicitations, waits for them and closes the inner Conn.
func (c *neighbourConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.stop()
	c.wg.Wait()
	for _, h := range c.hops {
		h.ask.Close()
	}
	return c.Conn.Close()
}
