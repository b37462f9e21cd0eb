//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/pingcraft/pingcraft/lab"
)

// oneProbe is -one: how many one-probe runs of each command, set by flood.
var oneProbe int

// The -smokeping comparison's flags, set by flood.
var (
	smokepingTargets int
	smokepingFor     time.Duration
)

// exporterRun is what one exporter cost over the same targets.
type exporterRun struct {
	serving        time.Duration // until a scrape showed every target probed
	cpu            float64       // % of a core over the run, after serving
	rss            int64
	requests, resp float64
}

// benchSmokeping runs smokeping_prober and pingcraft serve one after the
// other over the same n targets at a probe a second each, for d each, in
// the same lab: the same load, ratios in the same run.
func benchSmokeping(ctx context.Context, l *lab.Lab, dir, bin string, d time.Duration, n int) error {
	prober, err := exec.LookPath("prometheus-smokeping-prober")
	if err != nil {
		fmt.Println("\nsmokeping: SKIPPED: prometheus-smokeping-prober is not on PATH (apt-get install prometheus-smokeping-prober)")
		return nil
	}
	var hosts []string
	a4 := l.Many4.Addr()
	for range n {
		if a4 = a4.Next(); a4 == lastOf(l.Many4) {
			return fmt.Errorf("smokeping: %d targets: the lab has %s only", n, l.Many4)
		}
		hosts = append(hosts, a4.String())
	}
	spCfg := filepath.Join(dir, "smokeping.yml")
	spBody := "targets:\n  - interval: 1s\n    network: ip4\n    protocol: icmp\n    hosts:\n"
	for _, h := range hosts {
		spBody += "      - " + h + "\n"
	}
	pcCfg := filepath.Join(dir, "serve-smokeping.yaml")
	pcBody := "groups:\n  - name: many\n    interval: 1s\n    targets:\n"
	for _, h := range hosts {
		pcBody += "      - " + h + "\n"
	}
	for path, body := range map[string]string{spCfg: spBody, pcCfg: pcBody} {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			return err
		}
	}
	const addr = "127.0.0.1:9375"
	fmt.Printf("\nsmokeping: %d targets at a 1 s interval, %v each, smokeping_prober then pingcraft serve\n", n, d)
	sp, err := runExporter(ctx, l, d, n, addr, "smokeping_requests_total", "smokeping_response_duration_seconds_count",
		prober, "--config.file="+spCfg, "--privileged", "--web.listen-address="+addr, "--log.level=warn")
	if err != nil {
		return fmt.Errorf("smokeping_prober: %w", err)
	}
	pc, err := runExporter(ctx, l, d, n, addr, "pingcraft_requests_total", "pingcraft_response_duration_seconds_count",
		bin, "serve", "--config.file="+pcCfg, "--web.listen-address="+addr)
	if err != nil {
		return fmt.Errorf("pingcraft serve: %w", err)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "exporter\tserving after s\tCPU % of a core\tRSS MiB\tKiB a target\trequests\tresponses\t")
	for _, r := range []struct {
		name string
		e    exporterRun
	}{{"smokeping_prober", sp}, {"pingcraft serve", pc}} {
		fmt.Fprintf(tw, "%s\t%.2f\t%.1f\t%.1f\t%.1f\t%.0f\t%.0f\t\n", r.name, r.e.serving.Seconds(), r.e.cpu,
			float64(r.e.rss)/(1<<20), float64(r.e.rss)/1024/float64(n), r.e.requests, r.e.resp)
	}
	fmt.Fprintf(tw, "pingcraft / smokeping_prober\t%.2f×\t%.2f×\t%.2f×\t\t\t\t\n", pc.serving.Seconds()/sp.serving.Seconds(), pc.cpu/sp.cpu, float64(pc.rss)/float64(sp.rss))
	return tw.Flush()
}

// runExporter starts an exporter in the lab host, waits until a scrape
// counts a request for each of n targets, then measures it for d.
func runExporter(ctx context.Context, l *lab.Lab, d time.Duration, n int, addr, requests, responses, name string, args ...string) (exporterRun, error) {
	var r exporterRun
	cmd := l.Host.Command(ctx, name, args...)
	logs := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return r, err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGINT)
		cmd.Wait()
	}()
	for {
		if ctx.Err() != nil {
			return r, ctx.Err()
		}
		if time.Since(start) > 2*time.Minute {
			return r, fmt.Errorf("no scrape with %d targets probed after 2m: %s", n, lastLines(logs.String(), 5))
		}
		if body, err := scrape(l, addr); err == nil && probedSeries(body, requests) >= n {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.serving = time.Since(start)
	cpu0, _, err := procUsage(cmd.Process.Pid)
	if err != nil {
		return r, err
	}
	t0 := time.Now()
	select {
	case <-ctx.Done():
		return r, ctx.Err()
	case <-time.After(d):
	}
	cpu1, rss, err := procUsage(cmd.Process.Pid)
	if err != nil {
		return r, err
	}
	r.cpu, r.rss = 100*float64(cpu1-cpu0)/float64(time.Since(t0)), rss
	body, err := scrape(l, addr)
	if err != nil {
		return r, err
	}
	r.requests, r.resp = sum(body, requests), sum(body, responses)
	return r, nil
}

// probedSeries counts the series of a counter that are above zero.
func probedSeries(body, name string) int {
	n := 0
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, name+"{") && !strings.HasSuffix(line, " 0") {
			n++
		}
	}
	return n
}
