//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pingcraft/pingcraft/lab"
)

// benchOneProbe times n runs of each one-probe command, interleaved so
// that a slow moment of the machine costs every row alike, and prints the
// median and mean wall time of each with its ratio to mode raw's median.
// "above floor" takes off what `ip netns exec true` costs, the wrapper
// every row pays.
func benchOneProbe(ctx context.Context, l *lab.Lab, bin string, n int, timeout time.Duration) error {
	target := l.Target4.String()
	rows := []row{
		{"true", nil},
		{bin, []string{"send", "-c", "1", "-q", target}},
		{bin, []string{"send", "--mode", "raw", "-c", "1", "-q", target}},
		{bin, []string{"send", "--mode", "ethernet", "-c", "1", "-q", target}},
		{bin, []string{"send", "--mode", "ip", "-c", "1", "-q", target}},
		{"ping", []string{"-c", "1", "-q", target}},
	}
	const floor, raw = 0, 2
	walls := make([][]time.Duration, len(rows))
	for range n {
		for i, r := range rows {
			if err := ctx.Err(); err != nil {
				return err
			}
			res, out := measure(ctx, l, timeout, "", r.tool, r.args)
			if res.err == nil && r.args != nil {
				summary(out, &res)
				if res.err == nil && res.received != 1 {
					res.err = fmt.Errorf("%d of 1 replies", res.received)
				}
			}
			if res.err != nil {
				return fmt.Errorf("one probe: %s %s: %v: %s", r.tool, strings.Join(r.args, " "), res.err, strings.TrimSpace(out))
			}
			walls[i] = append(walls[i], res.wall)
		}
	}
	med := func(i int) time.Duration {
		w := slices.Clone(walls[i])
		slices.Sort(w)
		return w[len(w)/2]
	}
	mean := func(i int) time.Duration {
		var t time.Duration
		for _, w := range walls[i] {
			t += w
		}
		return t / time.Duration(len(walls[i]))
	}
	fmt.Printf("\none probe: %d runs of each command, interleaved, to %s\n", n, target)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "command\tmedian ms\tmean ms\t× raw\tabove floor ms\t× raw above floor\t")
	f, rm := med(floor), med(raw)
	for i, r := range rows {
		name := "ip netns exec true (floor)"
		if r.args != nil {
			tool := "pingcraft"
			if r.tool != bin {
				tool = r.tool + " (iputils)"
			}
			name = tool + " " + strings.Join(r.args[:len(r.args)-1], " ")
		}
		m := med(i)
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t\n", name, ms(m), ms(mean(i)),
			float64(m)/float64(rm), ms(m-f), float64(m-f)/float64(max(rm-f, 1)))
	}
	return tw.Flush()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
