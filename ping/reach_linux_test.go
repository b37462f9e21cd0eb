package ping_test

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pingcraft/pingcraft/lab"
	"github.com/pingcraft/pingcraft/lab/labtest"
	"github.com/pingcraft/pingcraft/ping"
	"github.com/pingcraft/pingcraft/report"
)

// runIn prepares a one-target run in n and runs it, printing as w does.
func runIn(t *testing.T, n *lab.Node, target string, run *ping.Config, fc *ping.FleetConfig, onEvent func(*ping.Event)) (*ping.Fleet, *ping.Engine) {
	t.Helper()
	var f *ping.Fleet
	if err := n.Do(func() error {
		var err error
		f, _, err = ping.NewSingle(context.Background(), target, run, fc)
		return err
	}); err != nil {
		t.Fatalf("NewSingle %s: %v", target, err)
	}
	t.Cleanup(func() { f.Close() })
	e, err := f.Engine(onEvent)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	return f, e
}

var elapsed = regexp.MustCompile(`time \d+ms`)

// TestLabSilentNeighbourAsIputils: an on-link address nobody answers ARP or
// NDP for is probed, not refused; every probe ends in the host unreachable
// from our own source that iputils prints, line for line, in mode auto
// (the kernel resolves) and ethernet (we resolve, in the background).
func TestLabSilentNeighbourAsIputils(t *testing.T) {
	l := labtest.New(t)
	labtest.RequireTool(t, "ping", "iputils-ping")
	for _, target := range []string{"198.18.0.99", "fd00:198:18::99"} {
		out, err := l.Host.Command(context.Background(), "ping", "-c3", "-i0.2", target).Output()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Fatalf("ping -c3 %s: %v, want exit 1\n%s", target, err, out)
		}
		want := lines(string(out))
		for _, mode := range []ping.Mode{ping.ModeAuto, ping.ModeEthernet} {
			t.Run(target+"/"+mode.String(), func(t *testing.T) {
				var b bytes.Buffer
				rp := &report.Ping{W: &b, Name: target}
				f, e := runIn(t, l.Host, target, &ping.Config{Count: 3, Interval: 200 * time.Millisecond}, &ping.FleetConfig{Mode: mode}, rp.Event)
				p := f.Targets()[0].Path
				var h bytes.Buffer
				(&report.Ping{W: &h, Name: target}).Header(p.Target, ping.DefaultSize, "", 0, 0)
				b = *bytes.NewBuffer(append(h.Bytes(), b.Bytes()...))
				st := e.Stats(0)
				rp.Summary(&st, 0, 0)
				if diff := cmp.Diff(want, lines(b.String())); diff != "" {
					t.Errorf("iputils (-) and pingcraft (+) differ:\n%s", diff)
				}
				if st.Transmitted != 3 || st.Errors != 3 || st.Received != 0 {
					t.Errorf("stats %+v, want 3 sent, 3 errors", st)
				}
			})
		}
	}
}

// lines are the header, the per-probe lines and the summary's first line,
// its time left out: what does not depend on timing.
func lines(s string) []string {
	var out []string
	for _, ln := range strings.Split(s, "\n") {
		if ln == "" || strings.HasPrefix(ln, "pipe ") || strings.HasPrefix(ln, "rtt ") {
			continue
		}
		out = append(out, elapsed.ReplaceAllString(ln, "time Xms"))
	}
	return out
}

// TestLabSilentNeighbourAsFping: fping's lines for a target whose next hop
// never answers, beside one that does: the ICMP errors from our own
// source and "is unreachable", and the live target still alive.
func TestLabSilentNeighbourAsFping(t *testing.T) {
	l := labtest.New(t)
	labtest.RequireTool(t, "fping", "fping")
	names := []string{"198.18.0.99", l.Router4.String()}
	cmd := l.Host.Command(context.Background(), "fping", names...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("fping: %v, want exit 1\n%s%s", err, stdout.String(), stderr.String())
	}
	var out, errs bytes.Buffer
	rp := &report.Fping{W: &out, Err: &errs, Names: names}
	var f *ping.Fleet
	if err := l.Host.Do(func() error {
		var err error
		f, err = ping.NewFleet(context.Background(), names, &ping.Config{UntilReply: true, Retries: 3, Timeout: 500 * time.Millisecond, Backoff: 1.5, Interval: time.Second}, nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e, err := f.Engine(rp.Event)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	rp.Summary(0)
	// How many errors arrive depends on timing; which lines, not.
	distinct := func(s string) []string {
		ls := slices.DeleteFunc(strings.Split(s, "\n"), func(s string) bool { return s == "" })
		slices.Sort(ls)
		return slices.Compact(ls)
	}
	if diff := cmp.Diff(distinct(stdout.String()), distinct(out.String())); diff != "" {
		t.Errorf("stdout: fping (-) and pingcraft (+) differ:\n%s", diff)
	}
	if diff := cmp.Diff(distinct(stderr.String()), distinct(errs.String())); diff != "" {
		t.Errorf("stderr: fping (-) and pingcraft (+) differ:\n%s", diff)
	}
}
