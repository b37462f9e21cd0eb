//go:build linux

package labtest_test

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/gopacket"
	"github.com/vishvananda/netlink"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/lab"
	"github.com/pingcraft/pingcraft/lab/labtest"
)

// runPing runs iputils ping in n and returns its output and exit status.
func runPing(t *testing.T, n *lab.Node, args ...string) (string, int) {
	t.Helper()
	out, err := n.Command(t.Context(), "ping", args...).CombinedOutput()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	case err != nil:
		t.Fatalf("ping %s in %s: %v", strings.Join(args, " "), n.Name, err)
	}
	return string(out), 0
}

var rttMin = regexp.MustCompile(`rtt min/avg/max/mdev = ([0-9.]+)/`)

func echoIgnored(t *testing.T, n *lab.Node) []string {
	t.Helper()
	var got []string
	err := n.Do(func() error {
		for _, key := range []string{"net/ipv4/icmp_echo_ignore_all", "net/ipv6/icmp/echo_ignore_all"} {
			b, err := os.ReadFile(filepath.Join("/proc/sys", key))
			if err != nil {
				return err
			}
			got = append(got, strings.TrimSpace(string(b)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// linkLocal returns n's link-local address on link.
func linkLocal(t *testing.T, n *lab.Node, link string) netip.Addr {
	t.Helper()
	var ll netip.Addr
	err := n.Do(func() error {
		lk, err := netlink.LinkByName(link)
		if err != nil {
			return err
		}
		addrs, err := netlink.AddrList(lk, netlink.FAMILY_V6)
		if err != nil {
			return err
		}
		for _, a := range addrs {
			if ip, _ := netip.AddrFromSlice(a.IP); ip.IsLinkLocalUnicast() {
				ll = ip
			}
		}
		return nil
	})
	if err != nil || !ll.IsValid() {
		t.Fatalf("link-local address of %s in %s: %v", link, n.Name, err)
	}
	return ll
}

// TestRespond answers iputils ping with the responder in place of the
// kernel, for each thing it can do to a reply, in both families.
func TestRespond(t *testing.T) {
	t.Parallel()
	labtest.RequireTool(t, "ping", "iputils-ping")
	type result struct {
		out   string
		exit  int
		stats labtest.ResponderStats
	}
	tests := []struct {
		name string
		cfg  *labtest.ResponderConfig
		// on picks the responder's node and ping's arguments.
		on    func(t *testing.T, l *lab.Lab, six bool) (*lab.Node, []string)
		check func(t *testing.T, r result)
	}{
		{
			name: "intact",
			on: func(t *testing.T, l *lab.Lab, six bool) (*lab.Node, []string) {
				return l.Target, []string{addr(six, l.Target4, l.Target6)}
			},
			check: func(t *testing.T, r result) {
				want := labtest.ResponderStats{Requests: 3, Replies: 3}
				if r.exit != 0 || !strings.Contains(r.out, "3 packets transmitted, 3 received, 0% packet loss") ||
					!strings.Contains(r.out, "icmp_seq=1 ttl=63") || r.stats != want {
					t.Errorf("exit %d, stats %+v, want %+v:\n%s", r.exit, r.stats, want, r.out)
				}
			},
		},
		{
			// Routing alone would answer from the router's near address.
			name: "from the address asked",
			on: func(t *testing.T, l *lab.Lab, six bool) (*lab.Node, []string) {
				return l.Router, []string{addr(six, l.RouterFar4, l.RouterFar6)}
			},
			check: func(t *testing.T, r result) {
				n4, n6 := strings.Count(r.out, "bytes from 198.18.1.1: "), strings.Count(r.out, "bytes from fd00:198:18:1::1: ")
				if r.exit != 0 || !strings.Contains(r.out, "3 received") || n4+n6 != 3 {
					t.Errorf("exit %d:\n%s", r.exit, r.out)
				}
			},
		},
		{
			name: "next hop, link-local for v6",
			on: func(t *testing.T, l *lab.Lab, six bool) (*lab.Node, []string) {
				if !six {
					return l.Router, []string{l.Router4.String()}
				}
				return l.Router, []string{linkLocal(t, l.Router, l.RouterHostLink).String() + "%" + l.HostLink}
			},
			check: func(t *testing.T, r result) {
				if r.exit != 0 || !strings.Contains(r.out, "3 received") || !strings.Contains(r.out, "ttl=64") {
					t.Errorf("exit %d:\n%s", r.exit, r.out)
				}
			},
		},
		{
			name: "delayed",
			cfg:  &labtest.ResponderConfig{Delay: 100 * time.Millisecond},
			on: func(t *testing.T, l *lab.Lab, six bool) (*lab.Node, []string) {
				return l.Target, []string{addr(six, l.Target4, l.Target6)}
			},
			check: func(t *testing.T, r result) {
				m := rttMin.FindStringSubmatch(r.out)
				if m == nil {
					t.Fatalf("no rtt line:\n%s", r.out)
				}
				if min, _ := strconv.ParseFloat(m[1], 64); min < 100 || min > 1000 {
					t.Errorf("rtt min %v ms with a 100 ms delay:\n%s", min, r.out)
				}
			},
		},
		{
			name: "duplicated",
			cfg:  &labtest.ResponderConfig{Duplicates: 2},
			on: func(t *testing.T, l *lab.Lab, six bool) (*lab.Node, []string) {
				return l.Target, []string{addr(six, l.Target4, l.Target6)}
			},
			check: func(t *testing.T, r result) {
				// ping ends on the third reply, before its duplicates.
				want := labtest.ResponderStats{Requests: 3, Replies: 9}
				dups := regexp.MustCompile(`(?m)icmp_seq=[12] .*\(DUP!\)$`).FindAllString(r.out, -1)
				if !strings.Contains(r.out, "3 received, +") || len(dups) != 4 || r.stats != want {
					t.Errorf("stats %+v, want %+v:\n%s", r.stats, want, r.out)
				}
			},
		},
		{
			name: "corrupted",
			cfg:  &labtest.ResponderConfig{Corrupt: []labtest.Corruption{{Seq: 2, Offset: 30}, {Seq: 3, Offset: 5000}}},
			on: func(t *testing.T, l *lab.Lab, six bool) (*lab.Node, []string) {
				return l.Target, []string{addr(six, l.Target4, l.Target6)}
			},
			check: func(t *testing.T, r result) {
				// iputils fills data byte i with i and counts the reply.
				want := labtest.ResponderStats{Requests: 3, Replies: 3, Corrupted: 1}
				if !strings.Contains(r.out, "icmp_seq=2 ") || strings.Count(r.out, "wrong data byte #30 should be 0x1e but was 0xe1") != 1 || r.stats != want {
					t.Errorf("stats %+v, want %+v:\n%s", r.stats, want, r.out)
				}
			},
		},
	}
	for _, tt := range tests {
		for _, six := range []bool{false, true} {
			name := tt.name + "/v4"
			if six {
				name = tt.name + "/v6"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				l := labtest.New(t)
				node, args := tt.on(t, l, six)
				rs, err := labtest.Respond(node, tt.cfg)
				if err != nil {
					t.Fatal(err)
				}
				defer func() {
					if err := rs.Close(); err != nil {
						t.Error(err)
					}
				}()
				out, exit := runPing(t, l.Host, append([]string{"-c", "3", "-i", "0.1", "-W", "2"}, args...)...)
				tt.check(t, result{out, exit, settled(rs)})
			})
		}
	}
}

// settled returns rs's stats once they stop changing: ping may exit on a
// reply before the responder has sent that reply's duplicates.
func settled(rs *labtest.Responder) labtest.ResponderStats {
	st := rs.Stats()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		now := rs.Stats()
		if now == st {
			break
		}
		st = now
	}
	return st
}

func addr(six bool, v4, v6 netip.Addr) string {
	if six {
		return v6.String()
	}
	return v4.String()
}

// TestRespondClose: the kernel is silent while the responder runs and
// answers again once Close restores its sysctls; Close drops replies held
// back by Delay without waiting for them and may be called again.
func TestRespondClose(t *testing.T) {
	t.Parallel()
	labtest.RequireTool(t, "ping", "iputils-ping")
	l := labtest.New(t)
	before := echoIgnored(t, l.Target)
	rs, err := labtest.Respond(l.Target, &labtest.ResponderConfig{Delay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1", "1"}, echoIgnored(t, l.Target)); diff != "" {
		t.Errorf("echo_ignore_all while responding (-want +got):\n%s", diff)
	}
	for _, dst := range []netip.Addr{l.Target4, l.Target6} {
		if out, exit := runPing(t, l.Host, "-c", "1", "-W", "0.3", dst.String()); exit != 1 {
			t.Errorf("ping %s with replies held an hour: exit %d, want 1 (no reply):\n%s", dst, exit, out)
		}
	}
	start := time.Now()
	if err := rs.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v with replies held back", d)
	}
	if err := rs.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if diff := cmp.Diff(before, echoIgnored(t, l.Target)); diff != "" {
		t.Errorf("echo_ignore_all after Close (-before +after):\n%s", diff)
	}
	if got := rs.Stats(); got.Requests != 2 || got.Replies != 0 {
		t.Errorf("stats %+v, want 2 requests and no reply", got)
	}
	for _, dst := range []netip.Addr{l.Target4, l.Target6} {
		if out, exit := runPing(t, l.Host, "-c", "1", "-W", "2", dst.String()); exit != 0 {
			t.Errorf("ping %s after Close: exit %d, want the kernel's reply:\n%s", dst, exit, out)
		}
	}
}

// TestRespondBadChecksum: an IPv4 request with a wrong ICMP checksum is
// ignored, as the kernel ignores it, and counted.
func TestRespondBadChecksum(t *testing.T) {
	t.Parallel()
	labtest.RequireTool(t, "ping", "iputils-ping")
	l := labtest.New(t)
	rs, err := labtest.Respond(l.Target, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	err = l.Host.Do(func() error {
		c, err := net.ListenPacket("ip4:icmp", l.Host4.String())
		if err != nil {
			return err
		}
		defer c.Close()
		// Zero data would make the header-only checksum the right one.
		e := craft.Echo{ID: 0x7063, Seq: 1, Dst: l.Target4, Payload: []byte("pingcraft"), Faults: craft.FaultICMPHeaderChecksum}
		buf := gopacket.NewSerializeBuffer()
		if err := e.Serialize(buf, craft.DepthICMP); err != nil {
			return err
		}
		_, err = c.WriteTo(buf.Bytes(), &net.IPAddr{IP: l.Target4.AsSlice()})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Same path, same socket queue: once this reply is back, the bad
	// request before it has been read.
	if out, exit := runPing(t, l.Host, "-c", "1", "-W", "2", l.Target4.String()); exit != 0 {
		t.Fatalf("good request: exit %d:\n%s", exit, out)
	}
	want := labtest.ResponderStats{Requests: 1, Replies: 1, BadChecksums: 1}
	if diff := cmp.Diff(want, settled(rs)); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
}

func TestRespondBadConfig(t *testing.T) {
	t.Parallel()
	l := labtest.New(t)
	for _, cfg := range []*labtest.ResponderConfig{{Delay: -1}, {Duplicates: -1}} {
		if rs, err := labtest.Respond(l.Target, cfg); err == nil {
			rs.Close()
			t.Errorf("Respond(%+v) succeeded", cfg)
		}
	}
	if diff := cmp.Diff([]string{"0", "0"}, echoIgnored(t, l.Target)); diff != "" {
		t.Errorf("a refused Respond changed echo_ignore_all (-want +got):\n%s", diff)
	}
}
