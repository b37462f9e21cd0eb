//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/pingcraft/pingcraft/lab"
)

// benchServe runs pingcraft serve over 10,000 targets at a one-second
// interval for d, sampling its CPU time and RSS every d/10, then reads its
// counters: steady CPU and memory is the claim under test.
func benchServe(ctx context.Context, l *lab.Lab, dir, bin string, d time.Duration) error {
	var b strings.Builder
	b.WriteString("groups:\n  - name: many\n    interval: 1s\n    targets:\n")
	a := l.Many4.Addr()
	for range 10000 {
		a = a.Next()
		fmt.Fprintf(&b, "      - %s\n", a)
	}
	cfg := filepath.Join(dir, "serve.yaml")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o644); err != nil {
		return err
	}
	const addr = "127.0.0.1:9374"
	cmd := l.Host.Command(ctx, bin, "serve", "--config", cfg, "--listen", addr)
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGINT)
		cmd.Wait()
	}()
	fmt.Printf("\nserve: 10,000 targets at a 1 s interval for %v\n", d)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "after\tCPU % since the last row\tRSS MiB\trequests\tresponses\tring drops\t")
	start := time.Now()
	lastCPU, last := time.Duration(0), start
	for i := 1; i <= 10; i++ {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Until(start.Add(time.Duration(i) * d / 10))):
		}
		cpu, rss, err := procUsage(cmd.Process.Pid)
		if err != nil {
			return err
		}
		body, err := scrape(l, addr)
		if err != nil {
			return err
		}
		now := time.Now()
		fmt.Fprintf(tw, "%v\t%.1f\t%.1f\t%.0f\t%.0f\t%.0f\t\n", now.Sub(start).Round(time.Second),
			100*float64(cpu-lastCPU)/float64(now.Sub(last)), float64(rss)/(1<<20),
			sum(body, "pingcraft_requests_total"), sum(body, "pingcraft_response_duration_seconds_count"),
			sum(body, "pingcraft_ring_drops_total"))
		lastCPU, last = cpu, now
	}
	return tw.Flush()
}

// procUsage is a process's CPU time so far and its resident set.
func procUsage(pid int) (time.Duration, int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(string(b)[strings.LastIndexByte(string(b), ')')+2:])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	rss, _ := strconv.ParseInt(f[21], 10, 64)
	const hz = 100 // USER_HZ
	return time.Duration(utime+stime) * time.Second / hz, rss * int64(os.Getpagesize()), nil
}

// scrape gets /metrics from inside the lab host.
func scrape(l *lab.Lab, addr string) (string, error) {
	conn, err := l.Host.Dial("tcp", addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET /metrics HTTP/1.0\r\nHost: pingcraft\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// sum adds up every series of a metric.
func sum(body, name string) float64 {
	t := 0.0
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
			v, _ := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			t += v
		}
	}
	return t
}
