package resolve

import (
	"net/netip"
	"testing"
)

// countingSystem counts what cachedSystem asks of it.
type countingSystem struct {
	System
	byName, byIdx, addrs int
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
		}
	}
	if under.byName != 1 || under.byIdx != 1 || under.addrs != 2 {
		t.Errorf("asked %d, %d and %d times; want once per link and twice (per family) for addresses",
			under.byName, under.byIdx, under.addrs)
	}
}
