package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pingcraft/pingcraft/lab"
	"github.com/pingcraft/pingcraft/lab/labtest"
)

const serveAddr = "127.0.0.1:9374"

// httpIn makes one HTTP request to serveAddr from inside n's namespace.
func httpIn(t *testing.T, n *lab.Node, method, path string) (int, string) {
	t.Helper()
	conn, err := n.Dial("tcp", serveAddr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "%s %s HTTP/1.0\r\nHost: pingcraft\r\n\r\n", method, path)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// metric returns the value of the series named with these label values, and
// whether it is there.
func metric(body, name string, lv map[string]string) (float64, bool) {
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for k, v := range lv {
			if !strings.Contains(line, k+`="`+v+`"`) {
				ok = false
			}
		}
		if ok {
			f, err := strconv.ParseFloat(line[strings.LastIndex(line, " ")+1:], 64)
			return f, err == nil
		}
	}
	return 0, false
}

// TestServe: four targets, one unreachable and one on-link address that
// answers no ARP (probed all the same, each probe a host unreachable); two
// scrapes; a bad reload
// that changes nothing; a good one that adds and removes targets; and the
// histogram's count against the replies nftables counted arriving.
func TestServe(t *testing.T) {
	labtest.RequireTool(t, "nft", "nftables")
	bin := pingcraftBinary(t)
	l := labtest.New(t)
	nft(t, l.Host, `
table inet seen {
	counter replies {}
	chain in {
		type filter hook input priority 0; policy accept;
		ip saddr 198.18.1.2 icmp type echo-reply counter name replies
	}
}`)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "pingcraft.yaml")
	write := func(s string) {
		if err := os.WriteFile(cfg, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	reach, unreach, six, silent := l.Target4.String(), l.Unreachable4.Addr().Next().String(), l.Target6.String(), "198.18.0.99"
	write(fmt.Sprintf("groups:\n  - name: lab\n    interval: 100ms\n    targets: [%s, %s, %s, %s]\n", reach, unreach, six, silent))

	cmd := l.Host.Command(t.Context(), bin, "serve", "--config", cfg, "--listen", serveAddr)
	wait := started(t, cmd, "serving")
	defer func() {
		cmd.Process.Signal(syscall.SIGINT)
		if stderr, err := wait(); err != nil {
			t.Errorf("serve after SIGINT: %v\n%s", err, stderr)
		}
	}()

	if code, body := httpIn(t, l.Host, "GET", "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	// Two scrapes, each once every target has sent more than before.
	requests := func(body string) []float64 {
		var n []float64
		for _, tg := range []string{reach, unreach, six, silent} {
			v, _ := metric(body, "pingcraft_requests_total", map[string]string{"host": tg})
			n = append(n, v)
		}
		return n
	}
	var first, second string
	above := func(body string, than []float64) bool {
		for i, v := range requests(body) {
			if v <= than[i] {
				return false
			}
		}
		return true
	}
	if !poll(5*time.Second, func() bool {
		_, first = httpIn(t, l.Host, "GET", "/metrics")
		return above(first, []float64{0, 0, 0, 0})
	}) {
		t.Errorf("requests %v: want every target probed", requests(first))
	}
	// The second once every target sent more, and the unreachable one's
	// ICMP errors, which follow its requests, were counted.
	unreachable := func(body string) float64 {
		n, _ := metric(body, "pingcraft_icmp_errors_total", map[string]string{"host": unreach, "type": "unreachable"})
		m, _ := metric(body, "pingcraft_icmp_errors_total", map[string]string{"host": silent, "type": "unreachable"})
		return min(n, m)
	}
	// The kernel gives up on ARP after three seconds.
	if !poll(8*time.Second, func() bool {
		_, second = httpIn(t, l.Host, "GET", "/metrics")
		return above(second, requests(first)) && unreachable(second) > 0
	}) {
		t.Errorf("requests %v then %v, %v unreachable errors: want counting up, and errors for %s and %s", requests(first), requests(second), unreachable(second), unreach, silent)
	}
	if n, ok := metric(second, "pingcraft_response_duration_seconds_count", map[string]string{"host": unreach}); !ok || n != 0 {
		t.Errorf("%s: %v responses (present %v), want a zero count", unreach, n, ok)
	}
	if _, ok := metric(second, "pingcraft_response_ttl", map[string]string{"host": unreach}); ok {
		t.Errorf("%s: a TTL without a reply", unreach)
	}
	if ttl, _ := metric(second, "pingcraft_response_ttl", map[string]string{"host": reach}); ttl != 63 {
		t.Errorf("%s: ttl %v, want 63", reach, ttl)
	}
	if _, ok := metric(second, "go_goroutines", nil); !ok {
		t.Error("no Go metrics")
	}

	// A bad file: refused with its line, everything as it was.
	write("groups:\n  - name: lab\n    interval: soon\n    targets: [198.18.1.2]\n")
	code, body := httpIn(t, l.Host, "POST", "/-/reload")
	if code != 400 || !strings.Contains(body, "pingcraft.yaml:2") || !strings.Contains(body, `interval "soon"`) {
		t.Errorf("bad reload: %d %q", code, body)
	}
	_, after := httpIn(t, l.Host, "GET", "/metrics")
	if _, ok := metric(after, "pingcraft_requests_total", map[string]string{"host": unreach}); !ok {
		t.Error("a refused reload removed a target")
	}

	// A good one: the unreachable and IPv6 targets go, a new one comes,
	// and the kept one slows to an hour so its counts settle.
	added := l.Many4.Addr().Next().String()
	write(fmt.Sprintf("groups:\n  - name: lab\n    interval: 1h\n    timeout: 1s\n    targets: [%s]\n  - name: more\n    interval: 100ms\n    targets: [%s]\n", reach, added))
	if code, body := httpIn(t, l.Host, "POST", "/-/reload"); code != 200 {
		t.Fatalf("good reload: %d %q", code, body)
	}
	// Settled: the added target probed, the kept one's one probe of the
	// hour answered and counted.
	var now string
	poll(5*time.Second, func() bool {
		_, now = httpIn(t, l.Host, "GET", "/metrics")
		added, _ := metric(now, "pingcraft_requests_total", map[string]string{"host": l.Many4.Addr().Next().String()})
		count, _ := metric(now, "pingcraft_response_duration_seconds_count", map[string]string{"host": reach})
		return added > 0 && count == float64(nftCounter(t, l.Host, "inet", "seen", "replies"))
	})
	for _, gone := range []string{unreach, six} {
		if strings.Contains(now, `host="`+gone+`"`) {
			t.Errorf("%s still in /metrics after it was removed", gone)
		}
	}
	if n, _ := metric(now, "pingcraft_requests_total", map[string]string{"host": added, "group": "more"}); n == 0 {
		t.Errorf("%s: added, but no requests", added)
	}
	// Every reply the host received from the kept target is in its
	// histogram, none more (its counters survived the reload).
	count, _ := metric(now, "pingcraft_response_duration_seconds_count", map[string]string{"host": reach})
	if got := nftCounter(t, l.Host, "inet", "seen", "replies"); count != float64(got) {
		t.Errorf("%s: histogram counts %v replies, nftables saw %d arrive", reach, count, got)
	}

	// SIGHUP reloads as well.
	hup := l.Many4.Addr().Next().Next().String()
	write(fmt.Sprintf("groups:\n  - name: more\n    interval: 100ms\n    targets: [%s, %s]\n", added, hup))
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if !poll(3*time.Second, func() bool {
		_, body := httpIn(t, l.Host, "GET", "/metrics")
		n, _ := metric(body, "pingcraft_requests_total", map[string]string{"host": hup})
		return n > 0
	}) {
		t.Errorf("%s: not probed after SIGHUP", hup)
	}
}

// poll reports whether cond became true before timeout, asking every 20ms.
func poll(timeout time.Duration, cond func() bool) bool {
	for end := time.Now().Add(timeout); ; time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
	}
}

// TestServeUnprivileged: serve run by nobody, with ping_group_range open,
// falls back to the ping socket as send does and probes its targets, both
// families; with the range closed it refuses to start, in one line naming
// the fixes.
func TestServeUnprivileged(t *testing.T) {
	bin := pingcraftBinary(t)
	l := labtest.New(t)
	dir := t.TempDir() // and its parent: nobody must read the file
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "pingcraft.yaml")
	targets := []string{l.Target4.String(), l.Target6.String()}
	conf := fmt.Sprintf("groups:\n  - name: lab\n    interval: 100ms\n    targets: [%s, %s]\n", targets[0], targets[1])
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	nobody := []string{"--reuid=65534", "--regid=65534", "--clear-groups", bin, "serve", "--config", cfg, "--listen", serveAddr}

	setPingGroups(t, l.Host, "1 0")
	_, stderr, code := inHost(t, l, "", "setpriv", nobody...)
	if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "ping_group_range") {
		t.Errorf("closed range: exit %d, stderr %q: want exit 2 and one line naming ping_group_range", code, stderr)
	}

	setPingGroups(t, l.Host, "0 2147483647")
	cmd := l.Host.Command(t.Context(), "setpriv", nobody...)
	wait := started(t, cmd, "serving")
	defer func() {
		cmd.Process.Signal(syscall.SIGINT)
		if stderr, err := wait(); err != nil {
			t.Errorf("serve after SIGINT: %v\n%s", err, stderr)
		}
	}()
	answered := func(body, tg string) bool {
		n, _ := metric(body, "pingcraft_response_duration_seconds_count", map[string]string{"host": tg})
		return n >= 3
	}
	var body string
	if !poll(5*time.Second, func() bool {
		_, body = httpIn(t, l.Host, "GET", "/metrics")
		return answered(body, targets[0]) && answered(body, targets[1])
	}) {
		t.Errorf("unprivileged serve: want 3 replies or more from each target:\n%s", grep(body, "pingcraft_"))
	}
}

// grep keeps the lines of s that start with prefix.
func grep(s, prefix string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, prefix) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
