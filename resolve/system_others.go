//go:build !linux

package resolve

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"time"
)

// New returns a resolver whose every system call fails: route and
// neighbour lookups are implemented for Linux only.
func New() *Resolver {
	return &Resolver{System: unsupported{}, Lookup: net.DefaultResolver.LookupNetIP, Now: time.Now}
}

// NewBatch returns New(): nothing here to keep open.
func NewBatch() (*Resolver, error) { return New(), nil }

type unsupported struct{}

var errOS = fmt.Errorf("resolve: not implemented on %s", runtime.GOOS)

func (unsupported) Route(netip.Addr, string, netip.Addr) (Route, error) { return Route{}, errOS }
func (unsupported) InterfaceByName(string) (Interface, error)           { return Interface{}, errOS }
func (unsupported) InterfaceByIndex(int) (Interface, error)             { return Interface{}, errOS }
func (unsupported) Addrs(int, bool) ([]netip.Addr, error)               { return nil, errOS }
func (unsupported) Neighbour(int, netip.Addr) (net.HardwareAddr, bool, error) {
	return nil, false, errOS
}
func (unsupported) Solicit(context.Context, Interface, netip.Addr, netip.Addr, int, time.Duration) (net.HardwareAddr, error) {
	return nil, errOS
}
