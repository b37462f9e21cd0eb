package main

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/pingcraft/pingcraft/lab/labtest"
)

// TestServeRefreshTTL: with refresh: ttl, serve looks a name up again when
// its DNS records expire, not at every probe nor never: a DNS server in the
// lab answers with a TTL of 2s, then moves the name, and serve probes the
// new address within a few TTLs, having asked about as often as the TTL
// says.
func TestServeRefreshTTL(t *testing.T) {
	bin := pingcraftBinary(t)
	l := labtest.New(t)
	const name = "mesh.pingcraft.test."
	var addr atomic.Pointer[netip.Addr]
	first, moved := l.Target4, l.RouterFar4
	addr.Store(&first)
	var asked atomic.Int64
	var pc net.PacketConn
	if err := l.Router.Do(func() error {
		var err error
		pc, err = net.ListenPacket("udp4", net.JoinHostPort(l.Router4.String(), "53"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		if len(q.Question) == 1 && strings.EqualFold(q.Question[0].Name, name) {
			if q.Question[0].Qtype == dns.TypeA {
				asked.Add(1)
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 2},
					A: addr.Load().AsSlice()})
			}
		} else {
			m.Rcode = dns.RcodeNameError
		}
		w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	defer srv.Shutdown()

	// ip netns exec mounts /etc/netns/NAME/resolv.conf over the host's.
	etc := filepath.Join("/etc/netns", l.Host.Name)
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(etc) })
	if err := os.WriteFile(filepath.Join(etc, "resolv.conf"), fmt.Appendf(nil, "nameserver %s\noptions timeout:1 attempts:1\n", l.Router4), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "pingcraft.yaml")
	if err := os.WriteFile(cfg, []byte("groups:\n  - name: lab\n    interval: 100ms\n    refresh: ttl\n    targets: [mesh.pingcraft.test]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := l.Host.Command(t.Context(), bin, "serve", "--config.file", cfg)
	wait := started(t, cmd, "serving")
	defer func() {
		cmd.Process.Signal(syscall.SIGINT)
		stderr, err := wait()
		if err != nil {
			t.Errorf("serve after SIGINT: %v\n%s", err, stderr)
		}
		if !strings.Contains(stderr, `msg="name resolves to other addresses"`) {
			t.Errorf("the move is not logged:\n%s", stderr)
		}
	}()
	probing := func(ip netip.Addr) bool {
		_, body := httpIn(t, l.Host, "GET", "/metrics")
		n, _ := metric(body, "pingcraft_response_duration_seconds_count", map[string]string{"host": "mesh.pingcraft.test", "ip": ip.String()})
		return n > 0
	}
	if !poll(10*time.Second, func() bool { return probing(first) }) {
		t.Fatalf("%s (%s) not probed", name, first)
	}
	// Three TTLs unmoved: asked about once a TTL, not once a probe.
	before := asked.Load()
	time.Sleep(6 * time.Second)
	during := asked.Load() - before
	t.Logf("%d A queries in 6s with a TTL of 2s", during)
	if during < 2 || during > 6 {
		t.Errorf("%d A queries in 6s with a TTL of 2s, want about 3", during)
	}
	addr.Store(&moved)
	if !poll(10*time.Second, func() bool { return probing(moved) }) {
		t.Errorf("%s moved to %s, not probed there 10s later", name, moved)
	}
}
