//go:build linux

package lab

import (
	"bytes"
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
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

const (
	// netnsDir is where `ip netns` and netns.NewNamed keep named namespaces.
	netnsDir = "/run/netns"
	// readyTimeout bounds the wait for the kernel to finish bringing links up
	// when ctx allows longer; it normally takes a few milliseconds.
	readyTimeout = 5 * time.Second
)

// New builds a lab. On any error, ctx cancellation included, it removes what
// it built and returns the error, naming the step that failed.
func New(ctx context.Context) (*Lab, error) {
	id, err := newID()
	if err != nil {
		return nil, err
	}
	return newWithID(ctx, id)
}

// NewTagged is NewPrefixed with tag and a hyphen: pingcraft-TAG-....
func NewTagged(ctx context.Context, tag string) (*Lab, error) {
	return NewPrefixed(ctx, tag+"-")
}

// NewPrefixed is New with an ID that starts with prefix (letters, digits
// and dashes), so that the namespaces of one user of a shared machine are
// told apart from another's at a glance: pingcraft-PREFIX...-host.
func NewPrefixed(ctx context.Context, prefix string) (*Lab, error) {
	id, err := newID()
	if err != nil {
		return nil, err
	}
	return newWithID(ctx, prefix+id)
}

func newWithID(ctx context.Context, id string) (_ *Lab, err error) {
	l := plan(id)
	if err := recordOwner(id); err != nil {
		return nil, err
	}
	b := &builder{ctx: ctx, lab: l, changed: make(chan struct{}, 1)}
	defer func() {
		// Open fds keep a namespace alive after its name is removed: close
		// them first, so that Close really ends the namespaces.
		b.release()
		if err != nil {
			if cerr := l.Close(); cerr != nil {
				err = errors.Join(err, cerr)
			}
		}
	}()
	if err := b.build(); err != nil {
		return nil, err
	}
	return l, nil
}

// Close deletes the lab's namespaces, which deletes their links. It is
// idempotent and safe on a partly built Lab.
func (l *Lab) Close() error {
	if l == nil {
		return nil
	}
	var errs []error
	for _, n := range l.nodes() {
		if err := deleteNamespace(n.Name); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		removeOwner(l.ID)
	}
	return errors.Join(errs...)
}

// Do runs fn on a goroutine locked to an OS thread that is switched into n's
// namespace, then switches the thread back. Sockets created and package-level
// netlink calls made inside fn belong to n's namespace; goroutines fn starts do
// not. fn runs on a goroutine of its own, so it must not call t.FailNow or
// t.Fatal: return an error instead.
func (n *Node) Do(fn func() error) error {
	target, err := netns.GetFromName(n.Name)
	if err != nil {
		return fmt.Errorf("lab: open netns %s: %w", n.Name, err)
	}
	defer target.Close()
	err = onThreadIn(func() error {
		if err := netns.Set(target); err != nil {
			return fmt.Errorf("lab: enter netns %s: %w", n.Name, err)
		}
		return nil
	}, fn)
	return err
}

// Dial connects from inside the node's namespace, to reach a service that
// listens there (the socket is made there; it is used from anywhere).
func (n *Node) Dial(network, address string, timeout time.Duration) (net.Conn, error) {
	var c net.Conn
	err := n.Do(func() error {
		var err error
		c, err = net.DialTimeout(network, address, timeout)
		return err
	})
	return c, err
}

// Command returns a command that runs name inside n's namespace, through
// `ip netns exec`. ctx kills it like exec.CommandContext.
func (n *Node) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
}

// HardwareAddr returns the MAC address of link in n's namespace.
func (n *Node) HardwareAddr(link string) (net.HardwareAddr, error) {
	fd, err := netns.GetFromName(n.Name)
	if err != nil {
		return nil, fmt.Errorf("lab: open netns %s: %w", n.Name, err)
	}
	defer fd.Close()
	h, err := netlink.NewHandleAt(fd, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("lab: open netlink in %s: %w", n.Name, err)
	}
	defer h.Close()
	lk, err := h.LinkByName(link)
	if err != nil {
		return nil, fmt.Errorf("lab: find link %s in %s: %w", link, n.Name, err)
	}
	return lk.Attrs().HardwareAddr, nil
}

// Down removes the namespaces of the labs with the given IDs and returns
// their names. With none given it removes the labs left over: those whose
// process is gone (killed, or `pingcraft lab --keep`), never the lab of a
// running process, another user's test included, nor a namespace with the
// prefix that this package did not make. It is for `pingcraft lab down`;
// tests must name an ID.
func Down(ids ...string) ([]string, error) {
	names, err := Names()
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, name := range names {
		if !ofLabs(name, ids) {
			continue
		}
		id, ok := labID(name)
		if len(ids) == 0 && keptReason(name) != "" {
			continue
		}
		if err := deleteNamespace(name); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, name)
		if ok && !slices.ContainsFunc(names, func(n string) bool {
			return n != name && strings.HasPrefix(n, namePrefix+id+"-") && !slices.Contains(removed, n)
		}) {
			removeOwner(id)
		}
	}
	return removed, errors.Join(errs...)
}

// Kept lists what Down without IDs leaves, each name with why.
func Kept() ([]string, error) {
	names, err := Names()
	if err != nil {
		return nil, err
	}
	var kept []string
	for _, name := range names {
		if why := keptReason(name); why != "" {
			kept = append(kept, name+": "+why)
		}
	}
	return kept, nil
}

func keptReason(name string) string {
	id, ok := labID(name)
	switch {
	case !ok || !recorded(id):
		return "not made by pingcraft lab (name it to remove it)"
	case InUse(id) != "":
		return "in use by " + InUse(id)
	}
	return ""
}

// ownerDir holds, per lab, the process that made it: its PID and start
// time, so that a PID used again is not taken for it.
const ownerDir = "/run/pingcraft/labs"

func recordOwner(id string) error {
	start, err := processStart(os.Getpid())
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	if err := os.MkdirAll(ownerDir, 0o755); err != nil {
		return fmt.Errorf("lab: record the lab's owner: %w", err)
	}
	if err := os.WriteFile(filepath.Join(ownerDir, id), fmt.Appendf(nil, "%d %s\n", os.Getpid(), start), 0o644); err != nil {
		return fmt.Errorf("lab: record the lab's owner: %w", err)
	}
	return nil
}

func removeOwner(id string) { os.Remove(filepath.Join(ownerDir, id)) }

// InUse says which running process a lab belongs to ("" if none does, or
// its owner is not recorded): `lab down` leaves such a lab alone.
func InUse(id string) string {
	b, err := os.ReadFile(filepath.Join(ownerDir, id))
	if err != nil {
		return ""
	}
	var pid int
	var start string
	if _, err := fmt.Sscan(string(b), &pid, &start); err != nil {
		return ""
	}
	if now, err := processStart(pid); err != nil || now != start {
		return ""
	}
	return fmt.Sprintf("PID %d", pid)
}

// recorded says whether this package made the lab: it records every lab's
// owner.
func recorded(id string) bool {
	_, err := os.Stat(filepath.Join(ownerDir, id))
	return err == nil
}

// processStart is a process's start time in clock ticks since boot, field
// 22 of /proc/PID/stat (after the command, which may hold spaces).
func processStart(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", err
	}
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if i < 0 || len(f) < 20 {
		return "", fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return f[19], nil
}

// Names lists the namespaces this package created that still exist, sorted.
func Names() ([]string, error) {
	entries, err := os.ReadDir(netnsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lab: list %s: %w", netnsDir, err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), namePrefix) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

func newID() (string, error) {
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("lab: random id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// deleteNamespace removes a named namespace like `ip netns delete`, and also
// what a failed creation leaves behind (a file that was never mounted).
func deleteNamespace(name string) error {
	path := filepath.Join(netnsDir, name)
	// EINVAL: not a mount point; ENOENT: already gone.
	err := unix.Unmount(path, unix.MNT_DETACH)
	if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("lab: unmount netns %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("lab: remove netns %s: %w", path, err)
	}
	return nil
}

// shareNetnsDir makes /run/netns a shared mount point, as `ip netns add`
// does, so that deleting a namespace also unmounts the copies that other
// mount namespaces (every `ip netns exec` makes one) hold; otherwise those
// copies keep a deleted namespace alive.
func shareNetnsDir() error {
	if err := os.MkdirAll(netnsDir, 0o755); err != nil {
		return err
	}
	dir, err := os.Open(netnsDir)
	if err != nil {
		return err
	}
	defer dir.Close()
	// Two processes turning the directory into a mount point at once would
	// stack two mounts; the lock makes the second one see the first.
	if err := unix.Flock(int(dir.Fd()), unix.LOCK_EX); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	defer unix.Flock(int(dir.Fd()), unix.LOCK_UN)
	err = unix.Mount("", netnsDir, "none", unix.MS_SHARED|unix.MS_REC, "")
	if !errors.Is(err, unix.EINVAL) {
		return err
	}
	// EINVAL: not a mount point yet.
	if err := unix.Mount(netnsDir, netnsDir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return err
	}
	return unix.Mount("", netnsDir, "none", unix.MS_SHARED|unix.MS_REC, "")
}

// onThreadIn runs enter then fn on a new goroutine locked to its OS thread,
// then moves the thread back to the namespace it started in. If that fails
// the thread stays locked, so the runtime destroys it when the goroutine ends
// instead of reusing a thread in the wrong namespace.
func onThreadIn(enter, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		err := errors.New("lab: function in namespace exited its goroutine (runtime.Goexit)")
		defer func() { errc <- err }()
		runtime.LockOSThread()
		orig, gerr := netns.Get()
		if gerr != nil {
			runtime.UnlockOSThread()
			err = fmt.Errorf("lab: get current netns: %w", gerr)
			return
		}
		defer orig.Close()
		defer func() {
			if serr := netns.Set(orig); serr != nil {
				err = errors.Join(err, fmt.Errorf("lab: restore netns of thread: %w", serr))
				return
			}
			runtime.UnlockOSThread()
		}()
		// Restore even when enter fails: netns.NewNamed unshares before it
		// can fail.
		if eerr := enter(); eerr != nil {
			err = eerr
			return
		}
		err = fn() // left as it is if fn calls runtime.Goexit
	}()
	return <-errc
}

// sysctl is one /proc/sys setting. It is written from a thread inside the
// namespace because /proc/sys/net shows the writer's network namespace.
type sysctl struct{ key, value string }

// nsState is what New holds open in one namespace while it builds.
type nsState struct {
	node   *Node
	fd     netns.NsHandle
	nlh    *netlink.Handle   // rtnetlink bound to the namespace
	events *nl.NetlinkSocket // link and IPv6 address notifications
}

// builder carries New through its steps.
type builder struct {
	ctx     context.Context
	lab     *Lab
	ns      []*nsState
	changed chan struct{} // signalled on every notification from any namespace
	readers sync.WaitGroup
}

func (b *builder) state(n *Node) *nsState {
	for _, s := range b.ns {
		if s.node == n {
			return s
		}
	}
	return nil
}

// step checks ctx, runs fn, and names the step in its error.
func (b *builder) step(what string, fn func() error) error {
	if err := b.ctx.Err(); err != nil {
		return fmt.Errorf("lab: %s: %w", what, err)
	}
	if err := fn(); err != nil {
		return fmt.Errorf("lab: %s: %w", what, err)
	}
	return nil
}

func (b *builder) build() error {
	l := b.lab
	if err := b.step("prepare "+netnsDir, shareNetnsDir); err != nil {
		return err
	}

	common := []sysctl{
		// No duplicate address detection: IPv6 addresses, link-local ones
		// included, are usable as soon as the link is up instead of ~1s later.
		{"net/ipv6/conf/all/accept_dad", "0"},
		{"net/ipv6/conf/default/accept_dad", "0"},
		// No router solicitations: the router would record the sender in
		// its neighbour table, and the lab's routes are static anyway.
		{"net/ipv6/conf/default/accept_ra", "0"},
		// Tests provoke ICMP errors back to back, so no error type is rate
		// limited. (icmp_ratelimit=0 would look simpler but empties the
		// per-peer tokens that the unreachable-route limiter also spends.)
		{"net/ipv4/icmp_ratemask", "0"},
		{"net/ipv6/icmp/ratelimit", "0"},
	}
	forwarding := []sysctl{
		{"net/ipv4/ip_forward", "1"},
		{"net/ipv6/conf/all/forwarding", "1"},
	}
	for _, c := range []struct {
		node    *Node
		sysctls []sysctl
	}{
		{l.Host, common},
		{l.Router, slices.Concat(common, forwarding)},
		{l.Target, common},
	} {
		if err := b.step("create netns "+c.node.Name, func() error {
			s, err := createNamespace(c.node, c.sysctls)
			if err != nil {
				return err
			}
			b.ns = append(b.ns, s)
			b.watch(s.events)
			return nil
		}); err != nil {
			return err
		}
	}
	host, router, target := b.state(l.Host), b.state(l.Router), b.state(l.Target)

	for _, p := range []struct{ a, b end }{
		{end{host, l.HostLink}, end{router, l.RouterHostLink}},
		{end{router, l.RouterTargetLink}, end{target, l.TargetLink}},
	} {
		what := fmt.Sprintf("add veth %s in %s, peer %s in %s", p.a.link, p.a.s.node.Name, p.b.link, p.b.s.node.Name)
		if err := b.step(what, func() error {
			// Created in place in both namespaces: the names never exist
			// in the caller's namespace, so concurrent labs cannot collide.
			return p.a.s.nlh.LinkAdd(&netlink.Veth{
				LinkAttrs:     netlink.LinkAttrs{Name: p.a.link, Namespace: netlink.NsFd(p.a.s.fd)},
				PeerName:      p.b.link,
				PeerNamespace: netlink.NsFd(p.b.s.fd),
			})
		}); err != nil {
			return err
		}
	}

	for _, s := range b.ns {
		if err := b.step("set lo up in "+s.node.Name, func() error { return linkUp(s.nlh, "lo") }); err != nil {
			return err
		}
	}

	links := []struct {
		end
		addrs []netip.Prefix
	}{
		{end{host, l.HostLink}, []netip.Prefix{netip.PrefixFrom(l.Host4, bits4), netip.PrefixFrom(l.Host6, bits6)}},
		{end{router, l.RouterHostLink}, []netip.Prefix{netip.PrefixFrom(l.Router4, bits4), netip.PrefixFrom(l.Router6, bits6)}},
		{end{router, l.RouterTargetLink}, []netip.Prefix{netip.PrefixFrom(l.RouterFar4, bits4), netip.PrefixFrom(l.RouterFar6, bits6)}},
		{end{target, l.TargetLink}, []netip.Prefix{netip.PrefixFrom(l.Target4, bits4), netip.PrefixFrom(l.Target6, bits6)}},
	}
	for _, k := range links {
		for _, a := range k.addrs {
			what := fmt.Sprintf("add address %s to %s in %s", a, k.link, k.s.node.Name)
			if err := b.step(what, func() error { return addAddr(k.s.nlh, k.link, a) }); err != nil {
				return err
			}
		}
	}
	// Links go up after their addresses, and the routes after the links: a
	// gateway must be on a connected route, which exists only once a link is
	// up with its address.
	for _, k := range links {
		what := fmt.Sprintf("set %s up in %s", k.link, k.s.node.Name)
		if err := b.step(what, func() error { return linkUp(k.s.nlh, k.link) }); err != nil {
			return err
		}
	}

	for _, r := range []struct {
		end
		gw netip.Addr
	}{
		{end{host, l.HostLink}, l.Router4},
		{end{host, l.HostLink}, l.Router6},
		{end{target, l.TargetLink}, l.RouterFar4},
		{end{target, l.TargetLink}, l.RouterFar6},
	} {
		what := fmt.Sprintf("add route default via %s in %s", r.gw, r.s.node.Name)
		if err := b.step(what, func() error { return addDefaultRoute(r.s.nlh, r.link, r.gw) }); err != nil {
			return err
		}
	}
	for _, p := range []netip.Prefix{l.Unreachable4, l.Unreachable6} {
		what := fmt.Sprintf("add route unreachable %s in %s", p, router.node.Name)
		if err := b.step(what, func() error {
			return router.nlh.RouteAdd(&netlink.Route{Dst: ipNet(p.Masked()), Type: unix.RTN_UNREACHABLE})
		}); err != nil {
			return err
		}
	}

	for _, r := range []struct {
		p  netip.Prefix
		gw netip.Addr
	}{{l.Many4, l.Target4}, {l.Many6, l.Target6}} {
		what := fmt.Sprintf("add route %s via %s in %s", r.p, r.gw, router.node.Name)
		if err := b.step(what, func() error { return addRoute(router.nlh, l.RouterTargetLink, r.p, r.gw) }); err != nil {
			return err
		}
		what = fmt.Sprintf("add route local %s dev lo in %s", r.p, target.node.Name)
		if err := b.step(what, func() error { return addLocalRoute(target.nlh, r.p) }); err != nil {
			return err
		}
	}

	return b.waitReady(links[0].end, links[1].end, links[2].end, links[3].end)
}

// createNamespace creates the named namespace from a thread that then
// applies sysctls and opens the netlink sockets New uses in it.
func createNamespace(n *Node, sysctls []sysctl) (*nsState, error) {
	s := &nsState{node: n, fd: netns.None()}
	err := onThreadIn(func() error {
		fd, err := netns.NewNamed(n.Name)
		if err != nil {
			return err
		}
		s.fd = fd
		return nil
	}, func() error {
		for _, c := range sysctls {
			if err := os.WriteFile(filepath.Join("/proc/sys", c.key), []byte(c.value), 0o644); err != nil {
				return fmt.Errorf("set sysctl %s=%s: %w", c.key, c.value, err)
			}
		}
		var err error
		if s.nlh, err = netlink.NewHandle(unix.NETLINK_ROUTE); err != nil {
			return fmt.Errorf("open netlink: %w", err)
		}
		// Subscribed before any link exists, so no notification is missed.
		if s.events, err = nl.Subscribe(unix.NETLINK_ROUTE, unix.RTNLGRP_LINK, unix.RTNLGRP_IPV6_IFADDR); err != nil {
			return fmt.Errorf("subscribe to netlink notifications: %w", err)
		}
		return nil
	})
	if err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *nsState) close() {
	if s.events != nil {
		s.events.Close()
	}
	if s.nlh != nil {
		s.nlh.Close()
	}
	if s.fd.IsOpen() {
		s.fd.Close()
	}
}

// watch turns every notification on sock into a signal on b.changed until
// sock is closed.
func (b *builder) watch(sock *nl.NetlinkSocket) {
	b.readers.Go(func() {
		for {
			_, _, err := sock.Receive()
			// ENOBUFS: notifications were lost, which is still a change.
			if err != nil && !errors.Is(err, unix.ENOBUFS) && !errors.Is(err, unix.EINTR) {
				return
			}
			select {
			case b.changed <- struct{}{}:
			default:
			}
		}
	})
}

// release closes everything New held open and joins its goroutines.
func (b *builder) release() {
	for _, s := range b.ns {
		if s.events != nil {
			s.events.Close() // unblocks the reader
		}
	}
	b.readers.Wait()
	for _, s := range b.ns {
		s.close()
	}
}

// end is one end of a veth pair: a link in a namespace.
type end struct {
	s    *nsState
	link string
}

// waitReady returns once every link is operationally up (the kernel has
// attached its queueing discipline: earlier, packets are dropped) and has a
// link-local IPv6 address, with no IPv6 address still tentative. Links come
// up asynchronously, in the kernel's link watch and address workers.
func (b *builder) waitReady(ends ...end) error {
	ctx, cancel := context.WithTimeout(b.ctx, readyTimeout)
	defer cancel()
	for {
		pending, err := notReady(ends)
		if err != nil {
			return err
		}
		if pending == "" {
			return nil
		}
		select {
		case <-b.changed:
		case <-ctx.Done():
			return fmt.Errorf("lab: wait for %s: %w", pending, ctx.Err())
		}
	}
}

// notReady describes the first thing that is not ready yet, or returns "".
func notReady(ends []end) (string, error) {
	for _, e := range ends {
		in := e.s.node.Name
		lk, err := e.s.nlh.LinkByName(e.link)
		if err != nil {
			return "", fmt.Errorf("lab: find link %s in %s: %w", e.link, in, err)
		}
		if st := lk.Attrs().OperState; st != netlink.OperUp {
			return fmt.Sprintf("%s in %s to be up (operstate %s)", e.link, in, st), nil
		}
		addrs, err := e.s.nlh.AddrList(lk, netlink.FAMILY_V6)
		if err != nil {
			return "", fmt.Errorf("lab: list addresses of %s in %s: %w", e.link, in, err)
		}
		linkLocal := false
		for _, a := range addrs {
			switch {
			case a.Flags&unix.IFA_F_DADFAILED != 0:
				return "", fmt.Errorf("lab: address %s on %s in %s: duplicate address detection failed", a.IP, e.link, in)
			case a.Flags&unix.IFA_F_TENTATIVE != 0:
				return fmt.Sprintf("address %s on %s in %s to leave tentative state", a.IP, e.link, in), nil
			}
			linkLocal = linkLocal || a.IP.IsLinkLocalUnicast()
		}
		if !linkLocal {
			return fmt.Sprintf("a link-local address on %s in %s", e.link, in), nil
		}
	}
	return "", nil
}

func linkUp(h *netlink.Handle, name string) error {
	lk, err := h.LinkByName(name)
	if err != nil {
		return err
	}
	return h.LinkSetUp(lk)
}

func addAddr(h *netlink.Handle, link string, p netip.Prefix) error {
	lk, err := h.LinkByName(link)
	if err != nil {
		return err
	}
	return h.AddrAdd(lk, &netlink.Addr{IPNet: ipNet(p)})
}

func addDefaultRoute(h *netlink.Handle, link string, gw netip.Addr) error {
	lk, err := h.LinkByName(link)
	if err != nil {
		return err
	}
	return h.RouteAdd(&netlink.Route{LinkIndex: lk.Attrs().Index, Gw: gw.AsSlice()})
}

func addRoute(h *netlink.Handle, link string, p netip.Prefix, gw netip.Addr) error {
	lk, err := h.LinkByName(link)
	if err != nil {
		return err
	}
	return h.RouteAdd(&netlink.Route{LinkIndex: lk.Attrs().Index, Dst: ipNet(p.Masked()), Gw: gw.AsSlice()})
}

// addLocalRoute makes every address of p the node's own, as
// `ip route add local P dev lo` does: the kernel answers pings to all of them.
func addLocalRoute(h *netlink.Handle, p netip.Prefix) error {
	lo, err := h.LinkByName("lo")
	if err != nil {
		return err
	}
	return h.RouteAdd(&netlink.Route{LinkIndex: lo.Attrs().Index, Dst: ipNet(p.Masked()), Type: unix.RTN_LOCAL,
		Table: unix.RT_TABLE_LOCAL, Scope: netlink.SCOPE_HOST})
}

// ipNet converts p, keeping its host bits: an address on a subnet.
func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
