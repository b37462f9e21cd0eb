package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pingcraft/pingcraft/lab/labtest"
)

// promAddr is where the test's Prometheus listens, inside the host namespace.
const promAddr = "127.0.0.1:19090"

// TestServeWithPrometheus: Debian's Prometheus scrapes serve and drives
// /probe from a file_sd file, as the sample configuration does. The targets
// are up, the loss it computes is the share of echo requests nftables drops
// on the target, every query of the dashboard returns data for what serve
// exports, the alerting rules evaluate without error and the one for a
// target that cannot be probed is pending, and the on-link host that does
// not answer is reported as unreachable.
func TestServeWithPrometheus(t *testing.T) {
	prometheus := labtest.RequireTool(t, "prometheus", "prometheus")
	labtest.RequireTool(t, "nft", "nftables")
	bin := pingcraftBinary(t)
	l := labtest.New(t)
	// A fifth of the echo requests never reach the target's stack.
	nft(t, l.Target, `
table inet loss {
	counter dropped {}
	counter passed {}
	chain in {
		type filter hook input priority 0; policy accept;
		ip daddr 198.18.1.2 icmp type echo-request numgen random mod 100 < 20 counter name dropped drop
		ip daddr 198.18.1.2 icmp type echo-request counter name passed
	}
}`)
	dir := t.TempDir()
	reach, six, silent := l.Target4.String(), l.Target6.String(), "198.18.0.99"
	const odd = "fd00:198:18:1::99" // an IPv6 target from an IPv4 source: not probed
	write := func(name, body string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	cfg := write("pingcraft.yaml", fmt.Sprintf(`groups:
  - name: lab
    interval: 100ms
    timeout: 500ms
    targets: [%s, %s]
  - name: odd
    source: %s
    targets: [%q]
modules:
  quick:
    count: 5
    interval: 20ms
    timeout: 500ms
`, reach, silent, l.Host4, odd))
	sd := write("probe-targets.json", fmt.Sprintf(`[{"targets": [%q, %q], "labels": {"site": "lab"}}]`, reach, six))
	alerts, err := os.ReadFile("../../serve/deploy/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	rules := write("alerts.yml", string(alerts))
	promCfg := write("prometheus.yml", fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: pingcraft
    static_configs:
      - targets: [%q]
  - job_name: pingcraft-probe
    metrics_path: /probe
    params:
      module: [quick]
    file_sd_configs:
      - files: [%q]
        refresh_interval: 1s
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: %q
`, rules, serveAddr, sd, serveAddr))

	serve := l.Host.Command(t.Context(), bin, "serve", "--config.file", cfg)
	waitServe := started(t, serve, "serving")
	defer func() {
		serve.Process.Signal(syscall.SIGINT)
		if stderr, err := waitServe(); err != nil {
			t.Errorf("serve after SIGINT: %v\n%s", err, stderr)
		}
	}()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	prom := l.Host.Command(ctx, prometheus, "--config.file="+promCfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+promAddr, "--log.level=warn")
	var promLog strings.Builder
	prom.Stdout, prom.Stderr = &promLog, &promLog
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		prom.Process.Signal(syscall.SIGTERM)
		prom.Wait()
		if t.Failed() {
			t.Logf("prometheus:\n%s", promLog.String())
		}
	}()

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return l.Host.Dial(network, addr, 2*time.Second)
		}}}
	api := func(path string, v any) error {
		resp, err := client.Get("http://" + promAddr + path)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return fmt.Errorf("%s: %d %s", path, resp.StatusCode, b)
		}
		return json.Unmarshal(b, v)
	}
	type sample struct {
		Metric map[string]string `json:"metric"`
		Value  [2]any            `json:"value"`
	}
	query := func(expr string) ([]sample, error) {
		var r struct {
			Status string `json:"status"`
			Data   struct {
				Result []sample `json:"result"`
			} `json:"data"`
		}
		if err := api("/api/v1/query?query="+url.QueryEscape(expr), &r); err != nil {
			return nil, err
		}
		return r.Data.Result, nil
	}
	value := func(s sample) float64 {
		var f float64
		fmt.Sscan(fmt.Sprint(s.Value[1]), &f)
		return f
	}

	// Every target up: serve's own and the two the file names.
	if !poll(30*time.Second, func() bool {
		var r struct {
			Data struct {
				ActiveTargets []struct {
					Health, ScrapeURL string
				} `json:"activeTargets"`
			} `json:"data"`
		}
		if err := api("/api/v1/targets", &r); err != nil || len(r.Data.ActiveTargets) != 3 {
			return false
		}
		for _, a := range r.Data.ActiveTargets {
			if a.Health != "up" {
				return false
			}
		}
		return true
	}) {
		t.Fatal("Prometheus's targets are not all up within 30s")
	}
	for _, tg := range []string{reach, six} {
		res, err := query(fmt.Sprintf(`probe_success{instance=%q,site="lab"}`, tg))
		if err != nil || len(res) != 1 || value(res[0]) != 1 {
			t.Errorf("probe_success of %s through file_sd: %v %v", tg, res, err)
		}
	}

	// Enough samples for the rates: 20 scrapes, and the ARP the silent
	// host never answers given up on.
	time.Sleep(20 * time.Second)

	// Loss, from Prometheus, against nftables' counters read at once.
	res, err := query(fmt.Sprintf(`1 - pingcraft_response_duration_seconds_count{host=%q} / pingcraft_requests_total{host=%q}`, reach, reach))
	if err != nil || len(res) != 1 {
		t.Fatalf("loss query: %v %v", res, err)
	}
	loss := value(res[0])
	dropped, passed := nftCounter(t, l.Target, "inet", "loss", "dropped"), nftCounter(t, l.Target, "inet", "loss", "passed")
	wire := float64(dropped) / float64(dropped+passed)
	t.Logf("loss %.3f from Prometheus, %.3f dropped by nftables (%d of %d)", loss, wire, dropped, dropped+passed)
	// Within sampling: a scrape is up to a second older than the counters
	// (10 probes), and up to 5 probes are in flight.
	if n := float64(dropped + passed); loss < wire-15/n || loss > wire+15/n || wire < 0.1 || wire > 0.3 {
		t.Errorf("loss %.3f, nftables dropped %.3f of the requests", loss, wire)
	}

	// The on-link host that answers no ARP: probed, and reported
	// unreachable.
	if res, err := query(fmt.Sprintf(`pingcraft_icmp_errors_total{host=%q,type="unreachable"} > 0`, silent)); err != nil || len(res) != 1 {
		t.Errorf("no unreachable errors for %s: %v %v", silent, res, err)
	}

	// Every dashboard query, its variables set to everything.
	var dash any
	raw, err := os.ReadFile("../../serve/deploy/dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatal(err)
	}
	_, scrape := httpIn(t, l.Host, "GET", "/metrics")
	vars := strings.NewReplacer(`"$instance"`, `".*"`, `"$group"`, `".*"`, `"$host"`, `".*"`, "$__rate_interval", "10s", "$__range", "20s")
	name := regexp.MustCompile(`pingcraft_[a-z_]+`)
	exprs := dashboardExprs(dash)
	if len(exprs) < 10 {
		t.Fatalf("%d queries in the dashboard", len(exprs))
	}
	withData := 0
	defer func() { t.Logf("%d dashboard queries, %d with data", len(exprs), withData) }()
	for _, e := range exprs {
		q := vars.Replace(e)
		res, err := query(q)
		if err != nil {
			t.Errorf("dashboard query %s: %v", q, err)
			continue
		}
		// A query of a family serve exports (ring drops only with a ring)
		// must return data.
		family := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name.FindString(q), "_bucket"), "_sum"), "_count")
		if len(res) > 0 {
			withData++
		}
		if strings.Contains(scrape, "\n"+family) && len(res) == 0 {
			t.Errorf("dashboard query %s: no data, though serve exports %s", q, family)
		}
	}

	// The rules evaluate, and the target that is not probed is pending.
	var rr struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name, Health, LastError string
					State                   string
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := api("/api/v1/rules", &rr); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range rr.Data.Groups {
		for _, r := range g.Rules {
			n++
			if r.Health != "ok" || r.LastError != "" {
				t.Errorf("rule %s: health %q, error %q", r.Name, r.Health, r.LastError)
			}
			if r.Name == "PingcraftTargetNotProbed" && r.State != "pending" {
				t.Errorf("rule %s is %q, want pending for %s", r.Name, r.State, odd)
			}
		}
	}
	if n < 5 {
		t.Errorf("Prometheus loaded %d rules from alerts.yml", n)
	}
}

// dashboardExprs collects every "expr" of a Grafana dashboard.
func dashboardExprs(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "expr" {
				out = append(out, s)
			} else {
				out = append(out, dashboardExprs(x)...)
			}
		}
	case []any:
		for _, x := range v {
			out = append(out, dashboardExprs(x)...)
		}
	}
	return out
}
