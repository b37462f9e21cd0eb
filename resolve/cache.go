package resolve

import (
	"net"
	"net/netip"
	"sync"
)

// cachedSystem asks its System for each link, each link's addresses and
// each next hop's neighbour entry once: resolving thousands of targets
// through one interface would otherwise dump the same link, addresses and
// neighbour table thousands of times (the table dump was a tenth of the
// CPU of a 10,000-target fping run). A batch lives for one set of
// targets; what a solicitation learns is not asked for again here.
type cachedSystem struct {
	System
	close func()

	mu     sync.Mutex
	byName map[string]Interface
	byIdx  map[int]Interface
	addrs  map[addrKey][]netip.Addr
	neigh  map[neighKey]neighEntry
}

type neighKey struct {
	index int
	ip    netip.Addr
}

type neighEntry struct {
	mac net.HardwareAddr
	ok  bool
}

func (c *cachedSystem) Neighbour(index int, ip netip.Addr) (net.HardwareAddr, bool, error) {
	e, err := cached(&c.mu, &c.neigh, neighKey{index, ip}, func(k neighKey) (neighEntry, error) {
		mac, ok, err := c.System.Neighbour(k.index, k.ip)
		return neighEntry{mac, ok}, err
	})
	return e.mac, e.ok, err
}

// Close releases what NewBatch holds; for other Resolvers it does nothing.
func (r *Resolver) Close() {
	if c, ok := r.System.(*cachedSystem); ok && c.close != nil {
		c.close()
	}
}

type addrKey struct {
	index int
	six   bool
}

func (c *cachedSystem) InterfaceByName(name string) (Interface, error) {
	return cached(&c.mu, &c.byName, name, c.System.InterfaceByName)
}

func (c *cachedSystem) InterfaceByIndex(index int) (Interface, error) {
	return cached(&c.mu, &c.byIdx, index, c.System.InterfaceByIndex)
}

func (c *cachedSystem) Addrs(index int, six bool) ([]netip.Addr, error) {
	return cached(&c.mu, &c.addrs, addrKey{index, six}, func(k addrKey) ([]netip.Addr, error) {
		return c.System.Addrs(k.index, k.six)
	})
}

// cached returns (*m)[k], asking get and keeping its answer when there is
// none. Errors are not kept: the link may come. get runs outside mu: it is
// a netlink request.
func cached[K comparable, V any](mu *sync.Mutex, m *map[K]V, k K, get func(K) (V, error)) (V, error) {
	mu.Lock()
	v, ok := (*m)[k]
	mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := get(k)
	if err != nil {
		return v, err
	}
	mu.Lock()
	if *m == nil {
		*m = map[K]V{}
	}
	(*m)[k] = v
	mu.Unlock()
	return v, nil
}

func (s *cachedSystem) OpenAsker(link Interface, src, target netip.Addr) (Asker, error) {
	if o, ok := s.System.(askerOpener); ok {
		return o.OpenAsker(link, src, target)
	}
	return &systemAsker{s: s.System, link: link, src: src, target: target}, nil
}

func (s *cachedSystem) RouteMark(dst netip.Addr, oif string, src netip.Addr, mark uint32) (Route, error) {
	if mr, ok := s.System.(markRouter); ok {
		return mr.RouteMark(dst, oif, src, mark)
	}
	return s.System.Route(dst, oif, src)
}
