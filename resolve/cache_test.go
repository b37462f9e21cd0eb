package resolve

import (
	"net"
	"net/netip"
	"testing"
)

// countingSystem counts what cachedSystem asks of it.
type countingSystem struct {
	System
	byName, byIdx, addrs, neigh int
}

func (c *countingSystem) Neighbour(int, netip.Addr) (net.HardwareAddr, bool, error) {
	c.neigh++
	return net.HardwareAddr{2, 0, 0, 0, 0, 1}, true, nil
}

func (c *countingSystem) InterfaceByName(name string) (Interface, error) {
	c.byName++
	return Interface{Name: name, Index: 2}, nil
}

func (c *countingSystem) InterfaceByIndex(i int) (Interface, error) {
	c.byIdx++
	return Interface{Name: "h0", Index: i}, nil
}

func (c *countingSystem) Addrs(int, bool) ([]netip.Addr, error) {
	c.addrs++
	return []netip.Addr{netip.MustParseAddr("198.18.0.2")}, nil
}

// TestCachedSystem: each link and each family's addresses are asked for
// once, however many targets go through them.
func TestCachedSystem(t *testing.T) {
	under := &countingSystem{}
	c := &cachedSystem{System: under}
	for range 1000 {
		for _, six := range []bool{false, true} {
			if l, err := c.InterfaceByIndex(2); err != nil || l.Name != "h0" {
				t.Fatalf("InterfaceByIndex: %+v, %v", l, err)
			}
			if _, err := c.InterfaceByName("h0"); err != nil {
				t.Fatal(err)
			}
			if as, err := c.Addrs(2, six); err != nil || len(as) != 1 {
				t.Fatalf("Addrs: %v, %v", as, err)
			}
			if _, ok, err := c.Neighbour(2, netip.MustParseAddr("198.18.0.1")); err != nil || !ok {
				t.Fatalf("Neighbour: %v, %v", ok, err)
			}
		}
	}
	if under.byName != 1 || under.byIdx != 1 || under.addrs != 2 || under.neigh != 1 {
		t.Errorf("asked %d, %d, %d and %d times; want once per link, twice (per family) for addresses, once per next hop",
			under.byName, under.byIdx, under.addrs, under.neigh)
	}
}
