package resolve_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pingcraft/pingcraft/resolve"
)

var (
	macHost   = net.HardwareAddr{2, 0, 0, 0, 0, 2}
	macRouter = net.HardwareAddr{2, 0, 0, 0, 0, 1}
	macOnLink = net.HardwareAddr{2, 0, 0, 0, 0, 9}
)

// fakeSystem is a host with eth0 (198.18.0.2/24, fd00:198:18::2/64, default
// routes via .1 / ::1), lo, tun0 (no link-layer address), down0 (down) and
// bare0 (up, no address).
type fakeSystem struct {
	neigh     map[netip.Addr]net.HardwareAddr // usable entries
	answers   map[netip.Addr]net.HardwareAddr // who answers ARP/NDP
	solicited []netip.Addr
}

var links = []resolve.Interface{
	{Name: "lo", Index: 1, MTU: 65536, Up: true, Kind: resolve.KindLoopback},
	{Name: "eth0", Index: 2, MTU: 1500, HardwareAddr: macHost, Up: true, Kind: resolve.KindEthernet},
	{Name: "tun0", Index: 3, MTU: 1400, Up: true, Kind: resolve.KindNone},
	{Name: "down0", Index: 4, MTU: 1500, HardwareAddr: macHost, Up: false, Kind: resolve.KindEthernet},
	{Name: "bare0", Index: 5, MTU: 1500, HardwareAddr: macHost, Up: true, Kind: resolve.KindEthernet},
}

func (f *fakeSystem) Route(dst netip.Addr, oif string, src netip.Addr) (resolve.Route, error) {
	p := func(s string) netip.Prefix { return netip.MustParsePrefix(s) }
	a := netip.MustParseAddr
	switch {
	case dst.IsLoopback():
		return resolve.Route{Index: 1, Source: dst}, nil
	case p("10.99.0.0/16").Contains(dst):
		return resolve.Route{Index: 3, Source: a("10.99.0.1"), MTU: 1300}, nil
	case p("198.18.0.0/24").Contains(dst):
		return resolve.Route{Index: 2, Source: a("198.18.0.2")}, nil
	case p("fd00:198:18::/64").Contains(dst), dst.IsLinkLocalUnicast():
		return resolve.Route{Index: 2}, nil // the kernel gave no preferred source
	case p("198.18.0.0/15").Contains(dst):
		return resolve.Route{Index: 2, Gateway: a("198.18.0.1"), Source: a("198.18.0.2")}, nil
	case p("fd00::/8").Contains(dst):
		return resolve.Route{Index: 2, Gateway: a("fd00:198:18::1"), Source: a("fd00:198:18::2")}, nil
	}
	return resolve.Route{}, fmt.Errorf("resolve: no route to %s: %w", dst, resolve.ErrNoRoute)
}

func (f *fakeSystem) InterfaceByName(name string) (resolve.Interface, error) {
	for _, l := range links {
		if l.Name == name {
			return l, nil
		}
	}
	return resolve.Interface{}, fmt.Errorf("resolve: no interface named %s: %w", name, resolve.ErrNoInterface)
}

func (f *fakeSystem) InterfaceByIndex(i int) (resolve.Interface, error) { return links[i-1], nil }

func (f *fakeSystem) Addrs(index int, six bool) ([]netip.Addr, error) {
	a := netip.MustParseAddr
	switch {
	case index == 1 && !six:
		return []netip.Addr{a("127.0.0.1")}, nil
	case index == 1:
		return []netip.Addr{a("::1")}, nil
	case (index == 2 || index == 4) && !six:
		return []netip.Addr{a("198.18.0.2")}, nil
	case index == 2 || index == 4:
		return []netip.Addr{a("fe80::2"), a("fd00:198:18::2")}, nil
	case index == 3 && !six:
		return []netip.Addr{a("10.99.0.1")}, nil
	}
	return nil, nil
}

func (f *fakeSystem) Neighbour(_ int, ip netip.Addr) (net.HardwareAddr, bool, error) {
	mac, ok := f.neigh[ip]
	return mac, ok, nil
}

func (f *fakeSystem) Solicit(_ context.Context, link resolve.Interface, _, target netip.Addr, tries int, timeout time.Duration) (net.HardwareAddr, error) {
	f.solicited = append(f.solicited, target)
	if mac, ok := f.answers[target]; ok {
		return mac, nil
	}
	return nil, fmt.Errorf("resolve: ARP for %s on %s: no reply after %d tries in %s: %w", target, link.Name, tries, time.Duration(tries)*timeout, resolve.ErrNoNeighbour)
}

func newResolver(sys *fakeSystem) *resolve.Resolver {
	t0 := time.Unix(0, 0)
	return &resolve.Resolver{
		System: sys,
		Now:    func() time.Time { t0 = t0.Add(time.Millisecond); return t0 },
		Lookup: func(_ context.Context, network, host string) ([]netip.Addr, error) {
			// In the order the system's resolver sorts them (RFC 6724):
			// IPv4 before a ULA, ::1 before 127.0.0.1.
			all := map[string][]netip.Addr{
				"target.lab": {netip.MustParseAddr("198.18.1.2"), netip.MustParseAddr("fd00:198:18:1::2")},
				"localhost":  {netip.IPv6Loopback(), netip.MustParseAddr("127.0.0.1")},
				"v6only.lab": {netip.MustParseAddr("fd00:198:18:1::3")},
			}[host]
			var out []netip.Addr
			for _, a := range all {
				if network == "ip" || network == "ip4" && a.Is4() || network == "ip6" && a.Is6() {
					out = append(out, a)
				}
			}
			if len(out) == 0 {
				return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
			}
			return out, nil
		},
	}
}

func TestResolve(t *testing.T) {
	a := netip.MustParseAddr
	routed4 := resolve.Path{Name: "198.18.1.2", Target: a("198.18.1.2"), Interface: "eth0", Index: 2, Kind: resolve.KindEthernet,
		Source: a("198.18.0.2"), SourceMAC: macHost, NextHop: a("198.18.0.1"), Gateway: true, NextHopMAC: macRouter,
		MACSource: resolve.MACFromARP, MTU: 1500, Took: time.Millisecond}
	tests := []struct {
		name          string
		target        string
		opts          *resolve.Options
		neigh         map[netip.Addr]net.HardwareAddr
		want          resolve.Path
		wantSolicited []netip.Addr
	}{
		{
			name: "routed IPv4, empty neighbour table: ARP for the gateway", target: "198.18.1.2",
			want: routed4, wantSolicited: []netip.Addr{a("198.18.0.1")},
		},
		{
			name: "routed IPv4, gateway in the neighbour table: no traffic", target: "198.18.1.2",
			neigh: map[netip.Addr]net.HardwareAddr{a("198.18.0.1"): macRouter},
			want:  func() resolve.Path { p := routed4; p.MACSource = resolve.MACFromNeighbourTable; return p }(),
		},
		{
			name: "on-link IPv4: the target is the next hop", target: "198.18.0.9",
			want: resolve.Path{Name: "198.18.0.9", Target: a("198.18.0.9"), Interface: "eth0", Index: 2, Kind: resolve.KindEthernet,
				Source: a("198.18.0.2"), SourceMAC: macHost, NextHop: a("198.18.0.9"), NextHopMAC: macOnLink,
				MACSource: resolve.MACFromARP, MTU: 1500, Took: time.Millisecond},
			wantSolicited: []netip.Addr{a("198.18.0.9")},
		},
		{
			name: "on-link IPv6 without a preferred source: global source, NDP", target: "fd00:198:18::9",
			want: resolve.Path{Name: "fd00:198:18::9", Target: a("fd00:198:18::9"), Interface: "eth0", Index: 2, Kind: resolve.KindEthernet,
				Source: a("fd00:198:18::2"), SourceMAC: macHost, NextHop: a("fd00:198:18::9"), NextHopMAC: macOnLink,
				MACSource: resolve.MACFromNDP, MTU: 1500, Took: time.Millisecond},
			wantSolicited: []netip.Addr{a("fd00:198:18::9")},
		},
		{
			name: "link-local with zone: link-local source", target: "fe80::9%eth0",
			want: resolve.Path{Name: "fe80::9%eth0", Target: a("fe80::9"), Interface: "eth0", Index: 2, Kind: resolve.KindEthernet,
				Source: a("fe80::2"), SourceMAC: macHost, NextHop: a("fe80::9"), NextHopMAC: macOnLink,
				MACSource: resolve.MACFromNDP, MTU: 1500, Took: time.Millisecond},
			wantSolicited: []netip.Addr{a("fe80::9")},
		},
		{
			name: "name, either family: the first as sorted", target: "target.lab",
			want:          func() resolve.Path { p := routed4; p.Name = "target.lab"; return p }(),
			wantSolicited: []netip.Addr{a("198.18.0.1")},
		},
		{
			name: "name, -6", target: "target.lab", opts: &resolve.Options{Family: 6},
			want: resolve.Path{Name: "target.lab", Target: a("fd00:198:18:1::2"), Interface: "eth0", Index: 2, Kind: resolve.KindEthernet,
				Source: a("fd00:198:18::2"), SourceMAC: macHost, NextHop: a("fd00:198:18::1"), Gateway: true, NextHopMAC: macRouter,
				MACSource: resolve.MACFromNDP, MTU: 1500, Took: time.Millisecond},
			wantSolicited: []netip.Addr{a("fd00:198:18::1")},
		},
		{
			name: "loopback needs no MAC", target: "127.0.0.1",
			want: resolve.Path{Name: "127.0.0.1", Target: a("127.0.0.1"), Interface: "lo", Index: 1, Kind: resolve.KindLoopback,
				Source: a("127.0.0.1"), NextHop: a("127.0.0.1"), MACSource: resolve.MACNotNeeded, MTU: 65536, Took: time.Millisecond},
		},
		{
			name: "tun needs no MAC, route MTU wins", target: "10.99.1.1",
			want: resolve.Path{Name: "10.99.1.1", Target: a("10.99.1.1"), Interface: "tun0", Index: 3, Kind: resolve.KindNone,
				Source: a("10.99.0.1"), NextHop: a("10.99.1.1"), MACSource: resolve.MACNotNeeded, MTU: 1300, Took: time.Millisecond},
		},
		{
			name: "IPv4-mapped literal is IPv4", target: "::ffff:198.18.1.2",
			want:          func() resolve.Path { p := routed4; p.Name = "::ffff:198.18.1.2"; return p }(),
			wantSolicited: []netip.Addr{a("198.18.0.1")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys := &fakeSystem{neigh: tt.neigh, answers: map[netip.Addr]net.HardwareAddr{
				a("198.18.0.1"): macRouter, a("fd00:198:18::1"): macRouter,
				a("198.18.0.9"): macOnLink, a("fd00:198:18::9"): macOnLink, a("fe80::9"): macOnLink,
			}}
			got, err := newResolver(sys).Resolve(context.Background(), tt.target, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, *got, cmp.Comparer(func(x, y netip.Addr) bool { return x == y })); diff != "" {
				t.Errorf("path (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantSolicited, sys.solicited, cmp.Comparer(func(x, y netip.Addr) bool { return x == y })); diff != "" {
				t.Errorf("solicited (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name    string
		target  string
		opts    *resolve.Options
		want    error
		wantMsg string
	}{
		{"no route", "203.0.113.1", nil, resolve.ErrNoRoute, "no route to 203.0.113.1"},
		{"unknown interface", "198.18.1.2", &resolve.Options{Interface: "eth9"}, resolve.ErrNoInterface, "no interface named eth9"},
		{"interface down", "198.18.1.2", &resolve.Options{Interface: "down0"}, resolve.ErrInterfaceDown, "interface down0 is down: bring it up with 'ip link set down0 up'"},
		{"interface without IPv4", "198.18.1.2", &resolve.Options{Interface: "bare0"}, resolve.ErrNoAddress, "interface bare0 has no IPv4 address"},
		{"interface without IPv6", "fd00:198:18::9", &resolve.Options{Interface: "tun0"}, resolve.ErrNoAddress, "interface tun0 has no IPv6 address"},
		{"next hop silent", "198.18.0.77", nil, resolve.ErrNoNeighbour, "ARP for 198.18.0.77 on eth0: no reply after 3 tries in 3s"},
		{"tries and timeout", "198.18.0.77", &resolve.Options{Tries: 2, Timeout: 250 * time.Millisecond}, resolve.ErrNoNeighbour, "no reply after 2 tries in 500ms"},
		{"name without the family", "v6only.lab", &resolve.Options{Family: 4}, resolve.ErrNoName, "name v6only.lab has no IPv4 address: drop -4"},
		{"unknown name", "nowhere.lab", nil, resolve.ErrNoName, "name nowhere.lab not found"},
		{"literal of the other family", "198.18.1.2", &resolve.Options{Family: 6}, resolve.ErrNoAddress, "198.18.1.2 is not an IPv6 address"},
		{"source of the other family", "198.18.1.2", &resolve.Options{Source: netip.MustParseAddr("fd00::1")}, resolve.ErrNoAddress, "different families"},
		{"zone against --iface", "fe80::9%eth0", &resolve.Options{Interface: "tun0"}, nil, "names zone eth0 but the interface is tun0"},
		{"empty target", "", nil, nil, "empty target"},
		{"bad family", "198.18.1.2", &resolve.Options{Family: 5}, nil, "family 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newResolver(&fakeSystem{}).Resolve(context.Background(), tt.target, tt.opts)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v does not wrap %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q: want one line containing %q", err, tt.wantMsg)
			}
		})
	}
}

func TestNoSolicit(t *testing.T) {
	a := netip.MustParseAddr
	sys := &fakeSystem{answers: map[netip.Addr]net.HardwareAddr{a("198.18.0.1"): macRouter}}
	r := newResolver(sys)
	p, err := r.Resolve(context.Background(), "198.18.1.2", &resolve.Options{NoSolicit: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.MACSource != resolve.MACUnknown || p.NextHopMAC != nil || len(sys.solicited) != 0 {
		t.Fatalf("NoSolicit: MAC %v from %v after %d solicitations", p.NextHopMAC, p.MACSource, len(sys.solicited))
	}
	if err := r.Solicit(context.Background(), p, nil); err != nil {
		t.Fatal(err)
	}
	if p.MACSource != resolve.MACFromARP || p.NextHopMAC.String() != macRouter.String() {
		t.Errorf("after Solicit: MAC %v from %v", p.NextHopMAC, p.MACSource)
	}
	// A known MAC is not asked for again.
	if err := r.Solicit(context.Background(), p, nil); err != nil || len(sys.solicited) != 1 {
		t.Errorf("second Solicit: %v, %d solicitations", err, len(sys.solicited))
	}
}

func TestPathString(t *testing.T) {
	a := netip.MustParseAddr
	p := resolve.Path{Name: "target.lab", Target: a("198.18.1.2"), Interface: "eth0", Index: 2, Kind: resolve.KindEthernet,
		Source: a("198.18.0.2"), SourceMAC: macHost, NextHop: a("198.18.0.1"), Gateway: true, NextHopMAC: macRouter,
		MACSource: resolve.MACFromARP, MTU: 1500, Took: 1234567 * time.Nanosecond}
	want := `target      198.18.1.2 (target.lab)
interface   eth0 (index 2, ethernet, mtu 1500)
source      198.18.0.2 02:00:00:00:00:02
next hop    198.18.0.1 (gateway) 02:00:00:00:00:01 [MAC: ARP]
took        1.235ms
`
	if diff := cmp.Diff(want, p.String()); diff != "" {
		t.Errorf("String (-want +got):\n%s", diff)
	}
}
