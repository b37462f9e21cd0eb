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
//	go run ./bench/flood [-count 20000] [-capture 200000] [-many] [-sustain 1m] [-serve 5m] [-timeout 2m]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
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

func main() {
	count := flag.Int("count", 20000, "probes per run")
	timeout := flag.Duration("timeout", 2*time.Minute, "longest a run may take")
	extra := flag.Bool("raw", true, "also run pingcraft --mode raw, to tell the transport's cost from the engine's")
	capture := flag.Int("capture", 200000, "probes of the flood that pingcraft watch -w and tcpdump -w capture (0: skip)")
	many := flag.Bool("many", true, "also compare send over 1,000 and 10,000 targets with fping")
	sustain := flag.Duration("sustain", time.Minute, "then hold 10,000 targets at a probe a second each this long (0: skip)")
	serveFor := flag.Duration("serve", 5*time.Minute, "then run pingcraft serve over 10,000 targets this long (0: skip)")
	flag.Parse()
	if *count < 1 || *timeout <= 0 || *capture < 0 {
		fmt.Fprintln(os.Stderr, "flood: -count and -timeout must be positive, -capture not negative")
		os.Exit(2)
	}
	if err := run(*count, *timeout, *extra, *capture, *many, *sustain, *serveFor); err != nil {
		fmt.Fprintln(os.Stderr, "flood:", err)
		os.Exit(1)
	}
}

func run(count int, timeout time.Duration, extra bool, capture int, many bool, sustain, serveFor time.Duration) error {
	if missing := requirements(); missing != "" {
		if os.Getenv("PINGCRAFT_REQUIRE_ROOT") == "1" {
			return errors.New(missing + "; PINGCRAFT_REQUIRE_ROOT=1 makes this a failure")
		}
		fmt.Println("flood: SKIPPED:", missing)
		return nil
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

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

	l, err := lab.New(ctx)
	if err != nil {
		return err
	}
	defer l.Close()
	target := l.Target4.String()
	// Fill the neighbour tables first, so no row pays for ARP.
	if out, err := l.Host.Command(ctx, "ping", "-c", "2", "-i", "0.2", target).CombinedOutput(); err != nil {
		return fmt.Errorf("warm-up ping: %v\n%s", err, out)
	}

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
	timeBin, _ := exec.LookPath("/usr/bin/time")
	if timeBin == "" {
		fmt.Println("flood: no GNU time (apt-get install time): max RSS includes this benchmark's own, counted at exec")
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
		if ctx.Err() != nil {
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
	if ctx.Err() == nil && capture > 0 {
		if err := benchWatch(ctx, l, dir, bin, capture, timeout); err != nil {
			return err
		}
	}
	if ctx.Err() == nil && many {
		if _, err := exec.LookPath("fping"); err != nil {
			return fmt.Errorf("fping is not on PATH: apt-get install fping")
		}
		if err := benchMany(ctx, l, bin, timeout, sustain, timeBin); err != nil {
			return err
		}
	}
	if ctx.Err() == nil && serveFor > 0 {
		if err := benchServe(ctx, l, dir, bin, serveFor); err != nil {
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
