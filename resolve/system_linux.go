package resolve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/ndp"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// New returns a resolver backed by netlink, ARP and NDP in the calling
// thread's network namespace.
func New() *Resolver {
	return &Resolver{System: netlinkSystem{h: &netlink.Handle{}}, Lookup: net.DefaultResolver.LookupNetIP, Now: time.Now}
}

// NewBatch returns a Resolver for many targets in one go: it keeps its
// netlink sockets open and asks for each link and its addresses once, so it
// must not outlive a change to them. Close releases it.
func NewBatch() (*Resolver, error) {
	h, err := netlink.NewHandle()
	if err != nil {
		return nil, fmt.Errorf("resolve: netlink: %w", err)
	}
	r := New()
	r.System = &cachedSystem{System: netlinkSystem{h: h}, close: h.Close}
	return r, nil
}

// netlinkSystem asks the kernel over netlink. The zero Handle opens a
// socket per request, as the package-level functions do.
type netlinkSystem struct{ h *netlink.Handle }

func (s netlinkSystem) Route(dst netip.Addr, oif string, src netip.Addr) (Route, error) {
	return s.RouteMark(dst, oif, src, 0)
}

// RouteMark is Route for packets carrying mark (SO_MARK), which policy
// routing rules may send elsewhere.
func (s netlinkSystem) RouteMark(dst netip.Addr, oif string, src netip.Addr, mark uint32) (Route, error) {
	opts := &netlink.RouteGetOptions{Oif: oif, Mark: mark}
	if src.IsValid() {
		opts.SrcAddr = src.AsSlice()
	}
	rs, err := s.h.RouteGetWithOptions(dst.AsSlice(), opts)
	if err != nil {
		unreachable := errors.Is(err, unix.ENETUNREACH) || errors.Is(err, unix.EHOSTUNREACH)
		if unreachable && src.IsValid() {
			// The kernel says "unreachable" for a source it does not own;
			// tell that apart from a destination without a route.
			if _, again := s.h.RouteGetWithOptions(dst.AsSlice(), &netlink.RouteGetOptions{Oif: oif, Mark: mark}); again == nil {
				return Route{}, failf(ErrNoAddress, "resolve: source %s is not an address of this host: see 'ip addr'", src)
			}
		}
		switch {
		case unreachable:
			via := ""
			if oif != "" {
				via = " via " + oif
			}
			// The errno stays: the real tools print its text.
			var errno unix.Errno = unix.ENETUNREACH
			if errors.Is(err, unix.EHOSTUNREACH) {
				errno = unix.EHOSTUNREACH
			}
			return Route{}, &pathError{fmt.Sprintf("resolve: no route to %s%s ('ip route get %s' fails too): add a route or pick another target", dst, via, dst), ErrNoRoute, errno}
		case errors.Is(err, unix.ENODEV):
			return Route{}, failf(ErrNoInterface, "resolve: no interface named %s: see 'ip link'", oif)
		case errors.Is(err, unix.EINVAL) && src.IsValid():
			return Route{}, failf(ErrNoAddress, "resolve: source %s is not an address of this host: see 'ip addr'", src)
		}
		return Route{}, fmt.Errorf("resolve: route to %s: %w", dst, err)
	}
	if len(rs) == 0 {
		return Route{}, failf(ErrNoRoute, "resolve: no route to %s", dst)
	}
	r := rs[0]
	if src.Is6() && !src.Is4In6() {
		// IPv6 route lookups take any source the kernel is given; bind
		// would refuse one that is not ours, as IPv4's lookup does.
		ours, err := s.hasAddress(src, r.LinkIndex)
		if err != nil {
			return Route{}, err
		}
		if !ours {
			return Route{}, failf(ErrNoAddress, "resolve: source %s is not an address of this host: see 'ip addr'", src)
		}
	}
	out := Route{Index: r.LinkIndex, MTU: r.MTU, Broadcast: r.Type == unix.RTN_BROADCAST}
	out.Gateway, _ = netip.AddrFromSlice(r.Gw)
	out.Source, _ = netip.AddrFromSlice(r.Src)
	out.Gateway, out.Source = out.Gateway.Unmap(), out.Source.Unmap()
	return out, nil
}

// hasAddress reports whether a is an IPv6 address of this host, usable
// as a source out of link: a link-local one must be link's own, since it
// means nothing elsewhere.
func (s netlinkSystem) hasAddress(a netip.Addr, link int) (bool, error) {
	as, err := s.h.AddrList(nil, netlink.FAMILY_V6)
	if err != nil {
		return false, fmt.Errorf("resolve: addresses: %w", err)
	}
	a = a.WithZone("")
	for _, x := range as {
		ip, ok := netip.AddrFromSlice(x.IP)
		if !ok || ip != a || x.Flags&unix.IFA_F_DADFAILED != 0 {
			continue
		}
		if !a.IsLinkLocalUnicast() || x.LinkIndex == link {
			return true, nil
		}
	}
	return false, nil
}

func (s netlinkSystem) InterfaceByName(name string) (Interface, error) {
	l, err := s.h.LinkByName(name)
	if err != nil {
		var notFound netlink.LinkNotFoundError
		if errors.As(err, &notFound) || errors.Is(err, unix.ENODEV) {
			return Interface{}, failf(ErrNoInterface, "resolve: no interface named %s: see 'ip link'", name)
		}
		return Interface{}, fmt.Errorf("resolve: interface %s: %w", name, err)
	}
	return linkOf(l), nil
}

func (s netlinkSystem) InterfaceByIndex(index int) (Interface, error) {
	l, err := s.h.LinkByIndex(index)
	if err != nil {
		return Interface{}, fmt.Errorf("resolve: interface index %d: %w", index, err)
	}
	return linkOf(l), nil
}

func linkOf(l netlink.Link) Interface {
	a := l.Attrs()
	out := Interface{
		Name: a.Name, Index: a.Index, MTU: a.MTU, HardwareAddr: a.HardwareAddr,
		Up: a.Flags&net.FlagUp != 0,
	}
	switch {
	case a.Flags&net.FlagLoopback != 0:
		out.Kind = KindLoopback
	case a.RawFlags&unix.IFF_NOARP != 0 || len(a.HardwareAddr) != 6 || a.EncapType != "ether":
		out.Kind = KindNone
	default:
		out.Kind = KindEthernet
	}
	return out
}

func (s netlinkSystem) Addrs(index int, six bool) ([]netip.Addr, error) {
	family := netlink.FAMILY_V4
	if six {
		family = netlink.FAMILY_V6
	}
	link, err := s.h.LinkByIndex(index)
	if err != nil {
		return nil, fmt.Errorf("resolve: interface index %d: %w", index, err)
	}
	as, err := s.h.AddrList(link, family)
	if err != nil {
		return nil, fmt.Errorf("resolve: addresses of %s: %w", link.Attrs().Name, err)
	}
	var out []netip.Addr
	for _, a := range as {
		// A tentative address (IPv6 duplicate address detection running)
		// cannot be used as a source yet.
		if a.Flags&(unix.IFA_F_TENTATIVE|unix.IFA_F_DADFAILED) != 0 {
			continue
		}
		if ip, ok := netip.AddrFromSlice(a.IP); ok {
			out = append(out, ip.Unmap())
		}
	}
	return out, nil
}

// usableStates are the neighbour states whose address can be used without
// asking again: confirmed, static, or confirmed a moment ago.
const usableStates = unix.NUD_REACHABLE | unix.NUD_PERMANENT | unix.NUD_NOARP | unix.NUD_DELAY

func (s netlinkSystem) Neighbour(index int, ip netip.Addr) (net.HardwareAddr, bool, error) {
	family := netlink.FAMILY_V4
	if ip.Is6() {
		family = netlink.FAMILY_V6
	}
	ns, err := s.h.NeighList(index, family)
	if err != nil {
		return nil, false, fmt.Errorf("resolve: neighbour table: %w", err)
	}
	for _, n := range ns {
		if a, ok := netip.AddrFromSlice(n.IP); ok && a.Unmap() == ip && n.State&usableStates != 0 && len(n.HardwareAddr) == 6 {
			return n.HardwareAddr, true, nil
		}
	}
	return nil, false, nil
}

func (s netlinkSystem) Solicit(ctx context.Context, link Interface, src, target netip.Addr, tries int, timeout time.Duration) (net.HardwareAddr, error) {
	a, err := s.OpenAsker(link, src, target)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	return a.Ask(ctx, tries, timeout)
}

// OpenAsker opens the socket that asks target for its MAC, now, while
// the caller still may: a run asks again long after it dropped
// CAP_NET_RAW.
func (netlinkSystem) OpenAsker(link Interface, src, target netip.Addr) (Asker, error) {
	ifi, err := net.InterfaceByIndex(link.Index)
	if err != nil {
		return nil, fmt.Errorf("resolve: interface %s: %w", link.Name, err)
	}
	a := &asker{link: link.Name, target: target}
	if target.Is6() {
		a.proto = "NDP"
		a.ask, a.close, err = openNDP(ifi, src, target)
	} else {
		a.proto = "ARP"
		a.ask, a.close, err = openARP(ifi, src, target)
	}
	if err != nil {
		return nil, fmt.Errorf("resolve: %s for %s on %s: %w", a.proto, target, link.Name, err)
	}
	return a, nil
}

// asker asks one next hop over a socket of its own.
type asker struct {
	proto, link string
	target      netip.Addr
	ask         func(ctx context.Context, tries int, timeout time.Duration) (net.HardwareAddr, error)
	close       func() error
}

func (a *asker) Ask(ctx context.Context, tries int, timeout time.Duration) (net.HardwareAddr, error) {
	mac, err := a.ask(ctx, tries, timeout)
	switch {
	case err == nil:
		return mac, nil
	case ctx.Err() != nil:
		return nil, fmt.Errorf("resolve: %s for %s on %s: %w", a.proto, a.target, a.link, ctx.Err())
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, failf(ErrNoNeighbour, "resolve: %s for %s on %s: no reply after %d tries in %s: is the next hop up and on this link?", a.proto, a.target, a.link, tries, time.Duration(tries)*timeout)
	}
	return nil, fmt.Errorf("resolve: %s for %s on %s: %w", a.proto, a.target, a.link, err)
}

func (a *asker) Close() error { return a.close() }

// deadlined is what both sockets offer to unblock a read.
type deadlined interface {
	SetDeadline(time.Time) error
	Close() error
}

// cancelled arms c to stop reading when ctx ends, for one Ask: a deadline
// in the past wakes the read without closing the socket the next Ask
// needs.
func cancelled(ctx context.Context, c deadlined) (stop func() bool) {
	return context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
}

func openARP(ifi *net.Interface, src, target netip.Addr) (func(context.Context, int, time.Duration) (net.HardwareAddr, error), func() error, error) {
	c, err := arp.Dial(ifi)
	if err != nil {
		return nil, nil, err
	}
	// Our chosen source goes in the request, not arp.Client's first address.
	req, err := arp.NewPacket(arp.OperationRequest, ifi.HardwareAddr, src, ethernet.Broadcast, target)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	ask := func(ctx context.Context, tries int, timeout time.Duration) (net.HardwareAddr, error) {
		defer cancelled(ctx, c)()
		for i := 0; i < tries && ctx.Err() == nil; i++ {
			if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
				return nil, err
			}
			if err := c.WriteTo(req, ethernet.Broadcast); err != nil {
				return nil, err
			}
			for {
				p, _, err := c.Read()
				if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil {
					break
				}
				if err != nil {
					return nil, err
				}
				if p.Operation == arp.OperationReply && p.SenderIP == target {
					return p.SenderHardwareAddr, nil
				}
			}
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, os.ErrDeadlineExceeded
	}
	return ask, c.Close, nil
}

func openNDP(ifi *net.Interface, src, target netip.Addr) (func(context.Context, int, time.Duration) (net.HardwareAddr, error), func() error, error) {
	// Solicitations go out from the link-local address, as the kernel's do;
	// while duplicate address detection still holds it (tentative, so
	// bind fails), from the probe's own source, as the kernel then does
	// (ndisc_solicit takes the queued packet's source).
	c, _, err := ndp.Listen(ifi, ndp.LinkLocal)
	if err != nil && src.IsValid() && (errors.Is(err, unix.EADDRNOTAVAIL) || !hasLinkLocal(ifi)) {
		c, _, err = ndp.Listen(ifi, ndp.Addr(src.WithZone("").String()))
	}
	if err != nil {
		return nil, nil, err
	}
	group, err := ndp.SolicitedNodeMulticast(target)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	ns := &ndp.NeighborSolicitation{
		TargetAddress: target,
		Options:       []ndp.Option{&ndp.LinkLayerAddress{Direction: ndp.Source, Addr: ifi.HardwareAddr}},
	}
	ask := func(ctx context.Context, tries int, timeout time.Duration) (net.HardwareAddr, error) {
		defer cancelled(ctx, c)()
		for i := 0; i < tries && ctx.Err() == nil; i++ {
			if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
				return nil, err
			}
			if err := c.WriteTo(ns, nil, group); err != nil {
				return nil, err
			}
			for {
				m, _, _, err := c.ReadFrom()
				if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil {
					break
				}
				if err != nil {
					return nil, err
				}
				na, ok := m.(*ndp.NeighborAdvertisement)
				if !ok || na.TargetAddress != target {
					continue
				}
				for _, o := range na.Options {
					if lla, ok := o.(*ndp.LinkLayerAddress); ok && lla.Direction == ndp.Target {
						return lla.Addr, nil
					}
				}
			}
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, os.ErrDeadlineExceeded
	}
	return ask, c.Close, nil
}

// hasLinkLocal reports whether ifi has an IPv6 link-local address at all.
func hasLinkLocal(ifi *net.Interface) bool {
	addrs, err := ifi.Addrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() == nil && n.IP.IsLinkLocalUnicast() {
			return true
		}
	}
	return false
}
