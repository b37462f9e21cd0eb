//go:build linux

package lab_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/pingcraft/pingcraft/lab"
	"github.com/pingcraft/pingcraft/lab/labtest"
)

// pingResult is the line iputils ping prints for the probe, without the
// time, and its exit status.
type pingResult struct {
	Line string
	Exit int
}

func TestPing(t *testing.T) {
	t.Parallel()
	labtest.RequireTool(t, "ping", "iputils-ping")
	l := labtest.New(t)
	tests := []struct {
		name string
		args []string
		want pingResult
	}{
		{"v4 one hop", []string{l.Router4.String()},
			pingResult{"64 bytes from 198.18.0.1: icmp_seq=1 ttl=64", 0}},
		{"v4 two hops", []string{l.Target4.String()},
			pingResult{"64 bytes from 198.18.1.2: icmp_seq=1 ttl=63", 0}},
		{"v6 two hops", []string{l.Target6.String()},
			pingResult{"64 bytes from fd00:198:18:1::2: icmp_seq=1 ttl=63", 0}},
		{"v4 ttl 1", []string{"-t", "1", l.Target4.String()},
			pingResult{"From 198.18.0.1 icmp_seq=1 Time to live exceeded", 1}},
		{"v6 hop limit 1", []string{"-t", "1", l.Target6.String()},
			pingResult{"From fd00:198:18::1 icmp_seq=1 Time exceeded: Hop limit", 1}},
		{"v4 unreachable", []string{l.Unreachable4.Addr().Next().String()},
			pingResult{"From 198.18.0.1 icmp_seq=1 Destination Host Unreachable", 1}},
		{"v6 unreachable", []string{l.Unreachable6.Addr().Next().String()},
			pingResult{"From fd00:198:18::1 icmp_seq=1 Destination unreachable: No route", 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ping(t, l.Host, tt.args...)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ping %s from host (-want +got):\n%s", strings.Join(tt.args, " "), diff)
			}
		})
	}
}

// TestNeighbours checks that New leaves the neighbour tables empty, so tests
// can watch the first probe resolve the next hop, and that it then does.
func TestNeighbours(t *testing.T) {
	t.Parallel()
	labtest.RequireTool(t, "ping", "iputils-ping")
	l := labtest.New(t)
	for _, n := range []*lab.Node{l.Host, l.Router, l.Target} {
		if diff := cmp.Diff([]string(nil), neighbours(t, n, nil)); diff != "" {
			t.Errorf("neighbours in %s right after New (-want +got):\n%s", n.Name, diff)
		}
	}

	for _, dst := range []netip.Addr{l.Target4, l.Target6} {
		if got := ping(t, l.Host, dst.String()); got.Exit != 0 {
			t.Fatalf("ping %s from host: %+v", dst, got)
		}
	}
	hostMAC := hardwareAddr(t, l.Host, l.HostLink)
	routerMAC := hardwareAddr(t, l.Router, l.RouterHostLink)
	tests := []struct {
		node *lab.Node
		of   []netip.Addr
		want []string
	}{
		{l.Host, []netip.Addr{l.Router4, l.Router6}, []string{
			fmt.Sprintf("h0 198.18.0.1 %s REACHABLE", routerMAC),
			fmt.Sprintf("h0 fd00:198:18::1 %s REACHABLE", routerMAC),
		}},
		// The router learnt the host from its request (ARP) or solicitation (NDP).
		{l.Router, []netip.Addr{l.Host4, l.Host6}, []string{
			fmt.Sprintf("r0 198.18.0.2 %s", hostMAC),
			fmt.Sprintf("r0 fd00:198:18::2 %s", hostMAC),
		}},
	}
	for _, tt := range tests {
		got := neighbours(t, tt.node, tt.of)
		if tt.node == l.Router {
			for i, s := range got { // its state depends on timing
				got[i] = s[:strings.LastIndexByte(s, ' ')]
			}
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("neighbours in %s after a ping (-want +got):\n%s", tt.node.Name, diff)
		}
	}
}

// TestIPv6Ready checks that every IPv6 address is usable when New returns,
// link-local ones included (NDP sends from them), without waiting for DAD.
func TestIPv6Ready(t *testing.T) {
	t.Parallel()
	labtest.RequireTool(t, "ping", "iputils-ping")
	l := labtest.New(t)
	var routerLinkLocal netip.Addr
	for _, tt := range []struct {
		node *lab.Node
		link string
	}{
		{l.Host, l.HostLink},
		{l.Router, l.RouterHostLink},
		{l.Router, l.RouterTargetLink},
		{l.Target, l.TargetLink},
	} {
		var linkLocal []netip.Addr
		err := tt.node.Do(func() error {
			lk, err := netlink.LinkByName(tt.link)
			if err != nil {
				return err
			}
			addrs, err := netlink.AddrList(lk, netlink.FAMILY_V6)
			if err != nil {
				return err
			}
			for _, a := range addrs {
				ip, _ := netip.AddrFromSlice(a.IP)
				if a.Flags&(unix.IFA_F_TENTATIVE|unix.IFA_F_DADFAILED) != 0 {
					t.Errorf("%s on %s in %s: flags %#x, want neither tentative nor dadfailed", ip, tt.link, tt.node.Name, a.Flags)
				}
				if ip.IsLinkLocalUnicast() {
					linkLocal = append(linkLocal, ip)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(linkLocal) != 1 {
			t.Fatalf("link-local addresses on %s in %s: %v, want one", tt.link, tt.node.Name, linkLocal)
		}
		if tt.link == l.RouterHostLink {
			routerLinkLocal = linkLocal[0]
		}
	}
	dst := routerLinkLocal.WithZone(l.HostLink).String()
	want := pingResult{fmt.Sprintf("64 bytes from %s: icmp_seq=1 ttl=64", dst), 0}
	if diff := cmp.Diff(want, ping(t, l.Host, dst)); diff != "" {
		t.Errorf("ping %s from host (-want +got):\n%s", dst, diff)
	}
}

func TestRouterSysctls(t *testing.T) {
	t.Parallel()
	l := labtest.New(t)
	tests := []struct {
		node *lab.Node
		key  string
		want string
	}{
		{l.Router, "net/ipv4/conf/r0/forwarding", "1"},
		{l.Router, "net/ipv4/conf/r1/forwarding", "1"},
		{l.Router, "net/ipv6/conf/r0/forwarding", "1"},
		{l.Router, "net/ipv6/conf/r1/forwarding", "1"},
		{l.Host, "net/ipv4/conf/h0/forwarding", "0"},
		{l.Host, "net/ipv6/conf/h0/accept_dad", "0"},
		{l.Target, "net/ipv6/conf/t0/accept_dad", "0"},
		{l.Target, "net/ipv6/conf/t0/accept_ra", "0"},
	}
	for _, tt := range tests {
		t.Run(tt.node.Name[strings.LastIndexByte(tt.node.Name, '-')+1:]+"/"+tt.key, func(t *testing.T) {
			var got string
			err := tt.node.Do(func() error {
				b, err := os.ReadFile(filepath.Join("/proc/sys", tt.key))
				got = strings.TrimSpace(string(b))
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("%s in %s = %s, want %s", tt.key, tt.node.Name, got, tt.want)
			}
		})
	}
}

func TestConcurrentLabs(t *testing.T) {
	t.Parallel()
	labtest.RequireTool(t, "ping", "iputils-ping")
	labtest.RequireRoot(t)
	labs := make([]*lab.Lab, 2)
	errs := make([]error, len(labs))
	var wg sync.WaitGroup
	for i := range labs {
		wg.Go(func() { labs[i], errs[i] = lab.New(t.Context()) })
	}
	wg.Wait()
	for i, l := range labs {
		if l != nil {
			t.Cleanup(func() {
				if err := l.Close(); err != nil {
					t.Error(err)
				}
			})
		}
		if errs[i] != nil {
			t.Fatalf("lab %d: %v", i, errs[i])
		}
	}
	if labs[0].ID == labs[1].ID {
		t.Fatalf("both labs have ID %s", labs[0].ID)
	}

	pingAll := func(labs ...*lab.Lab) {
		t.Helper()
		var wg sync.WaitGroup
		got := make([]pingResult, 2*len(labs))
		for i, l := range labs {
			wg.Go(func() { got[2*i] = ping(t, l.Host, l.Target4.String()) })
			wg.Go(func() { got[2*i+1] = ping(t, l.Host, l.Target6.String()) })
		}
		wg.Wait()
		for i, g := range got {
			if g.Exit != 0 {
				t.Errorf("lab %s: ping: %+v", labs[i/2].ID, g)
			}
		}
	}
	pingAll(labs...)

	if err := labs[0].Close(); err != nil {
		t.Fatal(err)
	}
	if got := labtest.Namespaces(t, labs[0].ID); len(got) != 0 {
		t.Errorf("after Close: %v still exist", got)
	}
	if got := labtest.Namespaces(t, labs[1].ID); len(got) != 3 {
		t.Errorf("closing lab %s: the other lab's namespaces are %v, want all three", labs[0].ID, got)
	}
	pingAll(labs[1])
}

func TestClose(t *testing.T) {
	t.Parallel()
	labtest.RequireRoot(t)
	l, err := lab.New(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"pingcraft-" + l.ID + "-host",
		"pingcraft-" + l.ID + "-router",
		"pingcraft-" + l.ID + "-target",
	}
	if diff := cmp.Diff(want, labtest.Namespaces(t, l.ID)); diff != "" {
		t.Errorf("Names after New (-want +got):\n%s", diff)
	}
	for i := range 2 {
		if err := l.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
	}
	if got := labtest.Namespaces(t, l.ID); len(got) != 0 {
		t.Errorf("after Close: %v still exist", got)
	}
	if err := l.Host.Do(func() error { return nil }); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Do after Close: %v, want an error wrapping fs.ErrNotExist", err)
	}
	for _, l := range []*lab.Lab{nil, {}} {
		if err := l.Close(); err != nil {
			t.Errorf("%#v.Close: %v", l, err)
		}
	}
}

// TestNewCanceled cancels New before it starts and then at each of its
// steps in turn: every time it must report the cancellation and leave no
// namespace behind.
func TestNewCanceled(t *testing.T) {
	labtest.RequireRoot(t)
	t.Run("before start", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		id := testID(t)
		l, err := lab.NewWithID(ctx, id)
		if !errors.Is(err, context.Canceled) || l != nil {
			t.Errorf("New: %v, %v; want nil, context.Canceled", l, err)
		}
		if got := labtest.Namespaces(t, id); len(got) != 0 {
			t.Errorf("leaked %v", got)
		}
	})
	t.Run("at every step", func(t *testing.T) {
		for checks := 0; ; checks++ {
			if checks > 200 {
				t.Fatal("New still canceled after 200 checks of ctx")
			}
			id := testID(t)
			start := time.Now()
			l, err := lab.NewWithID(newCancelAfter(checks), id)
			elapsed := time.Since(start)
			if err == nil {
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
				if checks < 10 {
					t.Errorf("New checked ctx only %d times", checks)
				}
				t.Logf("New checks ctx %d times", checks)
				return
			}
			if !errors.Is(err, context.Canceled) || l != nil {
				t.Fatalf("canceled at check %d: New: %v, %v; want nil, context.Canceled", checks+1, l, err)
			}
			if got := labtest.Namespaces(t, id); len(got) != 0 {
				t.Fatalf("canceled at check %d (%v): leaked %v", checks+1, err, got)
			}
			if elapsed > time.Second {
				t.Errorf("canceled at check %d: New took %v to return", checks+1, elapsed)
			}
		}
	})
}

func TestDo(t *testing.T) {
	t.Parallel()
	l := labtest.New(t)
	// Pin this goroutine so "the test's thread" means one thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer before.Close()

	tests := []struct {
		node *lab.Node
		link string // exists only in node
		addr netip.Addr
	}{
		{l.Host, l.HostLink, l.Host4},
		{l.Router, l.RouterTargetLink, l.RouterFar6},
		{l.Target, l.TargetLink, l.Target4},
	}
	for _, tt := range tests {
		err := tt.node.Do(func() error {
			cur, err := netns.Get()
			if err != nil {
				return err
			}
			defer cur.Close()
			want, err := netns.GetFromName(tt.node.Name)
			if err != nil {
				return err
			}
			defer want.Close()
			if !cur.Equal(want) {
				return fmt.Errorf("thread is in %v, want %v", cur, want)
			}
			if _, err := netlink.LinkByName(tt.link); err != nil {
				return err
			}
			// Binding the node's own address works only inside it.
			c, err := net.ListenPacket("udp", netip.AddrPortFrom(tt.addr, 0).String())
			if err != nil {
				return err
			}
			return c.Close()
		})
		if err != nil {
			t.Errorf("Do in %s: %v", tt.node.Name, err)
		}
	}

	errFn := errors.New("fn failed")
	if err := l.Host.Do(func() error { return errFn }); !errors.Is(err, errFn) {
		t.Errorf("Do(fn returning %v) = %v", errFn, err)
	}
	if err := l.Host.Do(func() error { runtime.Goexit(); return nil }); err == nil {
		t.Error("Do(fn calling runtime.Goexit) = nil, want an error")
	}

	after, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer after.Close()
	if !after.Equal(before) {
		t.Errorf("test thread moved from %v to %v", before, after)
	}
	if _, err := netlink.LinkByName(l.HostLink); err == nil {
		t.Errorf("%s is visible from the test thread", l.HostLink)
	}

	// Many at once, so the runtime has several threads to get wrong; then
	// no thread of the process may be left in a lab namespace.
	var wg sync.WaitGroup
	for i := range 32 {
		n := []*lab.Node{l.Host, l.Router, l.Target}[i%3]
		wg.Go(func() {
			if err := n.Do(func() error { return nil }); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	labNS := map[string]string{}
	for _, n := range []*lab.Node{l.Host, l.Router, l.Target} {
		fi, err := os.Stat(filepath.Join("/run/netns", n.Name))
		if err != nil {
			t.Fatal(err)
		}
		labNS[fmt.Sprintf("net:[%d]", fi.Sys().(*syscall.Stat_t).Ino)] = n.Name
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		ns, err := os.Readlink(filepath.Join("/proc/self/task", task.Name(), "ns/net"))
		if err != nil {
			continue // the thread exited meanwhile
		}
		if name, ok := labNS[ns]; ok {
			t.Errorf("thread %s is still in %s", task.Name(), name)
		}
	}
}

func TestHardwareAddr(t *testing.T) {
	t.Parallel()
	l := labtest.New(t)
	mac, err := l.Host.HardwareAddr(l.HostLink)
	if err != nil {
		t.Fatal(err)
	}
	if len(mac) != 6 {
		t.Errorf("HardwareAddr(%s) = %v, want an Ethernet address", l.HostLink, mac)
	}
	if _, err := l.Host.HardwareAddr(l.RouterHostLink); err == nil {
		t.Errorf("HardwareAddr(%s) in %s succeeded; that link is in %s", l.RouterHostLink, l.Host.Name, l.Router.Name)
	}
}

// ping sends one probe from n with iputils ping and returns its result line.
func ping(t *testing.T, n *lab.Node, args ...string) pingResult {
	t.Helper()
	args = append([]string{"-c", "1", "-W", "2"}, args...)
	out, err := n.Command(t.Context(), "ping", args...).CombinedOutput()
	var r pingResult
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.Exit = exit.ExitCode()
	case err != nil: // not t.Fatal: called from goroutines too
		t.Errorf("ping %s in %s: %v", strings.Join(args, " "), n.Name, err)
		return pingResult{Exit: -1}
	}
	for line := range strings.Lines(string(out)) {
		if strings.HasPrefix(line, "64 bytes from ") || strings.HasPrefix(line, "From ") {
			line, _, _ = strings.Cut(strings.TrimSpace(line), " time=")
			r.Line = line
			break
		}
	}
	if r.Line == "" {
		t.Logf("ping %s in %s printed:\n%s", strings.Join(args, " "), n.Name, out)
	}
	return r
}

// neighbours lists n's neighbour table entries, for the addresses in of or
// all, as "link address MAC STATE". Entries the kernel makes without ARP or
// NDP (multicast, NOARP) are left out.
func neighbours(t *testing.T, n *lab.Node, of []netip.Addr) []string {
	t.Helper()
	var got []string
	err := n.Do(func() error {
		neighs, err := netlink.NeighList(0, netlink.FAMILY_ALL)
		if err != nil {
			return err
		}
		for _, ne := range neighs {
			ip, _ := netip.AddrFromSlice(ne.IP)
			ip = ip.Unmap()
			if ne.State&(netlink.NUD_NOARP|netlink.NUD_PERMANENT) != 0 || (of != nil && !containsAddr(of, ip)) {
				continue
			}
			lk, err := netlink.LinkByIndex(ne.LinkIndex)
			if err != nil {
				return err
			}
			got = append(got, fmt.Sprintf("%s %s %s %s", lk.Attrs().Name, ip, ne.HardwareAddr, neighState(ne.State)))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("neighbours in %s: %v", n.Name, err)
	}
	return got
}

func containsAddr(list []netip.Addr, a netip.Addr) bool {
	for _, b := range list {
		if a == b {
			return true
		}
	}
	return false
}

func neighState(s int) string {
	switch s {
	case netlink.NUD_INCOMPLETE:
		return "INCOMPLETE"
	case netlink.NUD_REACHABLE:
		return "REACHABLE"
	case netlink.NUD_STALE:
		return "STALE"
	case netlink.NUD_DELAY:
		return "DELAY"
	case netlink.NUD_PROBE:
		return "PROBE"
	case netlink.NUD_FAILED:
		return "FAILED"
	}
	return fmt.Sprintf("state(%#x)", s)
}

func hardwareAddr(t *testing.T, n *lab.Node, link string) net.HardwareAddr {
	t.Helper()
	mac, err := n.HardwareAddr(link)
	if err != nil {
		t.Fatal(err)
	}
	return mac
}

// namesOf returns the existing namespaces of the lab with this ID. Tests
// look only at their own labs: other packages' tests build labs concurrently.

// testID returns a lab ID no other lab has.
func testID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	return "t" + hex.EncodeToString(b)
}

// cancelAfter is a context that is canceled on the check after the first n
// calls of Err, so a test can cancel New at each of its steps in turn.
type cancelAfter struct {
	context.Context
	left atomic.Int64
	once sync.Once
	done chan struct{}
}

func newCancelAfter(n int) *cancelAfter {
	c := &cancelAfter{Context: context.Background(), done: make(chan struct{})}
	c.left.Store(int64(n))
	return c
}

func (c *cancelAfter) Err() error {
	if c.left.Add(-1) >= 0 {
		return nil
	}
	c.once.Do(func() { close(c.done) })
	return context.Canceled
}

func (c *cancelAfter) Done() <-chan struct{} { return c.done }

// TestDownByID: `pingcraft lab down ID` removes that lab and leaves others.
func TestDownByID(t *testing.T) {
	a, b := labtest.New(t), labtest.New(t)
	removed, err := lab.Down(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{a.Host.Name, a.Router.Name, a.Target.Name}
	sort.Strings(want)
	if diff := cmp.Diff(want, removed); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	if got := labtest.Namespaces(t, a.ID); len(got) != 0 {
		t.Errorf("after Down(%s): %v remain", a.ID, got)
	}
	if got := labtest.Namespaces(t, b.ID); len(got) != 3 {
		t.Errorf("Down(%s) touched the other lab: %v remain of it", a.ID, got)
	}
}

// TestLabMany: the target answers on the first, a middle and the last
// address of Many4 and Many6, from the host, two hops away.
func TestLabMany(t *testing.T) {
	labtest.RequireTool(t, "ping", "iputils-ping")
	l := labtest.New(t)
	for _, p := range []netip.Prefix{l.Many4, l.Many6} {
		last := p.Addr()
		for range 1000 {
			last = last.Next()
		}
		for _, a := range []netip.Addr{p.Addr().Next(), p.Addr().Next().Next().Next(), last} {
			out, err := l.Host.Command(t.Context(), "ping", "-c", "1", "-W", "2", a.String()).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "1 received") {
				t.Errorf("ping %s: %v\n%s", a, err, out)
			}
		}
	}
}
