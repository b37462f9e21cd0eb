//go:build linux

// Command flood compares the flood rate and cost of pingcraft send with
// iputils ping's: both run from the host of a throwaway lab against its
// target, and each row reports wall time, user and system CPU time, maximum
// RSS and round trips per second. It needs root (network namespaces); the
// lab is removed on exit, error or Ctrl-C, and every run is bounded.
//
// Then it compares pingcraft watch -w with tcpdump -w capturing a bounded
// flood: frames kept, dropped, and the CPU time each spent; and send over
// 1,000 and 10,000 targets with fping, then 10,000 targets held at a
// probe a second each.
//
// Last, pingcraft serve over 10,000 targets for -serve, its CPU and memory
// sampled ten times.
//
// -count 0 skips the floods, for a run of serve alone.
//
// First, before the floods, one-probe runs: pingcraft send -c 1 in each
// mode and iputils ping -c 1, interleaved, their wall times and their
// ratio to mode raw's.
//
//	go run ./bench/flood [-one 30] [-count 20000] [-capture 200000] [-many] [-sustain 1m] [-serve 5m] [-serve-targets 10000] [-timeout 2m]
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/pingcraft/pingcraft/lab"
)

// row is one benchmarked command line; "pingcraft" is the freshly built binary.
type row struct {
	tool string
	args []string
}

// result is what one run cost and achieved.
type result struct {
	wall, user, sys time.Duration
	own             time.Duration // the "time" of the tool's own summary
	maxRSS          int64         // KiB
	sent, received  int
	err             error
}

var counts = regexp.MustCompile(`(\d+) packets transmitted, (\d+) received`)

// options are the benchmark's flags.
type options struct {
	count        int
	timeout      time.Duration
	extra        bool
	oneProbe     int
	capture      int
	many         bool
	sustain      time.Duration
	serveFor     time.Duration
	serveTargets int
	prefix       string
}

// parseFlags reads args into options, as main and the test that runs the
// benchmark under the lab lock both do.
func parseFlags(name string, args []string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.IntVar(&o.count, "count", 20000, "probes per run")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Minute, "longest a run may take")
	fs.BoolVar(&o.extra, "raw", true, "also run pingcraft --mode raw, to tell the transport's cost from the engine's")
	fs.IntVar(&o.oneProbe, "one", 30, "one-probe runs (send -c 1) of each mode and of iputils ping, interleaved (0: skip)")
	fs.IntVar(&o.capture, "capture", 200000, "probes of the flood that pingcraft watch -w and tcpdump -w capture (0: skip)")
	fs.BoolVar(&o.many, "many", true, "also compare send over 1,000 and 10,000 targets with fping")
	fs.DurationVar(&o.sustain, "sustain", time.Minute, "then hold 10,000 targets at a probe a second each this long (0: skip)")
	fs.DurationVar(&o.serveFor, "serve", 5*time.Minute, "then run pingcraft serve over -serve-targets targets this long (0: skip)")
	fs.IntVar(&o.serveTargets, "serve-targets", 10000, "targets of the serve run: IPv4 up to 16,382, IPv6 beyond")
	fs.StringVar(&o.prefix, "lab-prefix", "", "the lab's namespaces are named pingcraft-PREFIX...")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if o.count < 0 || o.timeout <= 0 || o.capture < 0 || o.oneProbe < 0 || o.serveTargets < 1 {
		return nil, errors.New("-timeout and -serve-targets must be positive, -count, -one and -capture not negative")
	}
	return o, nil
}

func main() {
	o, err := parseFlags("flood", os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "flood:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "flood:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o *options) error {
	count, timeout, extra, capture, many := o.count, o.timeout, o.extra, o.capture, o.many
	sustain, serveFor, serveTargets := o.sustain, o.serveFor, o.serveTargets
	if missing := requirements(); missing != "" {
		if os.Getenv("PINGCRAFT_REQUIRE_ROOT") == "1" {
			return errors.New(missing + "; PINGCRAFT_REQUIRE_ROOT=1 makes this a failure")
		}
		fmt.Println("flood: SKIPPED:", missing)
		return nil
	}

	dir, err := os.MkdirTemp("", "pingcraft-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "pingcraft")
	// Without -race: the binary users run.
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/pingcraft/pingcraft/cmd/pingcraft").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}

	l, err := lab.NewPrefixed(ctx, o.prefix)
	if err != nil {
		return err
	}
	defer l.Close()
	target := l.Target4.String()
	// Fill the neighbour tables first, so no row pays for ARP.
	if out, err := l.Host.Command(ctx, "ping", "-c", "2", "-i", "0.2", target).CombinedOutput(); err != nil {
		return fmt.Errorf("warm-up ping: %v\n%s", err, out)
	}
	timeBin, _ := exec.LookPath("/usr/bin/time")

	c := strconv.Itoa(count)
	rows := []row{
		{"pingcraft", []string{"send", "-f", "-c", c, "-q", target}},
		{"pingcraft", []string{"send", "-f", "-l", "8", "-c", c, "-q", target}},
		{"ping", []string{"-f", "-c", c, "-q", target}},
		{"ping", []string{"-f", "-l", "8", "-c", c, "-q", target}},
	}
	if extra {
		rows = append(rows,
			row{"pingcraft", []string{"send", "--mode", "raw", "-f", "-c", c, "-q", target}},
			row{"pingcraft", []string{"send", "--mode", "raw", "-f", "-l", "8", "-c", c, "-q", target}},
		)
	}
	fmt.Printf("flood: lab %s, %d probes per run to %s, %s %s/%s, %d CPUs\n",
		l.ID, count, target, kernel(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	if timeBin == "" {
		fmt.Println("flood: no GNU time (apt-get install time): max RSS includes this benchmark's own, counted at exec")
	}
	if o.oneProbe > 0 {
		if err := benchOneProbe(ctx, l, bin, o.oneProbe, timeout); err != nil {
			return err
		}
	}

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	// Round trips per second over the flood itself (the "time" each tool
	// reports) and over the whole process, start-up and exit included.
	fmt.Fprintln(tw, "command\twall s\town ms\tuser s\tsys s\tCPU µs/rt\tmax RSS MiB\treceived\tround trips/s\tper wall s\t")
	// The floor: what the wrapper alone costs each row.
	if floor, _ := measure(ctx, l, timeout, timeBin, "true", nil); floor.err == nil {
		fmt.Fprintf(tw, "(floor) ip netns exec true\t%.3f\t\t%.3f\t%.3f\t\t%.1f\t\t\t\t\n",
			floor.wall.Seconds(), floor.user.Seconds(), floor.sys.Seconds(), float64(floor.maxRSS)/1024)
	}
	for _, r := range rows {
		if ctx.Err() != nil || count == 0 {
			break
		}
		name := r.tool
		if r.tool == "pingcraft" {
			name = bin
		}
		res, out := measure(ctx, l, timeout, timeBin, name, r.args)
		if res.err == nil {
			summary(out, &res)
		}
		cmdline := r.tool + " " + strings.Join(r.args[:len(r.args)-1], " ")
		if res.err != nil {
			fmt.Fprintf(tw, "%s\t%s\t\t\t\t\t\t\t\t\t\n", cmdline, res.err)
			continue
		}
		cpu := res.user + res.sys
		fmt.Fprintf(tw, "%s\t%.3f\t%d\t%.3f\t%.3f\t%.1f\t%.1f\t%d/%d\t%.0f\t%.0f\t\n", cmdline,
			res.wall.Seconds(), res.own.Milliseconds(), res.user.Seconds(), res.sys.Seconds(),
			float64(cpu.Nanoseconds())/1e3/float64(max(res.received, 1)),
			float64(res.maxRSS)/1024, res.received, res.sent,
			float64(res.received)/max(res.own, time.Millisecond).Seconds(),
			float64(res.received)/res.wall.Seconds())
	}
	tw.Flush()
	if ctx.Err() == nil && capture > 0 && count > 0 {
		if err := benchWatch(ctx, l, dir, bin, capture, timeout); err != nil {
			return err
		}
	}
	if ctx.Err() == nil && many && count > 0 {
		if _, err := exec.LookPath("fping"); err != nil {
			return fmt.Errorf("fping is not on PATH: apt-get install fping")
		}
		if err := benchMany(ctx, l, bin, timeout, sustain, timeBin); err != nil {
			return err
		}
	}
	if ctx.Err() == nil && serveFor > 0 {
		if err := benchServe(ctx, l, dir, bin, serveFor, serveTargets); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// measure runs one command in the lab host, in a process group of its own
// so that a timeout kills all of it, and returns its cost and output. CPU
// time is the child's rusage, which counts what `ip netns exec` and GNU time
// spend too (see the floor row). Maximum RSS comes from GNU time when it is
// installed: a child that Go starts is vforked, and the kernel then takes
// the benchmark's own RSS as the child's high-water mark at exec.
func measure(ctx context.Context, l *lab.Lab, timeout time.Duration, timeBin, name string, args []string) (result, string) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	argv := l.Host.Command(ctx, name, args...).Args // ip netns exec NS name args...
	var usage string
	if timeBin != "" {
		f, err := os.CreateTemp("", "pingcraft-bench-time-")
		if err != nil {
			return result{err: err}, ""
		}
		f.Close()
		defer os.Remove(f.Name())
		usage = f.Name()
		argv = append([]string{timeBin, "-f", "%M", "-o", usage}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out // fping's summaries are on stderr
	start := time.Now()
	err := cmd.Run()
	res := result{wall: time.Since(start)}
	if ctx.Err() != nil {
		res.err = fmt.Errorf("stopped after %v", timeout)
		return res, out.String()
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		res.err = err
		return res, out.String()
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		res.err = errors.New("no rusage")
		return res, out.String()
	}
	res.user, res.sys, res.maxRSS = time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano()), ru.Maxrss
	if usage != "" {
		res.maxRSS, res.err = readMaxRSS(usage)
	}
	return res, out.String()
}

// summary reads the counts and the time from a ping summary.
func summary(out string, res *result) {
	m := counts.FindStringSubmatch(out)
	if m == nil {
		res.err = errors.New("no summary")
		return
	}
	res.sent, _ = strconv.Atoi(m[1])
	res.received, _ = strconv.Atoi(m[2])
	if m := ownTime.FindStringSubmatch(out); m != nil {
		ms, _ := strconv.Atoi(m[1])
		res.own = time.Duration(ms) * time.Millisecond
	}
}

var ownTime = regexp.MustCompile(`packet loss, time (\d+)ms`)

// readMaxRSS reads GNU time's "%M" (KiB), the last line of its output file:
// a line about a non-zero exit status may come first.
func readMaxRSS(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	rss, err := strconv.ParseInt(lines[len(lines)-1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("GNU time wrote %q: %w", b, err)
	}
	return rss, nil
}

// requirements says what is missing to run, or "".
func requirements() string {
	if os.Geteuid() != 0 {
		return "needs root for the lab's network namespaces: run as root"
	}
	if _, err := exec.LookPath("ping"); err != nil {
		return "iputils ping is not on PATH: apt-get install iputils-ping"
	}
	return ""
}

func kernel() string {
	var u syscall.Utsname
	if syscall.Uname(&u) != nil {
		return "linux"
	}
	var b strings.Builder
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b.WriteByte(byte(c))
	}
	return "linux " + b.String()
}

var (
	manySummary = regexp.MustCompile(`(?m)^\S+ +: xmt/rcv/%loss = (\d+)/(\d+)/`)
	ringDrops   = regexp.MustCompile(`(\d+) frames dropped by the receive ring`)
)

// benchMany probes 1,000 and 10,000 addresses the lab's target answers on,
// with pingcraft fping and with fping, the same flags, and then holds
// 10,000 targets at one probe a second each for sustain.
func benchMany(ctx context.Context, l *lab.Lab, bin string, timeout, sustain time.Duration, timeBin string) error {
	first := l.Many4.Addr().Next()
	nth := func(n int) string {
		a := first
		for range n - 1 {
			a = a.Next()
		}
		return a.String()
	}
	fmt.Printf("\nmany targets: addresses from %s that the lab's target answers on\n", first)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "command\ttargets\twall s\tCPU s\tCPU s per 10,000 probes\tmax RSS MiB\tsent\tloss %\tring drops\t")
	type run struct {
		tool    string
		targets int
		args    []string
	}
	var runs []run
	for _, n := range []int{1000, 10000} {
		args := []string{"-c", "5", "-p", "1000", "-i", "0", "-q", "-g", first.String(), nth(n)}
		runs = append(runs, run{bin, n, append([]string{"fping"}, args...)}, run{"fping", n, args})
	}
	if sustain > 0 {
		probes := strconv.Itoa(int(sustain / time.Second))
		runs = append(runs, run{bin, 10000, []string{"fping", "-c", probes, "-p", "1000", "-i", "0.05", "-q", "-g", first.String(), nth(10000)}})
	}
	for _, r := range runs {
		if ctx.Err() != nil {
			break
		}
		res, out := measure(ctx, l, timeout+sustain, timeBin, r.tool, r.args)
		name := "fping"
		if r.tool == bin {
			name = "pingcraft"
		}
		label := fmt.Sprintf("%s %s", name, joinArgs(r.args))
		if res.err != nil {
			fmt.Fprintf(tw, "%s\t%d\t%v\t\t\t\t\t\t\t\n", label, r.targets, res.err)
			continue
		}
		sent, recv := 0, 0
		for _, m := range manySummary.FindAllStringSubmatch(out, -1) {
			x, _ := strconv.Atoi(m[1])
			y, _ := strconv.Atoi(m[2])
			sent, recv = sent+x, recv+y
		}
		drops := "-"
		if r.tool == bin {
			drops = "0"
			if m := ringDrops.FindStringSubmatch(out); m != nil {
				drops = m[1]
			}
		}
		cpu := (res.user + res.sys).Seconds()
		loss := 100.0
		if sent > 0 {
			loss = 100 * float64(sent-recv) / float64(sent)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f\t%.3f\t%.1f\t%d\t%.3f\t%s\t\n", label, r.targets, res.wall.Seconds(), cpu,
			cpu*10000/float64(max(sent, 1)), float64(res.maxRSS)/1024, sent, loss, drops)
	}
	return tw.Flush()
}

// joinArgs shows a command line with the target range shortened.
func joinArgs(args []string) string {
	s := ""
	for i, a := range args {
		if i > 0 && args[i-1] == "-g" {
			return s + "-g FIRST LAST"
		}
		if a == "-g" {
			continue
		}
		s += a + " "
	}
	return s
}

// captureCounts reads the three lines tcpdump and pingcraft watch print on
// exit.
var captureCounts = regexp.MustCompile(`(\d+) packets captured\n(\d+) packets received by filter\n(\d+) packets dropped by kernel`)

// benchWatch floods the target with iputils ping while a capture tool
// writes every ICMP frame on the host link to a file, once for pingcraft
// watch -w and once for tcpdump -w, and reports what each kept and cost.
func benchWatch(ctx context.Context, l *lab.Lab, dir, bin string, count int, timeout time.Duration) error {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		return fmt.Errorf("tcpdump is not on PATH: apt-get install tcpdump")
	}
	fmt.Printf("\ncapture: ping -f -c %d from the lab host while each tool writes every ICMP frame on %s to a file\n", count, l.HostLink)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "command\tframes on the wire\tcaptured\tdropped\tuser s\tsys s\tCPU µs/frame\t")
	for _, tool := range []struct{ name, args string }{
		{bin, "watch -i " + l.HostLink + " -w OUT icmp"},
		{"tcpdump", "-i " + l.HostLink + " -w OUT icmp"},
	} {
		args := strings.Fields(strings.ReplaceAll(tool.args, "OUT", filepath.Join(dir, "capture.pcap")))
		r, err := captureDuring(ctx, l, timeout, tool.name, args, count)
		label := filepath.Base(tool.name) + " " + strings.Join(args[:len(args)-3], " ") + " -w FILE icmp"
		if err != nil {
			fmt.Fprintf(tw, "%s\t%v\t\t\t\t\t\t\n", label, err)
			continue
		}
		cpu := r.user + r.sys
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.3f\t%.3f\t%.2f\t\n", label, r.wire, r.captured, r.dropped,
			r.user.Seconds(), r.sys.Seconds(), float64(cpu.Nanoseconds())/1e3/float64(max(r.captured, 1)))
	}
	return tw.Flush()
}

type captureResult struct {
	wire, captured, received, dropped int
	user, sys                         time.Duration
}

// captureDuring starts the capture tool, waits for it to listen, floods,
// then stops it with SIGINT as a user would.
func captureDuring(ctx context.Context, l *lab.Lab, timeout time.Duration, name string, args []string, count int) (captureResult, error) {
	var res captureResult
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := l.Host.Command(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Stdout = io.Discard
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return res, err
	}
	if err := cmd.Start(); err != nil {
		return res, err
	}
	var errText strings.Builder
	buf := make([]byte, 4096)
	for !strings.Contains(errText.String(), "listening on") {
		n, err := stderr.Read(buf)
		errText.Write(buf[:n])
		if err != nil {
			cmd.Wait()
			return res, fmt.Errorf("%s did not start: %s", name, strings.TrimSpace(errText.String()))
		}
	}
	rest := make(chan struct{})
	go func() {
		defer close(rest)
		io.Copy(&errText, stderr)
	}()

	out, err := l.Host.Command(ctx, "ping", "-f", "-q", "-c", strconv.Itoa(count), l.Target4.String()).CombinedOutput()
	m := counts.FindStringSubmatch(string(out))
	if err != nil || m == nil {
		cmd.Cancel()
		cmd.Wait()
		return res, fmt.Errorf("ping -f: %v: %s", err, strings.TrimSpace(string(out)))
	}
	sent, _ := strconv.Atoi(m[1])
	replies, _ := strconv.Atoi(m[2])
	res.wire = sent + replies
	time.Sleep(200 * time.Millisecond) // the last frames reach the tool
	syscall.Kill(cmd.Process.Pid, syscall.SIGINT)
	<-rest
	cmd.Wait()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.user, res.sys = time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
	}
	c := captureCounts.FindStringSubmatch(errText.String())
	if c == nil {
		return res, fmt.Errorf("%s printed no counts: %s", name, strings.TrimSpace(errText.String()))
	}
	res.captured, _ = strconv.Atoi(c[1])
	res.received, _ = strconv.Atoi(c[2])
	res.dropped, _ = strconv.Atoi(c[3])
	return res, nil
}

// benchServe runs pingcraft serve over n targets at a one-second interval
// for d: first how long it takes until a scrape shows every target probed,
// then its CPU time and RSS every d/10, with its counters and the time and
// size of that scrape: steady CPU and memory is the claim under test.
func benchServe(ctx context.Context, l *lab.Lab, dir, bin string, d time.Duration, n int) error {
	var b strings.Builder
	b.WriteString("groups:\n  - name: many\n    interval: 1s\n    targets:\n")
	// The lab's target answers on all of Many4 and Many6; IPv4 first, as
	// far as it goes.
	a4, a6 := l.Many4.Addr(), l.Many6.Addr()
	for range n {
		if a4.Next() != lastOf(l.Many4) {
			a4 = a4.Next()
			fmt.Fprintf(&b, "      - %s\n", a4)
			continue
		}
		a6 = a6.Next()
		fmt.Fprintf(&b, "      - %s\n", a6)
	}
	cfg := filepath.Join(dir, "serve.yaml")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o644); err != nil {
		return err
	}
	const addr = "127.0.0.1:9374"
	cmd := l.Host.Command(ctx, bin, "serve", "--config", cfg, "--listen", addr)
	logs := &lockedBuffer{}
	cmd.Stderr = logs
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGINT)
		cmd.Wait()
	}()
	fmt.Printf("\nserve: %d targets at a 1 s interval for %v\n", n, d)
	// Serving: the first scrape with every target probed.
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Since(start) > 2*time.Minute {
			return fmt.Errorf("serve: no scrape with %d targets probed after 2m: %s", n, lastLines(logs.String(), 5))
		}
		if body, err := scrape(l, addr); err == nil && sum(body, "pingcraft_target_probed") == float64(n) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	cpu, rss, err := procUsage(cmd.Process.Pid)
	if err != nil {
		return err
	}
	fmt.Printf("serving all %d targets %.2f s after start (CPU %.2f s, RSS %.1f MiB)\n", n, time.Since(start).Seconds(), cpu.Seconds(), float64(rss)/(1<<20))
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	// The Go heap in use beside RSS: a live heap that grows is kept
	// memory, one that holds while RSS grows is the collector's room.
	fmt.Fprintln(tw, "after\tCPU % since the last row\tRSS MiB\tKiB a target\theap MiB\tscrape s\tscrape MB\trequests\tresponses\tring drops\t")
	lastCPU, last := cpu, time.Now()
	start = last
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
		t0 := time.Now()
		body, err := scrape(l, addr)
		if err != nil {
			return err
		}
		took := time.Since(t0)
		now := time.Now()
		fmt.Fprintf(tw, "%v\t%.1f\t%.1f\t%.2f\t%.1f\t%.3f\t%.1f\t%.0f\t%.0f\t%.0f\t\n", now.Sub(start).Round(time.Second),
			100*float64(cpu-lastCPU)/float64(now.Sub(last)), float64(rss)/(1<<20), float64(rss)/1024/float64(n),
			sum(body, "go_memstats_heap_inuse_bytes")/(1<<20), took.Seconds(), float64(len(body))/1e6,
			sum(body, "pingcraft_requests_total"), sum(body, "pingcraft_response_duration_seconds_count"),
			sum(body, "pingcraft_ring_drops_total"))
		lastCPU, last = cpu, now
	}
	return tw.Flush()
}

// lastOf is the last address of p.
func lastOf(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As16()
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	for i := bits; i < 128; i++ {
		a[i/8] |= 0x80 >> (i % 8)
	}
	out := netip.AddrFrom16(a)
	if p.Addr().Is4() {
		out = out.Unmap()
	}
	return out
}

// lockedBuffer is an io.Writer the child's output goroutine writes while
// the benchmark may read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// lastLines is the last n lines of s, for an error.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
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
