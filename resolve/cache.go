package resolve

import (
	"net/netip"
	"sync"
)

// cachedSystem asks its System for each link and each link's addresses
// once: resolving thousands of targets through one interface would
// otherwise dump the same link and addresses thousands of times.
type cachedSystem struct {
	System
	close func()

	mu     sync.Mutex
	byName map[string]Interface
	byIdx  map[int]Interface
	addrs  map[addrKey][]netip.Addr
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
	c.mu.Lock()
	l, ok := c.byName[name]
	c.mu.Unlock()
	if ok {
		return l, nil
	}
	l, err := c.System.InterfaceByName(name)
	if err != nil {
		return l, err // errors are not kept: the link may come
	}
	c.mu.Lock()
	if c.byName == nil {
		c.byName = map[string]Interface{}
	}
	c.byName[name] = l
	c.mu.Unlock()
	return l, nil
}

func (c *cachedSystem) InterfaceByIndex(index int) (Interface, error) {
	c.mu.Lock()
	l, ok := c.byIdx[index]
	c.mu.Unlock()
	if ok {
		return l, nil
	}
	l, err := c.System.InterfaceByIndex(index)
	if err != nil {
		return l, err
	}
	c.mu.Lock()
	if c.byIdx == nil {
		c.byIdx = map[int]Interface{}
	}
	c.byIdx[index] = l
	c.mu.Unlock()
	return l, nil
}

func (c *cachedSystem) Addrs(index int, six bool) ([]netip.Addr, error) {
	k := addrKey{index, six}
	c.mu.Lock()
	as, ok := c.addrs[k]
	c.mu.Unlock()
	if ok {
		return as, nil
	}
	as, err := c.System.Addrs(index, six)
	if err != nil {
		return as, err
	}
	c.mu.Lock()
	if c.addrs == nil {
		c.addrs = map[addrKey][]netip.Addr{}
	}
	c.addrs[k] = as
	c.mu.Unlock()
	return as, nil
}
