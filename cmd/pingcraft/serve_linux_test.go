package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pingcraft/pingcraft/lab"
	"github.com/pingcraft/pingcraft/lab/labtest"
)

// serveAddr is serve's default address (serve.DefaultListen) seen from
// inside the host namespace.
const serveAddr = "127.0.0.1:10374"

// httpIn makes one HTTP request to serveAddr from inside n's namespace,
// with these header lines.
func httpIn(t *testing.T, n *lab.Node, method, path string, header ...string) (int, string) {
	t.Helper()
	conn, err := n.Dial("tcp", serveAddr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "%s %s HTTP/1.0\r\nHost: pingcraft\r\n", method, path)
	for _, h := range header {
		fmt.Fprintf(conn, "%s\r\n", h)
	}
	fmt.Fprintf(conn, "\r\n")
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
	// And one that cannot be probed: an IPv6 target from an IPv4 source.
	const odd = "fd00:198:18:1::99"
	write(fmt.Sprintf("groups:\n  - name: lab\n    interval: 100ms\n    targets: [%s, %s, %s, %s]\n  - name: odd\n    source: %s\n    targets: [%q]\n",
		reach, unreach, six, silent, l.Host4, odd))

	// The exporters' flag names, and the default address.
	cmd := l.Host.Command(t.Context(), bin, "serve", "--config.file", cfg)
	wait := started(t, cmd, "serving")
	defer func() {
		cmd.Process.Signal(syscall.SIGINT)
		stderr, err := wait()
		if err != nil {
			t.Errorf("serve after SIGINT: %v\n%s", err, stderr)
		}
		for _, line := range strings.Split(strings.TrimSuffix(stderr, "\n"), "\n") {
			if !logLine.MatchString(line) {
				t.Errorf("log line %q: want time=... level=... first, as exporters log", line)
			}
		}
		if !strings.Contains(stderr, "level=ERROR") || !strings.Contains(stderr, "reload refused") {
			t.Errorf("the refused reload is not logged as an error:\n%s", stderr)
		}
	}()

	if code, body := httpIn(t, l.Host, "GET", "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, body := httpIn(t, l.Host, "GET", "/"); code != 200 || !strings.Contains(body, "<title>pingcraft</title>") || !strings.Contains(body, `href="/metrics"`) {
		t.Errorf("landing page: %d\n%s", code, body)
	}
	// From the start: every target's series, at zero or more, and what
	// the process is and how its configuration loaded.
	_, start := httpIn(t, l.Host, "GET", "/metrics")
	for _, tg := range []string{reach, unreach, six, silent} {
		for _, name := range []string{"pingcraft_requests_total", "pingcraft_response_duration_seconds_count", "pingcraft_response_duplicates_total",
			"pingcraft_send_errors_total", "pingcraft_response_corrupted_total"} {
			if _, ok := metric(start, name, map[string]string{"host": tg, "group": "lab"}); !ok {
				t.Errorf("%s: no %s at the start", tg, name)
			}
		}
	}
	for _, tg := range []string{reach, unreach, six, silent} {
		if n, _ := metric(start, "pingcraft_target_probed", map[string]string{"host": tg, "group": "lab"}); n != 1 {
			t.Errorf("%s: pingcraft_target_probed %v, want 1", tg, n)
		}
	}
	if n, ok := metric(start, "pingcraft_target_probed", map[string]string{"host": odd, "group": "odd"}); !ok || n != 0 {
		t.Errorf("%s: pingcraft_target_probed %v (present %v), want 0", odd, n, ok)
	}
	if _, ok := metric(start, "pingcraft_requests_total", map[string]string{"host": odd}); ok {
		t.Errorf("%s: requests for a target that is not probed", odd)
	}
	if _, ok := metric(start, "pingcraft_build_info", map[string]string{"goos": "linux"}); !ok {
		t.Error("no pingcraft_build_info")
	}
	loaded, _ := metric(start, "pingcraft_config_last_reload_success_timestamp_seconds", nil)
	if ok, _ := metric(start, "pingcraft_config_last_reload_successful", nil); ok != 1 || loaded < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("after the start: last reload successful %v at %v, want 1 within the minute", ok, loaded)
	}
	// No scrape may show a target with more responses than requests.
	consistent := func(body string) {
		t.Helper()
		for _, tg := range []string{reach, unreach, six, silent} {
			req, _ := metric(body, "pingcraft_requests_total", map[string]string{"host": tg})
			resp, _ := metric(body, "pingcraft_response_duration_seconds_count", map[string]string{"host": tg})
			if resp > req {
				t.Errorf("%s: %v responses, %v requests in one scrape", tg, resp, req)
			}
		}
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
		consistent(first)
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
		consistent(second)
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
	ok, _ := metric(after, "pingcraft_config_last_reload_successful", nil)
	if at, _ := metric(after, "pingcraft_config_last_reload_success_timestamp_seconds", nil); ok != 0 || at != loaded {
		t.Errorf("after a refused reload: successful %v, loaded at %v; want 0 and %v, the running configuration's", ok, at, loaded)
	}

	// A good one: the unreachable and IPv6 targets go, a new one comes,
	// and the kept one slows to an hour so its counts settle.
	added := l.Many4.Addr().Next().String()
	write(fmt.Sprintf("groups:\n  - name: lab\n    interval: 1h\n    timeout: 1s\n    targets: [%s]\n  - name: more\n    interval: 100ms\n    targets: [%s]\n", reach, added))
	if code, body := httpIn(t, l.Host, "POST", "/-/reload"); code != 200 {
		t.Fatalf("good reload: %d %q", code, body)
	}
	_, after = httpIn(t, l.Host, "GET", "/metrics")
	ok, _ = metric(after, "pingcraft_config_last_reload_successful", nil)
	if at, _ := metric(after, "pingcraft_config_last_reload_success_timestamp_seconds", nil); ok != 1 || at <= loaded {
		t.Errorf("after a good reload: successful %v, loaded at %v; want 1 and later than %v", ok, at, loaded)
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
	for _, gone := range []string{unreach, six, odd} {
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

// logLine is how exporters log (promslog's logfmt): time and level first.
var logLine = regexp.MustCompile(`^time=\d{4}-\d\d-\d\dT\S+ level=(DEBUG|INFO|WARN|ERROR) `)

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
	// Today's flag names, kept as aliases.
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

// TestServeDuplicates: nftables in the router copies every echo reply to
// the host, so each request is answered twice. The copies are duplicates,
// not responses: the histogram counts one response per request at most, so
// loss computed from it is never negative.
func TestServeDuplicates(t *testing.T) {
	labtest.RequireTool(t, "nft", "nftables")
	bin := pingcraftBinary(t)
	l := labtest.New(t)
	// dup exists in the ip family, not inet.
	nft(t, l.Router, fmt.Sprintf(`
table ip dups {
	counter copies {}
	chain replies {
		type filter hook forward priority 0; policy accept;
		icmp type echo-reply counter name copies dup to %s device %s
	}
}`, l.Host4, l.RouterHostLink))
	cfg := filepath.Join(t.TempDir(), "pingcraft.yaml")
	tg := l.Target4.String()
	// A timeout well past the interval: a reply slowed by a busy machine
	// is still a response.
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("groups:\n  - name: lab\n    interval: 50ms\n    timeout: 2s\n    targets: [%s]\n", tg)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := l.Host.Command(t.Context(), bin, "serve", "--config.file", cfg)
	wait := started(t, cmd, "serving")
	defer func() {
		cmd.Process.Signal(syscall.SIGINT)
		if stderr, err := wait(); err != nil {
			t.Errorf("serve after SIGINT: %v\n%s", err, stderr)
		}
	}()
	// Every scrape: never more responses than requests. Once 20 copies
	// came: a response and a copy for each request, but for the one or
	// two in flight at the scrape.
	var req, resp, dups float64
	if !poll(10*time.Second, func() bool {
		_, body := httpIn(t, l.Host, "GET", "/metrics")
		req, _ = metric(body, "pingcraft_requests_total", map[string]string{"host": tg})
		resp, _ = metric(body, "pingcraft_response_duration_seconds_count", map[string]string{"host": tg})
		dups, _ = metric(body, "pingcraft_response_duplicates_total", map[string]string{"host": tg})
		if resp > req {
			t.Fatalf("%v responses to %v requests: duplicates counted as responses", resp, req)
		}
		return dups >= 20 && resp >= req-2 && dups >= req-3
	}) {
		t.Errorf("%v requests, %v responses, %v duplicates: want a response and a duplicate for each request", req, resp, dups)
	}
	if copies := nftCounter(t, l.Router, "ip", "dups", "copies"); copies == 0 {
		t.Error("nft copied no reply: the test proves nothing")
	}
}

// webConfig asks for basic auth: user pingcraft, password pingcraft-test
// (a bcrypt hash of cost 4, the least, so that the test is quick).
const webConfig = `basic_auth_users:
  pingcraft: $2a$04$HLHH8C9fQbMlY.Nx1ko3UujQMXrCnc6BNLoQWo.N7u3gfMKDlKVzC
`

// TestServeWebConfig: --web.config.file puts every path behind basic auth,
// as exporter-toolkit does for every exporter; a web configuration that
// does not parse is refused at start in one line that names it.
func TestServeWebConfig(t *testing.T) {
	bin := pingcraftBinary(t)
	l := labtest.New(t)
	dir := t.TempDir()
	cfg, web := filepath.Join(dir, "pingcraft.yaml"), filepath.Join(dir, "web.yml")
	conf := fmt.Sprintf("groups:\n  - name: lab\n    interval: 100ms\n    targets: [%s]\n", l.Target4)
	for name, text := range map[string]string{cfg: conf, web: "basic_auth_users: [\n"} {
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, stderr, code := inHost(t, l, "", bin, "serve", "--config.file", cfg, "--web.config.file", web)
	if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, web) {
		t.Errorf("bad web configuration: exit %d, stderr %q: want exit 2 and one line naming %s", code, stderr, web)
	}

	if err := os.WriteFile(web, []byte(webConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := l.Host.Command(t.Context(), bin, "serve", "--config.file", cfg, "--web.config.file", web)
	wait := started(t, cmd, "serving")
	defer func() {
		cmd.Process.Signal(syscall.SIGINT)
		if stderr, err := wait(); err != nil {
			t.Errorf("serve after SIGINT: %v\n%s", err, stderr)
		}
	}()
	for _, path := range []string{"/metrics", "/", "/healthz"} {
		if code, _ := httpIn(t, l.Host, "GET", path); code != 401 {
			t.Errorf("GET %s without a password: %d, want 401", path, code)
		}
		if code, _ := httpIn(t, l.Host, "GET", path, "Authorization: Basic cGluZ2NyYWZ0Ondyb25n"); code != 401 {
			t.Errorf("GET %s with a wrong password: %d, want 401", path, code)
		}
	}
	code, body := httpIn(t, l.Host, "GET", "/metrics", "Authorization: Basic cGluZ2NyYWZ0OnBpbmdjcmFmdC10ZXN0")
	if _, ok := metric(body, "pingcraft_requests_total", map[string]string{"host": l.Target4.String()}); code != 200 || !ok {
		t.Errorf("GET /metrics with the password: %d, want 200 and the target's series", code)
	}
}

// TestServeProbe: GET /probe sends one burst as its module says and
// answers with what came back, blackbox-style; the scrape timeout
// Prometheus announces cuts a long burst short; bad parameters get a 400
// naming the fix. A file of modules alone needs no groups.
func TestServeProbe(t *testing.T) {
	bin := pingcraftBinary(t)
	l := labtest.New(t)
	cfg := filepath.Join(t.TempDir(), "pingcraft.yaml")
	conf := "modules:\n  quick:\n    count: 4\n    interval: 20ms\n    timeout: 500ms\n  long:\n    count: 100\n    interval: 100ms\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := l.Host.Command(t.Context(), bin, "serve", "--config.file", cfg)
	wait := started(t, cmd, "serving")
	defer func() {
		cmd.Process.Signal(syscall.SIGINT)
		if stderr, err := wait(); err != nil {
			t.Errorf("serve after SIGINT: %v\n%s", err, stderr)
		}
	}()
	reach, six, unreach := l.Target4.String(), l.Target6.String(), l.Unreachable4.Addr().Next().String()
	for _, tc := range []struct {
		name, query string
		want        map[string]float64
	}{
		{"answered", "target=" + reach + "&module=quick", map[string]float64{"probe_success": 1, "probe_ip_protocol": 4,
			"pingcraft_probe_requests": 4, "pingcraft_probe_responses": 4, "pingcraft_probe_loss_ratio": 0, "pingcraft_probe_reply_ttl": 63}},
		{"default module, IPv6", "target=" + six, map[string]float64{"probe_success": 1, "probe_ip_protocol": 6,
			"pingcraft_probe_requests": 3, "pingcraft_probe_responses": 3}},
		{"unreachable", "target=" + unreach + "&module=quick", map[string]float64{"probe_success": 0,
			"pingcraft_probe_requests": 4, "pingcraft_probe_responses": 0, "pingcraft_probe_loss_ratio": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := httpIn(t, l.Host, "GET", "/probe?"+tc.query)
			if code != 200 {
				t.Fatalf("%d\n%s", code, body)
			}
			for name, want := range tc.want {
				if got, ok := metric(body, name, nil); !ok || got != want {
					t.Errorf("%s = %v (present %v), want %v", name, got, ok, want)
				}
			}
			rtt, ok := metric(body, "pingcraft_probe_rtt_seconds", map[string]string{"stat": "min"})
			if answered := tc.want["probe_success"] == 1; ok != answered || (answered && (rtt <= 0 || rtt > 0.5)) {
				t.Errorf("min round trip %v (present %v), want one between 0 and the timeout for an answered burst only", rtt, ok)
			}
			if d, _ := metric(body, "probe_duration_seconds", nil); d <= 0 || d > 2 {
				t.Errorf("probe_duration_seconds %v", d)
			}
		})
	}

	// 100 probes 100ms apart would take 10s; a 1.5s scrape timeout ends
	// the burst about a second in.
	begin := time.Now()
	code, body := httpIn(t, l.Host, "GET", "/probe?target="+reach+"&module=long", "X-Prometheus-Scrape-Timeout-Seconds: 1.5")
	n, _ := metric(body, "pingcraft_probe_requests", nil)
	if took := time.Since(begin); code != 200 || took > 1500*time.Millisecond || n < 5 || n > 12 {
		t.Errorf("under a 1.5s scrape timeout: %d after %v, %v requests; want 200 within 1.5s and about 10 requests", code, took, n)
	}

	for _, tc := range []struct{ query, want string }{
		{"", "give one address or host name as the target parameter"},
		{"target=" + reach + "&module=slow", `unknown module "slow": use icmp, long, quick`},
	} {
		code, body := httpIn(t, l.Host, "GET", "/probe?"+tc.query)
		if code != 400 || !strings.Contains(body, tc.want) || strings.Count(body, "\n") != 1 {
			t.Errorf("/probe?%s: %d %q, want 400 and one line containing %q", tc.query, code, body, tc.want)
		}
	}
}

// TestServeBadFlags: a log flag serve cannot use is refused in one line
// naming the choices, before anything is opened.
func TestServeBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--log.level", "loud"}, `--log.level "loud": use debug, info, warn or error`},
		{[]string{"--log.format", "xml"}, `--log.format "xml": use logfmt or json`},
		{[]string{"198.18.1.2", "extra"}, `serve takes no arguments, got "198.18.1.2 extra": targets go in the --config.file`},
	} {
		var stdout, stderr strings.Builder
		args := append([]string{"pingcraft", "serve", "--config.file", "/nonexistent/pingcraft.yaml"}, tc.args...)
		code := run(t.Context(), args, &stdout, &stderr)
		if code != 2 || strings.Count(stderr.String(), "\n") != 1 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q: want 2 and one line containing %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}

// taskStatus reads the fields of /proc/PID/task/*/status named in want
// ("CapEff:" ...) and reports every thread whose value differs.
func taskStatus(t *testing.T, pid int, want map[string]string) {
	t.Helper()
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("no tasks of pid %d: %v", pid, err)
	}
	for _, task := range tasks {
		b, err := os.ReadFile(task)
		if err != nil {
			continue // the thread ended
		}
		seen := 0
		for _, line := range strings.Split(string(b), "\n") {
			field, value, _ := strings.Cut(line, "\t")
			if v, ok := want[field]; ok {
				seen++
				if strings.TrimSpace(value) != v {
					t.Errorf("%s: %s %s, want %s", task, field, strings.TrimSpace(value), v)
				}
			}
		}
		if seen != len(want) {
			t.Errorf("%s: %d of the fields %v", task, seen, want)
		}
	}
}

// TestServeCapabilities: serve started by root keeps CAP_NET_RAW alone in
// every thread (effective, permitted and bounding; nothing inheritable or
// ambient) with no_new_privs, as the README promises; a reload that opens
// new sockets, raw and ethernet (ARP included), still works with it.
func TestServeCapabilities(t *testing.T) {
	bin := pingcraftBinary(t)
	l := labtest.NewPrefixed(t, "rb-")
	cfg := filepath.Join(t.TempDir(), "pingcraft.yaml")
	write := func(conf string) {
		if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(fmt.Sprintf("groups:\n  - name: raw\n    interval: 100ms\n    mode: raw\n    targets: [%s]\n", l.Target4))
	cmd := l.Host.Command(t.Context(), bin, "serve", "--config.file", cfg, "--web.listen-address", serveAddr)
	wait := started(t, cmd, "serving")
	defer func() {
		cmd.Process.Signal(syscall.SIGINT)
		if stderr, err := wait(); err != nil {
			t.Errorf("serve after SIGINT: %v\n%s", err, stderr)
		}
	}()
	// `ip netns exec` execs the command: the PID is pingcraft's.
	netRaw := "0000000000002000" // 1 << CAP_NET_RAW (13)
	taskStatus(t, cmd.Process.Pid, map[string]string{"CapEff:": netRaw, "CapPrm:": netRaw, "CapBnd:": netRaw,
		"CapInh:": "0000000000000000", "CapAmb:": "0000000000000000", "NoNewPrivs:": "1"})

	write(fmt.Sprintf("groups:\n  - name: raw\n    interval: 100ms\n    mode: raw\n    targets: [%s]\n"+
		"  - name: ethernet\n    interval: 100ms\n    mode: ethernet\n    targets: [%s, %s]\n", l.Target4, l.Router4, l.Router6))
	if code, body := httpIn(t, l.Host, "POST", "/-/reload"); code != 200 {
		t.Fatalf("reload with CAP_NET_RAW alone: %d %s", code, body)
	}
	answered := func(body, tg string) bool {
		n, _ := metric(body, "pingcraft_response_duration_seconds_count", map[string]string{"host": tg})
		return n >= 3
	}
	var body string
	if !poll(5*time.Second, func() bool {
		_, body = httpIn(t, l.Host, "GET", "/metrics")
		return answered(body, l.Target4.String()) && answered(body, l.Router4.String()) && answered(body, l.Router6.String())
	}) {
		t.Errorf("after the reload: want 3 replies or more from each target:\n%s", grep(body, "pingcraft_response_duration_seconds_count"))
	}
}
