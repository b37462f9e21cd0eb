package main

import (
	"bufio"
	"io"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/pingcraft/pingcraft/lab/labtest"
)

// TestSendInterfaceRecreated: a raw-mode send bound to an interface (-I)
// that is deleted and recreated under it follows the interface by name:
// probes fail while it is gone, then replies come again, instead of a
// send error for ever (the socket kept the old interface's index).
func TestSendInterfaceRecreated(t *testing.T) {
	bin := pingcraftBinary(t)
	l := labtest.NewPrefixed(t, "rb-")
	// A veth pair of its own, host to target, in 198.19.77.0/24 (out of
	// the lab's plan, inside the benchmarking range).
	link := func() {
		t.Helper()
		target, err := netns.GetFromName(l.Target.Name)
		if err != nil {
			t.Fatal(err)
		}
		defer target.Close()
		err = l.Host.Do(func() error {
			if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "rbx0"}, PeerName: "rbx1"}); err != nil {
				return err
			}
			peer, err := netlink.LinkByName("rbx1")
			if err != nil {
				return err
			}
			if err := netlink.LinkSetNsFd(peer, int(target)); err != nil {
				return err
			}
			return addrUp("rbx0", "198.19.77.1/24")
		})
		if err == nil {
			err = l.Target.Do(func() error { return addrUp("rbx1", "198.19.77.2/24") })
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	link()

	r, w := io.Pipe()
	cmd := l.Host.Command(t.Context(), bin, "send", "--mode", "raw", "-I", "rbx0", "-i", "0.1", "-w", "20", "198.19.77.2")
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan struct{})
	go func() { cmd.Wait(); w.Close(); close(waited) }()
	defer func() { cmd.Process.Kill(); <-waited }()
	lines := bufio.NewScanner(r)
	var seen strings.Builder
	next := func(what string, match func(string) bool) {
		t.Helper()
		for lines.Scan() {
			seen.WriteString(lines.Text() + "\n")
			if match(lines.Text()) {
				return
			}
		}
		t.Fatalf("no %s; output:\n%s", what, seen.String())
	}
	next("reply", func(s string) bool { return strings.Contains(s, "bytes from 198.19.77.2") })
	if err := l.Host.Do(func() error {
		h, err := netlink.LinkByName("rbx0")
		if err != nil {
			return err
		}
		return netlink.LinkDel(h) // and its peer in the target
	}); err != nil {
		t.Fatal(err)
	}
	// The route went with the interface: "network is unreachable", then
	// "no such device". send dropped CAP_NET_RAW, without which a bound
	// socket cannot be bound again: the run ends in one line. A process
	// that kept it (serve) rebinds once the interface is back.
	gone := "interface rbx0 went away under its raw socket, which cannot follow it without CAP_NET_RAW"
	next("send error while rbx0 is gone", func(s string) bool { return strings.Contains(s, ": send icmp_seq=") || strings.Contains(s, gone) })
	link()
	next("reply after rbx0 came back, or the line saying why none can come", func(s string) bool {
		return strings.Contains(s, "bytes from 198.19.77.2") || strings.Contains(s, gone)
	})
	for lines.Scan() {
		seen.WriteString(lines.Text() + "\n")
	}
	out := seen.String()
	if n := strings.Count(out, gone); n > 1 || n == 1 && cmd.ProcessState.ExitCode() == 0 {
		t.Errorf("%d lines saying rbx0 went away, exit %d; want one and a failure", n, cmd.ProcessState.ExitCode())
	}
	t.Logf("output:\n%s", out)
}

// addrUp gives the link named name the address cidr and brings it up, in
// the namespace of the calling thread.
func addrUp(name, cidr string) error {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return err
	}
	a, err := netlink.ParseAddr(cidr)
	if err != nil {
		return err
	}
	if err := netlink.AddrAdd(l, a); err != nil {
		return err
	}
	return netlink.LinkSetUp(l)
}
