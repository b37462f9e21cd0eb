package resolve_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	"github.com/pingcraft/pingcraft/lab"
	"github.com/pingcraft/pingcraft/lab/labtest"
	"github.com/pingcraft/pingcraft/resolve"
)

func run(t *testing.T, n *lab.Node, args ...string) string {
	t.Helper()
	out, err := n.Command(context.Background(), args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestLabNDPWhileTentative brings the host's link up again with duplicate
// address detection on, so that its new link-local address stays
// tentative, and resolves the router at once: as ping -6 does, NDP must go
// out from the global source instead of failing to bind.
func TestLabNDPWhileTentative(t *testing.T) {
	l := labtest.New(t)
	labtest.RequireTool(t, "ping", "iputils-ping")
	h := l.HostLink
	for _, c := range [][]string{
		{"sysctl", "-qw", "net.ipv6.conf." + h + ".accept_dad=1", "net.ipv6.conf." + h + ".dad_transmits=5"},
		{"ip", "link", "set", h, "down"},
		{"ip", "link", "set", h, "up"},
		// Addresses and routes of a link going down go with it.
		{"ip", "-6", "addr", "replace", l.Host6.String() + "/64", "dev", h, "nodad"},
		{"ip", "-6", "route", "replace", "default", "via", l.Router6.String(), "dev", h},
	} {
		run(t, l.Host, c...)
	}
	// The case only proves something while the link-local is tentative;
	// five DAD probes a second apart leave it so for seconds.
	tentative := func() bool {
		out := run(t, l.Host, "ip", "-6", "addr", "show", "dev", h, "scope", "link")
		return strings.Contains(out, "tentative")
	}
	if !tentative() {
		t.Fatal("precondition: the link-local address is not tentative")
	}
	p, err := resolveIn(t, l.Host, l.Router6.String(), nil)
	if err != nil {
		t.Fatalf("resolve %s with a tentative link-local: %v", l.Router6, err)
	}
	routerMAC, err := l.Router.HardwareAddr(l.RouterHostLink)
	if err != nil {
		t.Fatal(err)
	}
	if p.NextHopMAC.String() != routerMAC.String() || p.MACSource != resolve.MACFromNDP {
		t.Errorf("next hop MAC %s [%s], want %s [NDP]", p.NextHopMAC, p.MACSource, routerMAC)
	}
	if !tentative() {
		t.Fatal("the link-local address stopped being tentative during the test: it proves nothing")
	}
	// The real tool, in the same state, agrees that the router answers.
	if out, err := l.Host.Command(context.Background(), "ping", "-6", "-c1", "-W2", l.Router6.String()).CombinedOutput(); err != nil {
		t.Errorf("ping -6 %s: %v\n%s", l.Router6, err, out)
	}
}

// TestLabGroupTargets: broadcast and multicast targets get their group
// MAC without ARP or NDP, and the unspecified address goes to loopback, as
// the kernel routes it.
func TestLabGroupTargets(t *testing.T) {
	l := labtest.New(t)
	mac := func(s string) net.HardwareAddr {
		m, err := net.ParseMAC(s)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	tests := []struct {
		target    string
		want      netip.Addr
		mac       net.HardwareAddr
		broadcast bool
		source    resolve.MACSource
	}{
		{"255.255.255.255", netip.MustParseAddr("255.255.255.255"), mac("ff:ff:ff:ff:ff:ff"), true, resolve.MACFromGroup},
		{"198.18.0.255", netip.MustParseAddr("198.18.0.255"), mac("ff:ff:ff:ff:ff:ff"), true, resolve.MACFromGroup},
		{"224.0.0.1", netip.MustParseAddr("224.0.0.1"), mac("01:00:5e:00:00:01"), false, resolve.MACFromGroup},
		{"239.129.2.3", netip.MustParseAddr("239.129.2.3"), mac("01:00:5e:01:02:03"), false, resolve.MACFromGroup},
		{"ff02::1%h0", netip.MustParseAddr("ff02::1"), mac("33:33:00:00:00:01"), false, resolve.MACFromGroup},
		{"0.0.0.0", netip.MustParseAddr("127.0.0.1"), nil, false, resolve.MACNotNeeded},
		{"::", netip.MustParseAddr("::1"), nil, false, resolve.MACNotNeeded},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			p, err := resolveIn(t, l.Host, tt.target, &resolve.Options{Tries: 1})
			if err != nil {
				t.Fatal(err)
			}
			if p.Target != tt.want || p.NextHopMAC.String() != tt.mac.String() || p.Broadcast != tt.broadcast || p.MACSource != tt.source {
				t.Errorf("target %s MAC %s broadcast %v [%s], want %s %s %v [%s]",
					p.Target, p.NextHopMAC, p.Broadcast, p.MACSource, tt.want, tt.mac, tt.broadcast, tt.source)
			}
			if tt.mac != nil && (p.Gateway || p.NextHop != p.Target) {
				t.Errorf("next hop %s (gateway %v): a group is its own next hop", p.NextHop, p.Gateway)
			}
			// The kernel agrees on the interface.
			if kr := ipRouteGet(t, l.Host, tt.want); tt.mac != nil && kr.Dev != p.Interface {
				t.Errorf("interface %s, ip route get says %s", p.Interface, kr.Dev)
			}
		})
	}
}

// TestLabNoRouteErrno: a target without a route fails with ErrNoRoute and
// the kernel's errno, whose text is what iputils prints after "connect: ".
func TestLabNoRouteErrno(t *testing.T) {
	l := labtest.New(t)
	labtest.RequireTool(t, "ping", "iputils-ping")
	run(t, l.Host, "ip", "route", "add", "unreachable", "198.18.77.0/24")
	run(t, l.Host, "ip", "route", "del", "default")
	for _, target := range []string{"198.18.9.9", "198.18.77.7"} {
		t.Run(target, func(t *testing.T) {
			_, err := resolveIn(t, l.Host, target, nil)
			if !errors.Is(err, resolve.ErrNoRoute) {
				t.Fatalf("err %v, want ErrNoRoute", err)
			}
			out, perr := l.Host.Command(context.Background(), "ping", "-c1", "-W1", target).CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(perr, &exit) || exit.ExitCode() != 2 {
				t.Fatalf("ping -c1 %s: %v, want exit 2\n%s", target, perr, out)
			}
			if got, want := "ping: connect: "+resolve.SystemText(err)+"\n", string(out); got != want {
				t.Errorf("got %q, iputils printed %q", got, want)
			}
		})
	}
}
