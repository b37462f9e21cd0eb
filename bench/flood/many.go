//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/pingcraft/pingcraft/lab"
)

var (
	manySummary = regexp.MustCompile(`(?m)^\S+ +: xmt/rcv/%loss = (\d+)/(\d+)/`)
	ringDrops   = regexp.MustCompile(`(\d+) frames dropped by the receive ring`)
)

// benchMany probes 1,000 and 10,000 addresses the lab's target answers on,
// with pingcraft send and with fping, the same flags, and then holds
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
		runs = append(runs, run{bin, n, append([]string{"send"}, args...)}, run{"fping", n, args})
	}
	if sustain > 0 {
		probes := strconv.Itoa(int(sustain / time.Second))
		runs = append(runs, run{bin, 10000, []string{"send", "-c", probes, "-p", "1000", "-i", "0.05", "-q", "-g", first.String(), nth(10000)}})
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
