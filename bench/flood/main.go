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
// First, before the floods, -one one-probe runs: pingcraft send -c 1 in
// each mode and iputils ping -c 1, interleaved, their wall times and their
// ratio to mode raw's.
//
// The many-target rows: -many-targets (1,000 and 10,000) probed -c 3 -p
// 1000 -i 0 by both tools, with the ratio of CPU per probe; then
// -sustain-targets held at one probe a second each for -sustain, by both;
// then -million targets from a file at -million-rate (0: skip). Targets
// beyond the lab's IPv4 range are IPv6 of its range, from a file.
//
//	go run ./bench/flood [-count 20000] [-capture 200000] [-many] [-many-targets 1000,10000] [-sustain 1m] [-sustain-targets 10000]
//	    [-million 0] [-million-rate 100000] [-serve 5m] [-serve-targets 10000] [-timeout 2m] [-lab-prefix P]
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

func main() { os.Exit(flood(os.Args[1:])) }

// flood runs the benchmarks with the command line's args and returns the
// exit code: main's, and TestFlood's under go test (see flood_test.go).
func flood(args []string) int {
	fs := flag.NewFlagSet("flood", flag.ContinueOnError)
	count := fs.Int("count", 20000, "probes per run")
	timeout := fs.Duration("timeout", 2*time.Minute, "longest a run may take")
	extra := fs.Bool("raw", true, "also run pingcraft --mode raw, to tell the transport's cost from the engine's")
	capture := fs.Int("capture", 200000, "probes of the flood that pingcraft watch -w and tcpdump -w capture (0: skip)")
	many := fs.Bool("many", true, "also compare fping over -many-targets targets with fping")
	var mc manyConfig
	fs.StringVar(&mc.sizes, "many-targets", "1000,10000", "target counts of the many-target comparison, comma-separated")
	fs.IntVar(&mc.count, "many-count", 3, "probes a target in the many-target comparison")
	fs.DurationVar(&mc.sustain, "sustain", time.Minute, "then hold -sustain-targets at a probe a second each this long (0: skip)")
	fs.IntVar(&mc.sustainTargets, "sustain-targets", 10000, "targets held for -sustain")
	fs.IntVar(&mc.million, "million", 0, "then probe this many targets from a file once each at -million-rate (0: skip)")
	fs.Float64Var(&mc.millionRate, "million-rate", 100000, "--rate of the -million run")
	fs.BoolVar(&mc.profile, "many-profile", false, "record the pingcraft many-target rows with perf and print their profiles")
	prefix := fs.String("lab-prefix", "", "the lab's namespaces are named pingcraft-PREFIX...")
	serveFor := fs.Duration("serve", 5*time.Minute, "then run pingcraft serve over -serve-targets targets this long (0: skip)")
	serveTargets := fs.Int("serve-targets", 10000, "targets of the serve run: IPv4 up to 16,382, IPv6 beyond")
	fs.IntVar(&oneProbe, "one", 30, "one-probe runs (send -c 1) of each mode and of iputils ping, interleaved (0: skip)")
	fs.IntVar(&smokepingTargets, "smokeping", 0, "then compare pingcraft serve with smokeping_prober over this many targets (0: skip)")
	fs.DurationVar(&smokepingFor, "smokeping-for", time.Minute, "how long each runs in that comparison")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *count < 0 || *timeout <= 0 || *capture < 0 || *serveTargets < 1 {
		fmt.Fprintln(os.Stderr, "flood: -timeout and -serve-targets must be positive, -count and -capture not negative")
		return 2
	}
	mc.many = *many
	if err := run(*prefix, *count, *timeout, *extra, *capture, &mc, *serveFor, *serveTargets); err != nil {
		fmt.Fprintln(os.Stderr, "flood:", err)
		return 1
	}
	return 0
}

func run(prefix string, count int, timeout time.Duration, extra bool, capture int, mc *manyConfig, serveFor time.Duration, serveTargets int) error {
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

	l, err := lab.NewPrefixed(ctx, prefix)
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
	if oneProbe > 0 {
		if err := benchOneProbe(ctx, l, bin, oneProbe, timeout); err != nil {
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
	if ctx.Err() == nil && mc.many {
		if _, err := exec.LookPath("fping"); err != nil {
			return fmt.Errorf("fping is not on PATH: apt-get install fping")
		}
		if err := benchMany(ctx, l, dir, bin, timeout, timeBin, mc); err != nil {
			return err
		}
	}
	if ctx.Err() == nil && serveFor > 0 {
		if err := benchServe(ctx, l, dir, bin, serveFor, serveTargets); err != nil {
			return err
		}
	}
	if ctx.Err() == nil && smokepingTargets > 0 {
		if err := benchSmokeping(ctx, l, dir, bin, smokepingFor, smokepingTargets); err != nil {
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

// manyConfig is what the many-target rows run.
type manyConfig struct {
	many           bool
	sizes          string
	count          int
	sustain        time.Duration
	sustainTargets int
	million        int
	millionRate    float64
	// profile: record the pingcraft rows with perf and print where their
	// CPU went (perf's own cost lands in the rows' figures).
	profile bool
}

// manyRun is one row of the many-target comparison.
type manyRun struct {
	tool    string
	targets int
	args    []string
	peer    int // the row of fping's same run, for the ratio; -1 for none
}

// benchMany probes addresses the lab's target answers on with pingcraft
// fping and with fping, the same flags: -many-targets at -c 3 -p 1000 -i 0
// (IPv4, -g), then -sustain-targets at one probe a second each for
// -sustain, then -million once each at -million-rate (IPv6 beyond the
// IPv4 range, from a file). Each row reports CPU per probe, its ratio to
// fping's in the same run, the cores it used on average and what it lost.
func benchMany(ctx context.Context, l *lab.Lab, dir, bin string, timeout time.Duration, timeBin string, mc *manyConfig) error {
	first := l.Many4.Addr().Next()
	nth := func(n int) string {
		a := first
		for range n - 1 {
			a = a.Next()
		}
		return a.String()
	}
	// IPv4 of the lab's range as far as it goes, then IPv6.
	ipv4 := 0
	for a := first; a != lastOf(l.Many4); a = a.Next() {
		ipv4++
	}
	file := func(n int) (string, error) {
		name := filepath.Join(dir, fmt.Sprintf("targets-%d", n))
		if _, err := os.Stat(name); err == nil {
			return name, nil
		}
		var b strings.Builder
		a := l.Many6.Addr()
		for range n {
			a = a.Next()
			b.WriteString(a.String())
			b.WriteByte('\n')
		}
		return name, os.WriteFile(name, []byte(b.String()), 0o644)
	}
	fmt.Printf("\nmany targets: addresses from %s and %s that the lab's target answers on\n", first, l.Many6.Addr().Next())
	var runs []manyRun
	c := strconv.Itoa(mc.count)
	for _, f := range strings.Split(mc.sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("-many-targets: %q is no number of targets", f)
		}
		targets := []string{"-g", first.String(), nth(min(n, ipv4))}
		if n > ipv4 {
			name, err := file(n)
			if err != nil {
				return err
			}
			targets = []string{"-f", name}
		}
		args := append([]string{"-c", c, "-p", "1000", "-i", "0", "-q"}, targets...)
		runs = append(runs, manyRun{"fping", n, args, -1}, manyRun{bin, n, append([]string{"fping"}, args...), len(runs)})
	}
	if mc.sustain > 0 {
		n := mc.sustainTargets
		name, err := file(n)
		if err != nil {
			return err
		}
		// One probe a second each, spread evenly: -i is a second over the
		// targets, in ms.
		gap := strconv.FormatFloat(1000/float64(n), 'f', -1, 64)
		args := []string{"-c", strconv.Itoa(int(mc.sustain / time.Second)), "-p", "1000", "-i", gap, "-q", "-f", name}
		fp := manyRun{"fping", n, args, -1}
		if n > fpingMaxHosts {
			// One fping 5.1 process cannot hold this load (see
			// fpingMaxHosts): as many processes as it needs, each its
			// share of the targets at its share of the rate, from one
			// shell, whose rusage counts them all.
			var err error
			if fp, err = fpingShards(dir, name, n, mc.sustain); err != nil {
				return err
			}
		}
		runs = append(runs, fp, manyRun{bin, n, append([]string{"fping"}, args...), len(runs)})
	}
	if mc.million > 0 {
		name, err := file(mc.million)
		if err != nil {
			return err
		}
		rate := strconv.FormatFloat(mc.millionRate, 'f', -1, 64)
		runs = append(runs, manyRun{bin, mc.million, []string{"fping", "-c", "1", "--rate", rate, "-q", "-f", name}, -1})
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "command\ttargets\twall s\tCPU s\tCPU µs a probe\t× fping\tcores\tmax RSS MiB\tsent\tloss %\tring drops\t")
	perProbe := make([]float64, len(runs))
	for i, r := range runs {
		if ctx.Err() != nil {
			break
		}
		// Bounded by the probing's own length, plus -timeout for the
		// rest (start, resolving, the summary).
		bound := timeout + time.Duration(mc.count)*time.Second
		switch {
		case i == len(runs)-1 && mc.million > 0:
			bound = timeout + time.Duration(float64(mc.million)/mc.millionRate*float64(time.Second))
		case r.targets == mc.sustainTargets && mc.sustain > 0:
			bound = timeout + mc.sustain
		}
		tool, args := r.tool, r.args
		perfData := filepath.Join(dir, fmt.Sprintf("row-%d.perf", i))
		if mc.profile && r.tool == bin {
			tool, args = "perf", append([]string{"record", "-F", "2000", "-g", "-o", perfData, "--", bin}, r.args...)
		}
		res, out := measure(ctx, l, bound, timeBin, tool, args)
		name := "fping"
		if r.tool == bin {
			name = "pingcraft"
		}
		label := fmt.Sprintf("%s %s", name, joinArgs(r.args))
		if r.tool == "sh" {
			label = fmt.Sprintf("%d fping processes, each -c N -p 1000 -i its share -q -f ITS FILE", strings.Count(r.args[1], "&"))
		}
		if res.err != nil {
			fmt.Fprintf(tw, "%s\t%d\t%v\t\t\t\t\t\t\t\t\t\n", label, r.targets, res.err)
			tw.Flush()
			fmt.Printf("    (it wrote: %s)\n", lastLines(out, 3))
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
		perProbe[i] = cpu * 1e6 / float64(max(sent, 1))
		ratio := ""
		if r.peer >= 0 && perProbe[r.peer] > 0 {
			ratio = fmt.Sprintf("%.2f", perProbe[i]/perProbe[r.peer])
		}
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f\t%.2f\t%s\t%.2f\t%.1f\t%d\t%.3f\t%s\t\n", label, r.targets, res.wall.Seconds(), cpu,
			perProbe[i], ratio, cpu/res.wall.Seconds(), float64(res.maxRSS)/1024, sent, loss, drops)
		tw.Flush()
		if sent == 0 {
			fmt.Printf("    (no summaries; it wrote: %s)\n", lastLines(out, 3))
		}
		if mc.profile && r.tool == bin {
			dsos, err := exec.CommandContext(ctx, "perf", "report", "-i", perfData, "--stdio", "--no-children",
				"--sort", "dso", "--percent-limit", "1", "-g", "none").Output()
			if err != nil {
				return fmt.Errorf("perf report: %w", err)
			}
			syms, err := exec.CommandContext(ctx, "perf", "report", "-i", perfData, "--stdio", "--children",
				"--sort", "symbol", "--percent-limit", "3", "-g", "none").Output()
			if err != nil {
				return fmt.Errorf("perf report: %w", err)
			}
			fmt.Printf("profile of %s over %d targets, by binary:\n%s", label, r.targets, profileLines(string(dsos)))
			fmt.Printf("and by function, callees included (children, self):\n%s\n", profileLines(string(syms)))
		}
	}
	return tw.Flush()
}

// fpingMaxHosts is the most hosts one fping 5.1 process probes at one
// probe a second each: its 65,535 sequence numbers are each held for 10 s
// ("not enough sequence numbers available" beyond), 6,553 probes a second.
const fpingMaxHosts = 6000

// fpingShards is the run of fping over the n targets of file at one probe
// a second each for d, cut into as many processes as fping needs.
func fpingShards(dir, file string, n int, d time.Duration) (manyRun, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return manyRun{}, err
	}
	lines := strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n")
	shards := (n + fpingMaxHosts - 1) / fpingMaxHosts
	per := (n + shards - 1) / shards
	var script strings.Builder
	for i := 0; i < shards; i++ {
		part := lines[i*per : min((i+1)*per, len(lines))]
		name := fmt.Sprintf("%s-part%d", file, i)
		if err := os.WriteFile(name, []byte(strings.Join(part, "")), 0o644); err != nil {
			return manyRun{}, err
		}
		gap := strconv.FormatFloat(1000/float64(len(part)), 'f', -1, 64)
		fmt.Fprintf(&script, "fping -c %d -p 1000 -i %s -q -f %s & ", int(d/time.Second), gap, name)
	}
	script.WriteString("wait")
	return manyRun{"sh", n, []string{"-c", script.String()}, -1}, nil
}

// profileLines keeps perf report's rows, without its comments.
func profileLines(rep string) string {
	var b strings.Builder
	for _, line := range strings.Split(rep, "\n") {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// joinArgs shows a command line with the target range shortened.
func joinArgs(args []string) string {
	s := ""
	for i, a := range args {
		if i > 0 && args[i-1] == "-g" {
			return s + "-g FIRST LAST"
		}
		if i > 0 && args[i-1] == "-f" {
			return s + "-f FILE"
		}
		if a == "-g" || a == "-f" {
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
