package ping

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pingcraft/pingcraft/resolve"
)

// fleetNet is a host with eth0 (198.18.0.2/24, fd00:198:18::2/64, routers
// .0.1 and ::1) and lo: a resolve.System with no root needed.
type fleetNet struct {
	mu        sync.Mutex
	solicited []netip.Addr
	// refuse makes ARP and NDP fail as without CAP_NET_RAW.
	refuse bool
	// silent next hops never answer ARP or NDP.
	silent map[netip.Addr]bool
}

var (
	eth0 = resolve.Interface{Name: "eth0", Index: 2, MTU: 1500, HardwareAddr: net.HardwareAddr{2, 0, 0, 0, 0, 2}, Up: true, Kind: resolve.KindEthernet}
	lo   = resolve.Interface{Name: "lo", Index: 1, MTU: 65536, Up: true, Kind: resolve.KindLoopback}
)

func (n *fleetNet) Route(dst netip.Addr, oif string, src netip.Addr) (resolve.Route, error) {
	switch {
	case dst.IsLoopback():
		return resolve.Route{Index: 1, Source: dst}, nil
	case netip.MustParsePrefix("198.18.9.0/24").Contains(dst):
		return resolve.Route{}, fmt.Errorf("resolve: no route to %s: %w", dst, resolve.ErrNoRoute)
	case netip.MustParsePrefix("198.18.0.0/24").Contains(dst):
		return resolve.Route{Index: 2, Source: netip.MustParseAddr("198.18.0.2")}, nil
	case dst.Is4():
		return resolve.Route{Index: 2, Gateway: netip.MustParseAddr("198.18.0.1"), Source: netip.MustParseAddr("198.18.0.2")}, nil
	}
	return resolve.Route{Index: 2, Gateway: netip.MustParseAddr("fd00:198:18::1"), Source: netip.MustParseAddr("fd00:198:18::2")}, nil
}

func (n *fleetNet) InterfaceByName(name string) (resolve.Interface, error) {
	if name == "eth0" {
		return eth0, nil
	}
	return lo, nil
}

func (n *fleetNet) InterfaceByIndex(i int) (resolve.Interface, error) {
	if i == 2 {
		return eth0, nil
	}
	return lo, nil
}

func (n *fleetNet) Addrs(index int, six bool) ([]netip.Addr, error) {
	switch {
	case index == 1 && six:
		return []netip.Addr{netip.IPv6Loopback()}, nil
	case index == 1:
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	case six:
		return []netip.Addr{netip.MustParseAddr("fd00:198:18::2")}, nil
	}
	return []netip.Addr{netip.MustParseAddr("198.18.0.2")}, nil
}

func (n *fleetNet) Neighbour(int, netip.Addr) (net.HardwareAddr, bool, error) { return nil, false, nil }

func (n *fleetNet) Solicit(_ context.Context, _ resolve.Interface, _, hop netip.Addr, tries int, _ time.Duration) (net.HardwareAddr, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.solicited = append(n.solicited, hop)
	switch {
	case n.refuse:
		return nil, fmt.Errorf("resolve: ARP for %s: %w", hop, os.NewSyscallError("socket", syscall.EPERM))
	case n.silent[hop]:
		return nil, fmt.Errorf("resolve: ARP for %s: no reply after %d tries: %w", hop, tries, resolve.ErrNoNeighbour)
	}
	return net.HardwareAddr{2, 0, 0, 0, 0, hop.As16()[15]}, nil
}

func (n *fleetNet) resolver() *resolve.Resolver {
	return &resolve.Resolver{System: n, Now: time.Now, Lookup: func(_ context.Context, _, host string) ([]netip.Addr, error) {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}}
}

// opener is a fake transport opener: it records what was opened and, when
// privileged is false, refuses everything but the ping socket.
type opener struct {
	unprivileged bool
	opened       []string
	conns        []*fakeConn
}

func (o *opener) open(p *resolve.Path, m Mode, oc *OpenConfig) (Conn, Mode, error) {
	return openWith(func(p *resolve.Path, m Mode, oc *OpenConfig) (Conn, error) {
		if o.unprivileged && m != ModeDgram {
			return nil, os.NewSyscallError("socket", syscall.EPERM)
		}
		o.opened = append(o.opened, fmt.Sprintf("%s %s %s in-flight %d", m, p.Interface, p.Source, oc.InFlight))
		c := newFakeConn(func(uint16) answer { return answer{id: -1} })
		c.many, c.mode = true, m
		o.conns = append(o.conns, c)
		return c, nil
	}, p, m, oc)
}

func newTestFleet(t *testing.T, n *fleetNet, o *opener, names []string, run *Config, fc FleetConfig) (*Fleet, error) {
	t.Helper()
	fc.Resolver, fc.open = n.resolver(), o.open
	return NewFleet(context.Background(), names, run, &fc)
}

func modes(f *Fleet) []string {
	var out []string
	for _, m := range f.Members() {
		s := m.Name + " " + m.Mode.String()
		if m.Err != nil {
			s = m.Name + " error"
		}
		out = append(out, s)
	}
	return out
}

// TestFleetShares: targets of one interface, source and family share one
// Conn, each next hop is asked for its MAC once, and the receive buffers
// are sized for every probe the run may have in flight.
func TestFleetShares(t *testing.T) {
	n, o := &fleetNet{}, &opener{}
	names := []string{"198.18.1.2", "198.18.1.3", "198.18.0.5", "fd00:198:18:1::2", "127.0.0.1"}
	f, err := newTestFleet(t, n, o, names, &Config{Interval: time.Second, Timeout: 2 * time.Second}, FleetConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := []string{"198.18.1.2 ethernet", "198.18.1.3 ethernet", "198.18.0.5 ethernet", "fd00:198:18:1::2 ethernet", "127.0.0.1 raw"}
	if diff := cmp.Diff(want, modes(f)); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	wantOpened := []string{"ethernet eth0 198.18.0.2 in-flight 15", "ethernet eth0 fd00:198:18::2 in-flight 15", "raw lo 127.0.0.1 in-flight 15"}
	if diff := cmp.Diff(wantOpened, o.opened); diff != "" {
		t.Errorf("opened (-want +got):\n%s", diff)
	}
	hops := []netip.Addr{netip.MustParseAddr("198.18.0.1"), netip.MustParseAddr("198.18.0.5"), netip.MustParseAddr("fd00:198:18::1")}
	// Asked all at once: in any order.
	slices.SortFunc(n.solicited, netip.Addr.Compare)
	if diff := cmp.Diff(hops, n.solicited, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("ARP and NDP asked (-want +got):\n%s", diff)
	}
	if got := f.Targets()[1].Path.NextHopMAC; got.String() != "02:00:00:00:00:01" {
		t.Errorf("the second target behind 198.18.0.1 got MAC %v, want the one learnt for the first", got)
	}
}

// TestFleetMemberErrors: a name that does not resolve, a route that does
// not exist and a next hop that does not answer are members with errors;
// the others are probed, in order.
func TestFleetMemberErrors(t *testing.T) {
	n := &fleetNet{silent: map[netip.Addr]bool{netip.MustParseAddr("198.18.0.7"): true}}
	o := &opener{}
	names := []string{"198.18.1.2", "no.such.name", "198.18.9.1", "198.18.0.7", "198.18.1.3"}
	f, err := newTestFleet(t, n, o, names, nil, FleetConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i, want := range []error{nil, resolve.ErrNoName, resolve.ErrNoRoute, nil, nil} {
		if m := f.Members()[i]; !errors.Is(m.Err, want) || (want == nil) != (m.Err == nil) {
			t.Errorf("%s: error %v, want %v", m.Name, m.Err, want)
		}
	}
	var probed []string
	for i := range f.Targets() {
		probed = append(probed, f.MemberOf(i).Name)
	}
	// A next hop that does not answer at once is the kernel's to resolve
	// (mode raw): its probes fail as iputils' do, with host unreachable.
	if m := f.Members()[3]; m.Mode != ModeRaw {
		t.Errorf("%s: mode %s, want raw", m.Name, m.Mode)
	}
	if diff := cmp.Diff([]string{"198.18.1.2", "198.18.0.7", "198.18.1.3"}, probed); diff != "" {
		t.Errorf("probed (-want +got):\n%s", diff)
	}

	// With nothing to probe, the engine says why.
	f, err = newTestFleet(t, n, o, []string{"no.such.name"}, nil, FleetConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Engine(nil); !errors.Is(err, resolve.ErrNoName) {
		t.Errorf("Engine over no targets: %v, want the member's error", err)
	}
}

// TestFleetUnprivileged: without CAP_NET_RAW, auto falls back to the ping
// socket (ARP refused, rings refused), and a mode that needs the privilege
// fails in a way errors.Is(err, os.ErrPermission) sees.
func TestFleetUnprivileged(t *testing.T) {
	n, o := &fleetNet{refuse: true}, &opener{unprivileged: true}
	f, err := newTestFleet(t, n, o, []string{"198.18.1.2", "fd00:198:18:1::2", "127.0.0.1"}, nil, FleetConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if diff := cmp.Diff([]string{"198.18.1.2 dgram", "fd00:198:18:1::2 dgram", "127.0.0.1 dgram"}, modes(f)); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	for _, m := range []Mode{ModeEthernet, ModeRaw} {
		_, err := newTestFleet(t, n, &opener{unprivileged: true}, []string{"198.18.1.2"}, nil, FleetConfig{Mode: m})
		if !errors.Is(err, os.ErrPermission) {
			t.Errorf("mode %s unprivileged: %v, want an error matching os.ErrPermission", m, err)
		}
	}
	_, err = newTestFleet(t, &fleetNet{}, &opener{unprivileged: true}, []string{"127.0.0.1"}, nil, FleetConfig{Mode: ModeRaw})
	if !errors.Is(err, ErrNoPrivilege) || !errors.Is(err, os.ErrPermission) {
		t.Errorf("raw unprivileged: %v, want ErrNoPrivilege and os.ErrPermission", err)
	}
}

// TestFleetRefuses: what a transport cannot carry refuses the whole run,
// in the library's words, and leaves no Conn open.
func TestFleetRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  Config
		fc   FleetConfig
		priv bool
		want string
	}{
		{"flood on the ping socket", Config{Flood: true}, FleetConfig{}, false, "a flood needs CAP_NET_RAW"},
		{"short interval on the ping socket", Config{Interval: time.Millisecond}, FleetConfig{}, false, "below 2ms"},
		{"bad checksum on the ping socket", Config{Faults: 1}, FleetConfig{Mode: ModeDgram}, true, "the ping socket rewrites it"},
		{"bad checksum on raw ICMPv6", Config{Faults: 1}, FleetConfig{Mode: ModeRaw}, true, "a raw ICMPv6 socket has the kernel write the checksum"},
		{"unknown -M", Config{PMTUDisc: PMTUDiscDont + 1}, FleetConfig{}, true, "use want, do or dont"},
		{"beyond IPv4", Config{Size: 65508}, FleetConfig{}, true, "IPv4 carries at most 65507"},
		{"ethernet on loopback", Config{}, FleetConfig{Mode: ModeEthernet}, true, "the kernel drops frames injected on loopback"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := &opener{unprivileged: !tc.priv}
			target := "198.18.1.2"
			switch tc.name {
			case "bad checksum on raw ICMPv6":
				target = "fd00:198:18:1::2"
			case "ethernet on loopback":
				target = "127.0.0.1"
			}
			names := []string{"198.18.1.3", target}
			if tc.run.Flood {
				names = names[1:] // a flood has one target
			}
			_, err := newTestFleet(t, &fleetNet{refuse: !tc.priv}, o, names, &tc.run, tc.fc)
			if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "--") {
				t.Errorf("error %v: want ErrRefused saying %q, no flag names", err, tc.want)
			}
			for _, c := range o.conns {
				if !c.closed {
					t.Errorf("a %s Conn was left open", c.mode)
				}
			}
		})
	}
}

// TestFleetDryRun resolves and asks for MACs, and opens nothing.
func TestFleetDryRun(t *testing.T) {
	n, o := &fleetNet{}, &opener{}
	f, err := newTestFleet(t, n, o, []string{"198.18.1.2"}, nil, FleetConfig{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(o.opened) != 0 || len(f.Targets()) != 0 {
		t.Errorf("a dry run opened %v", o.opened)
	}
	if m := f.Members()[0]; m.Mode != ModeEthernet || m.Path.NextHopMAC == nil {
		t.Errorf("dry run member %+v: want ethernet with the next hop's MAC", m)
	}
}

// TestFleetRun: the engine a Fleet makes probes its targets through the
// Fleet's Conns, events indexed as Targets; Close closes every Conn.
func TestFleetRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, o := &fleetNet{}, &opener{}
		names := []string{"198.18.1.2", "no.such.name", "198.18.1.3"}
		f, err := newTestFleet(t, n, o, names, &Config{Count: 2, Interval: 10 * time.Millisecond, Timeout: time.Second}, FleetConfig{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		e, err := f.Engine(func(ev *Event) {
			if ev.Kind == EventReply {
				got[f.MemberOf(ev.Target).Name]++
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, c := range o.conns {
			c.stop()
		}
		if diff := cmp.Diff(map[string]int{"198.18.1.2": 2, "198.18.1.3": 2}, got); diff != "" {
			t.Errorf("replies (-want +got):\n%s", diff)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		for _, c := range o.conns {
			if !c.closed {
				t.Error("Close left a Conn open")
			}
		}
	})
}

// TestOpenFallback: auto falls back from a ring the build lacks to the raw
// socket, and from what the caller may not open to the ping socket.
func TestOpenFallback(t *testing.T) {
	p := &resolve.Path{Target: them, Source: us, Interface: "eth0", Index: 2, Kind: resolve.KindEthernet}
	for _, tc := range []struct {
		name string
		fail map[Mode]error
		want Mode
	}{
		{"root", nil, ModeEthernet},
		{"no cgo", map[Mode]error{ModeEthernet: errors.ErrUnsupported}, ModeRaw},
		{"no cgo, no privilege", map[Mode]error{ModeEthernet: errors.ErrUnsupported, ModeRaw: syscall.EPERM}, ModeDgram},
		{"no privilege", map[Mode]error{ModeEthernet: syscall.EPERM}, ModeDgram},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tried []Mode
			_, got, err := openWith(func(_ *resolve.Path, m Mode, _ *OpenConfig) (Conn, error) {
				tried = append(tried, m)
				if err := tc.fail[m]; err != nil {
					return nil, err
				}
				return newFakeConn(nil), nil
			}, p, ModeAuto, nil)
			if err != nil || got != tc.want {
				t.Errorf("opened %v (%v) after trying %v, want %v", got, err, tried, tc.want)
			}
		})
	}
}

// TestOpenDgramRefusedToRoot: root refused the ping socket by
// ping_group_range is not told to run as root.
func TestOpenDgramRefusedToRoot(t *testing.T) {
	_, _, err := openWith(func(*resolve.Path, Mode, *OpenConfig) (Conn, error) {
		return nil, os.NewSyscallError("socket", syscall.EACCES)
	}, path(), ModeDgram, nil)
	want := "run as root"
	if os.Geteuid() == 0 {
		want = "does not include group 0: widen it, or use mode raw"
	}
	if !errors.Is(err, ErrNoPrivilege) || !errors.Is(err, os.ErrPermission) || !strings.Contains(err.Error(), want) ||
		os.Geteuid() == 0 && strings.Contains(err.Error(), "run as root") {
		t.Errorf("error %v: want ErrNoPrivilege saying %q", err, want)
	}
}

// TestFleetBeyond65536: one Fleet and one engine take more targets than
// ICMP ids or seqs number (nothing in a run is per-id: replies are matched
// by address, id, seq and authenticator), and a run paced by a rate sizes
// its receive buffers for what the rate lets into flight, not for every
// target. Every target is probed and answered once.
func TestFleetBeyond65536(t *testing.T) {
	if testing.Short() {
		t.Skip("131,072 targets")
	}
	const n = 1 << 17
	names := make([]string, n)
	a := netip.MustParseAddr("10.0.0.0") // the fake network's, never on a wire
	for i := range names {
		a = a.Next()
		names[i] = a.String()
	}
	synctest.Test(t, func(t *testing.T) {
		nt, o := &fleetNet{}, &opener{}
		run := &Config{Count: 1, Rate: 100000, Timeout: 500 * time.Millisecond, Interval: time.Second}
		f, err := newTestFleet(t, nt, o, names, run, FleetConfig{Mode: ModeEthernet})
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		// 500ms at 10µs a probe, and the 1,000 a late wake-up may catch up.
		if diff := cmp.Diff([]string{"ethernet eth0 198.18.0.2 in-flight 51001"}, o.opened); diff != "" {
			t.Errorf("opened (-want +got):\n%s", diff)
		}
		replies := 0
		e, err := f.Engine(func(ev *Event) {
			if ev.Kind == EventReply {
				replies++
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, c := range o.conns {
			c.stop()
		}
		if replies != n {
			t.Errorf("%d replies from %d targets", replies, n)
		}
	})
}
