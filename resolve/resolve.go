package resolve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// Sentinel errors for the conditions callers act on; each returned error
// wraps one and names the object and the fix.
var (
	ErrNoRoute       = errors.New("no route")
	ErrNoInterface   = errors.New("no such interface")
	ErrInterfaceDown = errors.New("interface down")
	ErrNoAddress     = errors.New("no address")
	ErrNoName        = errors.New("name not found")
	ErrNoNeighbour   = errors.New("next hop did not answer")
	// ErrNameTemporary: the resolver did not answer (unreachable, silent,
	// failing), so the name may exist. Its errors wrap ErrNoName too.
	ErrNameTemporary = errors.New("temporary failure in name resolution")
)

// LookupTimeout bounds one name's lookup, retries included: glibc gives up
// on a silent resolver after about as long (iputils' ping took 6 s), Go's
// own resolver only after twice its 5 s per try.
const LookupTimeout = 5 * time.Second

// InterfaceKind is what an interface needs in front of an IP packet.
type InterfaceKind uint8

const (
	_ InterfaceKind = iota
	// KindEthernet needs the next hop's hardware address.
	KindEthernet
	// KindLoopback: the kernel drops frames injected on lo through
	// AF_PACKET, so probes go through a raw or ping socket.
	KindLoopback
	// KindNone has no link-layer address (tun, NOARP, tunnels).
	KindNone
)

// MACSource says where the next hop's hardware address came from.
type MACSource uint8

const (
	_ MACSource = iota
	MACFromNeighbourTable
	MACFromARP
	MACFromNDP
	MACNotNeeded
	// MACUnknown: Options.NoSolicit left an empty neighbour entry unasked.
	MACUnknown
	// MACFromGroup: the target is a broadcast or multicast address, whose
	// MAC follows from it (RFC 1112, RFC 2464) with no ARP or NDP.
	MACFromGroup
)

// Path is everything a probe to Target needs.
type Path struct {
	// Name is the target as given, Target its address.
	Name      string
	Target    netip.Addr
	Interface string
	Index     int
	Kind      InterfaceKind
	Source    netip.Addr
	SourceMAC net.HardwareAddr
	// NextHop is the gateway, or Target itself when it is on-link.
	NextHop    netip.Addr
	Gateway    bool
	NextHopMAC net.HardwareAddr
	MACSource  MACSource
	MTU        int
	// Broadcast: the kernel routes Target as a broadcast address (limited
	// or a subnet's directed one): ping -b territory. Multicast targets
	// are told by Target.IsMulticast().
	Broadcast bool
	// Bound is the interface asked for (Options.Interface, ping -I), which
	// sockets are bound to as iputils binds them, lo included, whatever
	// interface the route takes (lo, for the host's own addresses).
	Bound string
	// Took is how long resolving took, ARP or NDP included.
	Took time.Duration
}

// Options constrain a resolution. A nil *Options means the defaults.
type Options struct {
	// Family is 4 or 6 to force one; 0 takes what the name resolves to,
	// IPv4 first.
	Family int
	// Interface constrains the egress interface, like ping -I.
	Interface string
	// Source constrains the source address, like ping -I ADDRESS.
	Source netip.Addr
	// Tries and Timeout bound ARP and NDP: Tries requests, Timeout each.
	Tries   int
	Timeout time.Duration
	// Mark is the probes' SO_MARK: routes are looked up for it, as the
	// kernel looks them up for a marked socket's packets.
	Mark uint32
	// NoSolicit takes the next hop's MAC from the neighbour table only;
	// without an entry it stays unknown (MACUnknown) until Solicit asks.
	// ARP and NDP need CAP_NET_RAW, which the ping socket does not.
	NoSolicit bool
}

// Defaults for Options.Tries and Options.Timeout.
const (
	DefaultTries   = 3
	DefaultTimeout = time.Second
)

// Route is the kernel's answer to "how do I reach this address".
type Route struct {
	Index   int
	Gateway netip.Addr // invalid when the destination is on-link
	Source  netip.Addr // preferred source, if the kernel gave one
	MTU     int        // route MTU, 0 when the route sets none
	// Broadcast: the route's type is broadcast (RTN_BROADCAST).
	Broadcast bool
}

// Interface is an interface as the resolver needs it.
type Interface struct {
	Name         string
	Index        int
	MTU          int
	HardwareAddr net.HardwareAddr
	Up           bool
	Kind         InterfaceKind
}

// System is the operating system under the resolver, injected so the
// decision logic is tested without root.
type System interface {
	// Route returns the route to dst, constrained by oif (0: any) and src
	// (invalid: any). An unreachable destination is an error wrapping
	// ErrNoRoute.
	Route(dst netip.Addr, oif string, src netip.Addr) (Route, error)
	InterfaceByName(name string) (Interface, error)
	InterfaceByIndex(index int) (Interface, error)
	// Addrs returns the link's addresses of one family.
	Addrs(index int, six bool) ([]netip.Addr, error)
	// Neighbour returns a usable neighbour table entry (reachable,
	// permanent, delay), or ok false when there is none or it is stale.
	Neighbour(index int, ip netip.Addr) (mac net.HardwareAddr, ok bool, err error)
	// Solicit asks target for its hardware address over link by ARP or
	// NDP, tries times, waiting timeout for each answer.
	Solicit(ctx context.Context, link Interface, src, target netip.Addr, tries int, timeout time.Duration) (net.HardwareAddr, error)
}

// Lookup resolves host names, as net.Resolver.LookupNetIP does.
type Lookup func(ctx context.Context, network, host string) ([]netip.Addr, error)

// Resolver resolves targets to paths. New returns one backed by the
// running system; Lookup and Now default to the system resolver and clock.
type Resolver struct {
	System System
	Lookup Lookup
	Now    func() time.Time
}

// Resolve finds the path to target, an IPv4 or IPv6 literal (with an
// optional %zone) or a host name.
func (r *Resolver) Resolve(ctx context.Context, target string, opts *Options) (*Path, error) {
	o := Options{Tries: DefaultTries, Timeout: DefaultTimeout}
	if opts != nil {
		o = *opts
		if o.Tries <= 0 {
			o.Tries = DefaultTries
		}
		if o.Timeout <= 0 {
			o.Timeout = DefaultTimeout
		}
	}
	if o.Family != 0 && o.Family != 4 && o.Family != 6 {
		return nil, fmt.Errorf("resolve: family %d: use 4, 6 or 0 for either", o.Family)
	}
	now := r.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	asked := o.Interface // a target's zone is not a -I
	dst, err := r.address(ctx, target, &o)
	if err != nil {
		return nil, err
	}
	six := dst.Is6()
	if dst.IsUnspecified() {
		// The kernel sends to 0.0.0.0 or :: as to the source, else to
		// loopback (ip_route_output_key), and the reply comes from there.
		dst = netip.IPv6Loopback()
		if !six {
			dst = netip.AddrFrom4([4]byte{127, 0, 0, 1})
		}
		if o.Source.IsValid() && o.Source.Is6() == six {
			dst = o.Source
		}
	}
	p := &Path{Name: target, Target: dst, Bound: asked}

	if o.Source.IsValid() && o.Source.Is6() != six {
		return nil, failf(ErrNoAddress, "resolve: source %s and target %s are of different families", o.Source, dst)
	}
	if o.Interface != "" {
		l, err := r.System.InterfaceByName(o.Interface)
		if err != nil {
			return nil, err
		}
		if err := usable(l, r.System, six); err != nil {
			return nil, err
		}
	}
	var rt Route
	if mr, ok := r.System.(markRouter); ok && o.Mark != 0 {
		rt, err = mr.RouteMark(dst, o.Interface, o.Source, o.Mark)
	} else {
		rt, err = r.System.Route(dst, o.Interface, o.Source)
	}
	if err != nil {
		return nil, err
	}
	link, err := r.System.InterfaceByIndex(rt.Index)
	if err != nil {
		return nil, err
	}
	if err := usable(link, r.System, six); err != nil {
		return nil, err
	}
	p.Interface, p.Index, p.Kind, p.SourceMAC = link.Name, link.Index, link.Kind, link.HardwareAddr
	p.MTU = link.MTU
	if rt.MTU > 0 && rt.MTU < p.MTU {
		p.MTU = rt.MTU
	}
	p.Source = o.Source
	if !p.Source.IsValid() {
		p.Source = rt.Source
	}
	if !p.Source.IsValid() {
		addrs, err := r.System.Addrs(link.Index, six)
		if err != nil {
			return nil, err
		}
		p.Source = pickSource(addrs, dst)
	}
	p.NextHop, p.Gateway = dst, false
	p.Broadcast = rt.Broadcast || dst == netip.AddrFrom4([4]byte{255, 255, 255, 255})
	if rt.Gateway.IsValid() && !p.Broadcast && !dst.IsMulticast() {
		p.NextHop, p.Gateway = rt.Gateway, true
	}

	switch {
	case link.Kind == KindLoopback || link.Kind == KindNone:
		p.MACSource = MACNotNeeded
	case p.Broadcast || dst.IsMulticast():
		p.NextHopMAC, p.MACSource = GroupMAC(dst, p.Broadcast), MACFromGroup
	default:
		mac, ok, err := r.System.Neighbour(link.Index, p.NextHop)
		if err != nil {
			return nil, err
		}
		if ok {
			p.NextHopMAC, p.MACSource = mac, MACFromNeighbourTable
			break
		}
		p.MACSource = MACUnknown
		if !o.NoSolicit {
			if err := r.solicit(ctx, p, link, &o); err != nil {
				return nil, err
			}
		}
	}
	p.Took = now().Sub(start)
	return p, nil
}

// Solicit asks p's next hop for its MAC by ARP or NDP when p does not know
// it yet (a path resolved with NoSolicit); only Tries and Timeout of opts
// are used.
func (r *Resolver) Solicit(ctx context.Context, p *Path, opts *Options) error {
	if p.MACSource != MACUnknown {
		return nil
	}
	o := Options{Tries: DefaultTries, Timeout: DefaultTimeout}
	if opts != nil && opts.Tries > 0 {
		o.Tries = opts.Tries
	}
	if opts != nil && opts.Timeout > 0 {
		o.Timeout = opts.Timeout
	}
	link, err := r.System.InterfaceByIndex(p.Index)
	if err != nil {
		return err
	}
	return r.solicit(ctx, p, link, &o)
}

// Asker asks one next hop for its MAC, by ARP or NDP, over a socket
// opened once: Ask may run after the process gave up the privilege that
// opening needs.
type Asker interface {
	Ask(ctx context.Context, tries int, timeout time.Duration) (net.HardwareAddr, error)
	Close() error
}

// markRouter is a System that can look a route up for marked packets.
type markRouter interface {
	RouteMark(dst netip.Addr, oif string, src netip.Addr, mark uint32) (Route, error)
}

// askerOpener is a System that can open an Asker ahead of time.
type askerOpener interface {
	OpenAsker(link Interface, src, target netip.Addr) (Asker, error)
}

// OpenAsker opens an Asker for p's next hop. A System that cannot open one
// ahead gets one that calls its Solicit each time.
func (r *Resolver) OpenAsker(p *Path) (Asker, error) {
	link, err := r.System.InterfaceByIndex(p.Index)
	if err != nil {
		return nil, err
	}
	if o, ok := r.System.(askerOpener); ok {
		return o.OpenAsker(link, p.Source, p.NextHop)
	}
	return &systemAsker{s: r.System, link: link, src: p.Source, target: p.NextHop}, nil
}

type systemAsker struct {
	s           System
	link        Interface
	src, target netip.Addr
}

func (a *systemAsker) Ask(ctx context.Context, tries int, timeout time.Duration) (net.HardwareAddr, error) {
	return a.s.Solicit(ctx, a.link, a.src, a.target, tries, timeout)
}

func (a *systemAsker) Close() error { return nil }

func (r *Resolver) solicit(ctx context.Context, p *Path, link Interface, o *Options) error {
	mac, err := r.System.Solicit(ctx, link, p.Source, p.NextHop, o.Tries, o.Timeout)
	if err != nil {
		return err
	}
	p.NextHopMAC, p.MACSource = mac, MACFromARP
	if p.NextHop.Is6() {
		p.MACSource = MACFromNDP
	}
	return nil
}

// address turns target into one address of the wanted family.
func (r *Resolver) address(ctx context.Context, target string, o *Options) (netip.Addr, error) {
	if target == "" {
		return netip.Addr{}, errors.New("resolve: empty target: give an IPv4 or IPv6 address or a host name")
	}
	if a, err := netip.ParseAddr(target); err == nil {
		if zone := a.Zone(); zone != "" {
			if o.Interface != "" && o.Interface != zone {
				return netip.Addr{}, fmt.Errorf("resolve: target %s names zone %s but the interface is %s: drop one", target, zone, o.Interface)
			}
			o.Interface = zone
			a = a.WithZone("")
		}
		a = a.Unmap()
		if o.Family == 4 && !a.Is4() || o.Family == 6 && !a.Is6() {
			return netip.Addr{}, failf(ErrNoAddress, "resolve: %s is not an IPv%d address: drop -%d or give an IPv%d target", target, o.Family, o.Family, o.Family)
		}
		return a, nil
	}
	network := map[int]string{0: "ip", 4: "ip4", 6: "ip6"}[o.Family]
	lookup := r.Lookup
	if lookup == nil {
		lookup = net.DefaultResolver.LookupNetIP
	}
	lctx, cancel := context.WithTimeout(ctx, LookupTimeout)
	defer cancel()
	addrs, err := lookup(lctx, network, target)
	switch {
	case ctx.Err() != nil:
		return netip.Addr{}, ctx.Err()
	case err != nil && !isNotFound(err):
		// iputils' words (getaddrinfo's EAI_AGAIN): the name is not known
		// to be wrong, so no advice on its spelling.
		return netip.Addr{}, failf(errors.Join(ErrNoName, ErrNameTemporary), "resolve: %s: Temporary failure in name resolution", target)
	case len(addrs) == 0 && o.Family != 0:
		return netip.Addr{}, failf(ErrNoName, "resolve: name %s has no IPv%d address: drop -%d or use another name", target, o.Family, o.Family)
	case len(addrs) == 0:
		return netip.Addr{}, failf(ErrNoName, "resolve: name %s not found: check the spelling or give an address", target)
	}
	// The first address, in the order the system's resolver sorts them
	// (RFC 6724, as getaddrinfo does for ping): localhost is ::1 where the
	// hosts file lists it.
	return addrs[0].Unmap(), nil
}

func isNotFound(err error) bool {
	var dns *net.DNSError
	return errors.As(err, &dns) && dns.IsNotFound
}

// usable checks that link can carry the family.
func usable(l Interface, sys System, six bool) error {
	fam := 4
	if six {
		fam = 6
	}
	if !l.Up {
		return failf(ErrInterfaceDown, "resolve: interface %s is down: bring it up with 'ip link set %s up'", l.Name, l.Name)
	}
	addrs, err := sys.Addrs(l.Index, six)
	if err != nil {
		return err
	}
	if len(addrs) == 0 {
		return failf(ErrNoAddress, "resolve: interface %s has no IPv%d address: add one ('ip addr add ADDR/LEN dev %s') or choose another interface", l.Name, fam, l.Name)
	}
	return nil
}

// pickSource prefers an address of the same scope as dst: link-local for a
// link-local target, global otherwise.
func pickSource(addrs []netip.Addr, dst netip.Addr) netip.Addr {
	for _, a := range addrs {
		if a.IsLinkLocalUnicast() == dst.IsLinkLocalUnicast() {
			return a
		}
	}
	if len(addrs) > 0 {
		return addrs[0]
	}
	return netip.Addr{}
}

// String prints the decision, one fact a line, for pingcraft resolve.
func (p *Path) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "target      %s", p.Target)
	if p.Name != p.Target.String() {
		fmt.Fprintf(&b, " (%s)", p.Name)
	}
	fmt.Fprintf(&b, "\ninterface   %s (index %d, %s, mtu %d)\n", p.Interface, p.Index, p.Kind, p.MTU)
	fmt.Fprintf(&b, "source      %s", p.Source)
	if p.SourceMAC != nil {
		fmt.Fprintf(&b, " %s", p.SourceMAC)
	}
	role := "on-link"
	if p.Gateway {
		role = "gateway"
	}
	fmt.Fprintf(&b, "\nnext hop    %s (%s)", p.NextHop, role)
	if p.NextHopMAC != nil {
		fmt.Fprintf(&b, " %s", p.NextHopMAC)
	}
	fmt.Fprintf(&b, " [MAC: %s]\ntook        %s\n", p.MACSource, p.Took.Round(time.Microsecond))
	return b.String()
}

var macSourceNames = [...]string{MACFromNeighbourTable: "neighbour table", MACFromARP: "ARP", MACFromNDP: "NDP", MACNotNeeded: "not needed", MACUnknown: "unknown",
	MACFromGroup: "broadcast/multicast"}

// GroupMAC is the Ethernet address of a broadcast (broadcast set) or
// multicast IP address: ff:ff:ff:ff:ff:ff, 01:00:5e and the low 23 bits of
// an IPv4 group (RFC 1112), 33:33 and the low 32 bits of an IPv6 one (RFC
// 2464). It is nil for any other address.
func GroupMAC(a netip.Addr, broadcast bool) net.HardwareAddr {
	b := a.As16()
	switch {
	case broadcast && a.Is4():
		return net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	case a.Is4() && a.IsMulticast():
		return net.HardwareAddr{0x01, 0x00, 0x5e, b[13] & 0x7f, b[14], b[15]}
	case a.Is6() && a.IsMulticast():
		return net.HardwareAddr{0x33, 0x33, b[12], b[13], b[14], b[15]}
	}
	return nil
}

func (s MACSource) String() string {
	if int(s) < len(macSourceNames) && macSourceNames[s] != "" {
		return macSourceNames[s]
	}
	return fmt.Sprintf("MACSource(%d)", uint8(s))
}

// pathError is a one-line message that still matches its sentinel with
// errors.Is, without repeating the sentinel's text.
type pathError struct {
	msg   string
	kind  error
	cause error // the system's error underneath, if any
}

func (e *pathError) Error() string { return e.msg }
func (e *pathError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

// SystemText is the text C's strerror gives the system error (errno) err
// wraps, as iputils and fping print it ("connect: Network is unreachable",
// "error while sending ping: No route to host"), or "" when err wraps
// none. A route lookup's ErrNoRoute wraps the kernel's ENETUNREACH or
// EHOSTUNREACH.
func SystemText(err error) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return ""
	}
	// Go's texts are glibc's with a lower-case first letter.
	t := errno.Error()
	if t != "" && t[0] >= 'a' && t[0] <= 'z' {
		t = string(t[0]-'a'+'A') + t[1:]
	}
	return t
}

func failf(kind error, format string, a ...any) error {
	return &pathError{msg: fmt.Sprintf(format, a...), kind: kind}
}

var interfaceKindNames = [...]string{KindEthernet: "ethernet", KindLoopback: "loopback", KindNone: "none"}

func (k InterfaceKind) String() string {
	if int(k) < len(interfaceKindNames) && interfaceKindNames[k] != "" {
		return interfaceKindNames[k]
	}
	return fmt.Sprintf("InterfaceKind(%d)", uint8(k))
}
