package resolve_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vishvananda/netlink"

	"github.com/pingcraft/pingcraft/lab"
	"github.com/pingcraft/pingcraft/lab/labtest"
	"github.com/pingcraft/pingcraft/resolve"
)

// kernelRoute is what `ip -j route get` says.
type kernelRoute struct {
	Gateway string `json:"gateway"`
	Dev     string `json:"dev"`
	PrefSrc string `json:"prefsrc"`
}

func ipRouteGet(t *testing.T, n *lab.Node, dst netip.Addr) kernelRoute {
	t.Helper()
	out, err := n.Command(context.Background(), "ip", "-j", "route", "get", dst.String()).Output()
	if err != nil {
		t.Fatalf("ip route get %s: %v", dst, err)
	}
	var rs []kernelRoute
	if err := json.Unmarshal(out, &rs); err != nil || len(rs) != 1 {
		t.Fatalf("ip route get %s: %q: %v", dst, out, err)
	}
	return rs[0]
}

// ipNeigh returns the lladdr `ip -j neigh` lists for ip, "" if none.
func ipNeigh(t *testing.T, n *lab.Node, ip netip.Addr) string {
	t.Helper()
	out, err := n.Command(context.Background(), "ip", "-j", "neigh", "show", "to", ip.String()).Output()
	if err != nil {
		t.Fatalf("ip neigh: %v", err)
	}
	var ns []struct {
		LLAddr string   `json:"lladdr"`
		State  []string `json:"state"`
	}
	if err := json.Unmarshal(out, &ns); err != nil {
		t.Fatalf("ip neigh: %q: %v", out, err)
	}
	for _, e := range ns {
		if e.LLAddr != "" {
			return e.LLAddr
		}
	}
	return ""
}

func resolveIn(t *testing.T, n *lab.Node, target string, o *resolve.Options) (*resolve.Path, error) {
	t.Helper()
	var p *resolve.Path
	var rerr error
	if err := n.Do(func() error {
		p, rerr = resolve.New().Resolve(context.Background(), target, o)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return p, rerr
}

func TestLabResolve(t *testing.T) {
	labtest.RequireRoot(t)
	a := netip.MustParseAddr
	tests := []struct {
		name    string
		target  netip.Addr
		nextHop netip.Addr
		source  netip.Addr
		gateway bool
		solicit resolve.MACSource
	}{
		// The lab's fixed address plan (see package lab).
		{"routed IPv4", a("198.18.1.2"), a("198.18.0.1"), a("198.18.0.2"), true, resolve.MACFromARP},
		{"routed IPv6", a("fd00:198:18:1::2"), a("fd00:198:18::1"), a("fd00:198:18::2"), true, resolve.MACFromNDP},
		{"on-link IPv4", a("198.18.0.1"), a("198.18.0.1"), a("198.18.0.2"), false, resolve.MACFromARP},
		{"on-link IPv6", a("fd00:198:18::1"), a("fd00:198:18::1"), a("fd00:198:18::2"), false, resolve.MACFromNDP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A lab each: every case starts with empty neighbour tables.
			l := labtest.New(t)
			routerMAC, err := l.Router.HardwareAddr(l.RouterHostLink)
			if err != nil {
				t.Fatal(err)
			}
			hostMAC, err := l.Host.HardwareAddr(l.HostLink)
			if err != nil {
				t.Fatal(err)
			}
			if mac := ipNeigh(t, l.Host, tt.nextHop); mac != "" {
				t.Fatalf("neighbour table already holds %s for %s", mac, tt.nextHop)
			}
			p, err := resolveIn(t, l.Host, tt.target.String(), nil)
			if err != nil {
				t.Fatal(err)
			}
			want := resolve.Path{Name: tt.target.String(), Target: tt.target, Interface: l.HostLink, Index: p.Index,
				Kind: resolve.KindEthernet, Source: tt.source, SourceMAC: hostMAC, NextHop: tt.nextHop, Gateway: tt.gateway,
				NextHopMAC: routerMAC, MACSource: tt.solicit, MTU: 1500, Took: p.Took}
			if diff := cmp.Diff(want, *p, cmp.Comparer(func(x, y netip.Addr) bool { return x == y })); diff != "" {
				t.Errorf("path (-want +got):\n%s", diff)
			}

			// The same answer as the kernel's own tools.
			kr := ipRouteGet(t, l.Host, tt.target)
			gw := ""
			if tt.gateway {
				gw = tt.nextHop.String()
			}
			if kr.Dev != p.Interface || kr.Gateway != gw || kr.PrefSrc != p.Source.String() {
				t.Errorf("ip route get says dev %s via %q src %s; resolve says %s via %s src %s", kr.Dev, kr.Gateway, kr.PrefSrc, p.Interface, p.NextHop, p.Source)
			}

			// Once the kernel knows the next hop, no ARP or NDP is needed.
			if out, err := l.Host.Command(context.Background(), "ping", "-c", "1", "-W", "2", tt.nextHop.String()).CombinedOutput(); err != nil {
				t.Fatalf("ping %s: %v\n%s", tt.nextHop, err, out)
			}
			p, err = resolveIn(t, l.Host, tt.target.String(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if p.MACSource != resolve.MACFromNeighbourTable || p.NextHopMAC.String() != ipNeigh(t, l.Host, tt.nextHop) {
				t.Errorf("after ping: MAC %s from %s; ip neigh says %s", p.NextHopMAC, p.MACSource, ipNeigh(t, l.Host, tt.nextHop))
			}
		})
	}
}

func TestLabResolveErrors(t *testing.T) {
	l := labtest.NewPrefixed(t, "rb-")
	// In the host: a down interface, an up one without addresses, and an
	// unreachable route, all inside the lab's own addresses.
	err := l.Host.Do(func() error {
		// veth pairs: the kernel may lack the dummy link type.
		for _, name := range []string{"down0", "bare0"} {
			if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name}, PeerName: name + "p"}); err != nil {
				return err
			}
		}
		bare, err := netlink.LinkByName("bare0")
		if err != nil {
			return err
		}
		if err := netlink.LinkSetUp(bare); err != nil {
			return err
		}
		_, dst, _ := net.ParseCIDR("198.19.200.0/24")
		return netlink.RouteAdd(&netlink.Route{Dst: dst, Type: 7 /* RTN_UNREACHABLE */})
	})
	if err != nil {
		t.Fatal(err)
	}
	fast := &resolve.Options{Tries: 2, Timeout: 200 * time.Millisecond}
	tests := []struct {
		name   string
		target string
		opts   *resolve.Options
		want   error
	}{
		{"unreachable route", "198.19.200.1", nil, resolve.ErrNoRoute},
		{"unknown interface", l.Target4.String(), &resolve.Options{Interface: "nosuch0"}, resolve.ErrNoInterface},
		{"interface down", l.Target4.String(), &resolve.Options{Interface: "down0"}, resolve.ErrInterfaceDown},
		{"interface without IPv4", l.Target4.String(), &resolve.Options{Interface: "bare0"}, resolve.ErrNoAddress},
		{"source not ours", l.Target4.String(), &resolve.Options{Source: l.Target4}, resolve.ErrNoAddress},
		// The kernel takes any IPv6 source in a route lookup.
		{"IPv6 source not ours", l.Target6.String(), &resolve.Options{Source: l.Target6}, resolve.ErrNoAddress},
		{"IPv6 link-local source not ours", l.Router6.String(), &resolve.Options{Source: netip.MustParseAddr("fe80::1")}, resolve.ErrNoAddress},
		{"ARP unanswered", "198.18.0.77", fast, resolve.ErrNoNeighbour},
		{"NDP unanswered", "fd00:198:18::77", fast, resolve.ErrNoNeighbour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := resolveIn(t, l.Host, tt.target, tt.opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want one wrapping %v", err, tt.want)
			}
			t.Log(err)
		})
	}
	// Sources that are ours, global and the link's own link-local, pass.
	ll, err := resolveIn(t, l.Host, l.Router6.String(), &resolve.Options{NoSolicit: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []netip.Addr{l.Host6, ll.Source} {
		if _, err := resolveIn(t, l.Host, l.Target6.String(), &resolve.Options{Source: src, NoSolicit: true}); err != nil {
			t.Errorf("source %s: %v", src, err)
		}
	}
}

func TestLabResolveCancel(t *testing.T) {
	l := labtest.New(t)
	err := l.Host.Do(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		// Without cancellation this ends in ErrNoNeighbour after 10 s.
		_, err := resolve.New().Resolve(ctx, "198.18.0.77", &resolve.Options{Tries: 5, Timeout: 2 * time.Second})
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, resolve.ErrNoNeighbour) {
			t.Errorf("error %v, want the context's deadline", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
