package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pingcraft/pingcraft/lab/labtest"
)

// fpingSummary is a -c summary line without its times.
var fpingSummary = regexp.MustCompile(`(?m)^(\S+ +: xmt/rcv/%loss = \d+/\d+/\d+%)`)

func summaries(s string) []string {
	var out []string
	for _, m := range fpingSummary.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	sort.Strings(out)
	return out
}

// TestManyMatchesFping: 1,000 targets, three probes each, from the lab
// host: every one answers, and the counts are fping's, target by target.
func TestManyMatchesFping(t *testing.T) {
	labtest.RequireTool(t, "fping", "fping")
	bin := pingcraftBinary(t)
	l := labtest.NewPrefixed(t, "sc-")
	first := l.Many4.Addr().Next()
	last := first
	for range 999 {
		last = last.Next()
	}
	args := []string{"-c", "3", "-p", "200", "-i", "1", "-q", "-g", first.String(), last.String()}
	_, pcErr, pcCode := inHost(t, l, "", bin, append([]string{"fping"}, args...)...)
	_, fpErr, fpCode := inHost(t, l, "", "fping", args...)
	got, want := summaries(pcErr), summaries(fpErr)
	if len(got) != 1000 || pcCode != 0 {
		t.Fatalf("pingcraft: exit %d, %d summaries:\n%s", pcCode, len(got), pcErr)
	}
	for _, s := range got {
		if !strings.HasSuffix(s, "= 3/3/0%") {
			t.Errorf("pingcraft: %s", s)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" || fpCode != pcCode {
		t.Errorf("exit %d (fping %d); summaries (-fping +pingcraft):\n%s", pcCode, fpCode, diff)
	}
}

// TestManyCIDRUnreachable: a prefix whose middle has nobody: exactly those
// addresses are unreachable, for pingcraft as for fping.
func TestManyCIDRUnreachable(t *testing.T) {
	labtest.RequireTool(t, "fping", "fping")
	bin := pingcraftBinary(t)
	l := labtest.NewPrefixed(t, "sc-")
	// 198.18.1.1 is the router, .2 the target, .3 to .6 nobody.
	for _, flag := range []string{"-u", "-a"} {
		args := []string{flag, "-t", "200", "-r", "1", "-g", "198.18.1.0/29"}
		out, stderr, code := inHost(t, l, "", bin, append([]string{"fping"}, args...)...)
		fout, _, fcode := inHost(t, l, "", "fping", args...)
		want := map[string]string{"-u": "198.18.1.3\n198.18.1.4\n198.18.1.5\n198.18.1.6\n", "-a": "198.18.1.1\n198.18.1.2\n"}[flag]
		if out != want || code != fpingSomeDown {
			t.Errorf("send %s: exit %d, stdout %q, want %q; stderr:\n%s", flag, code, out, want, stderr)
		}
		if fout != out || fcode != code {
			t.Errorf("send %s: %q exit %d; fping %q exit %d", flag, out, code, fout, fcode)
		}
	}
}

// TestManyFileAndJSON: targets from a file (a comment and a blank line
// skipped), --json events carrying each target's name, a summary each.
func TestManyFileAndJSON(t *testing.T) {
	bin := pingcraftBinary(t)
	l := labtest.NewPrefixed(t, "sc-")
	list := filepath.Join(t.TempDir(), "targets")
	a, b := l.Many4.Addr().Next(), l.Target4
	if err := os.WriteFile(list, []byte("# the lab\n"+a.String()+"\n\n"+b.String()+"  the target\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := inHost(t, l, "", bin, "fping", "--json", "-c", "2", "-p", "100", "-f", list)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	count := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev struct{ Event, Target string }
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		count[ev.Target+" "+ev.Event]++
	}
	want := map[string]int{}
	for _, n := range []string{a.String(), b.String()} {
		want[n+" sent"], want[n+" reply"], want[n+" summary"] = 2, 2, 1
	}
	if diff := cmp.Diff(want, count); diff != "" {
		t.Errorf("events by target (-want +got):\n%s", diff)
	}
}

// TestFpingRefusedAsFping holds fpingRefused to the installed fping: the
// same command lines, started under the same argv[0], end with the same
// exit code and text. None of them sends anything.
func TestFpingRefusedAsFping(t *testing.T) {
	path := labtest.RequireTool(t, "fping", "fping")
	// In the lab host, so that a line fping did not refuse after all
	// probes nothing outside.
	l := labtest.NewPrefixed(t, "sc-")
	for _, tc := range fpingRefused {
		if !tc.fping51 {
			continue
		}
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			// exec -a: fping names itself by argv[0] as typed.
			cmd := l.Host.Command(context.Background(), "bash", append([]string{"-c", `exec -a "$0" "$@"`, tc.args[0], path}, tc.args[1:]...)...)
			var out, errs strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &errs
			code := 0
			if err := cmd.Run(); err != nil {
				ee, ok := err.(*exec.ExitError)
				if !ok {
					t.Fatal(err)
				}
				code = ee.ExitCode()
			}
			if code != tc.code {
				t.Errorf("fping: exit %d; the table says %d", code, tc.code)
			}
			if diff := cmp.Diff(expand(tc.stdout, tc.args[0]), out.String()); diff != "" {
				t.Errorf("stdout (-table +fping):\n%s", diff)
			}
			if diff := cmp.Diff(expand(tc.errs, tc.args[0]), errs.String()); diff != "" {
				t.Errorf("stderr (-table +fping):\n%s", diff)
			}
		})
	}
}

// fpingVarying are the parts of fping's lines that differ from run to run.
var fpingVarying = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\d+\.\d+ (ms|sec)`), "T $1"},
	{regexp.MustCompile(`min/avg/max = [0-9./]+`), "min/avg/max = T"},
	{regexp.MustCompile(`(?m)^\[\d\d:\d\d:\d\d\]$`), "[HH:MM:SS]"},
	{regexp.MustCompile(`\(([0-9.]+|NaN) avg`), "(T avg"},
	{regexp.MustCompile(`(?m)^(\S+ +:)((?: (?:[0-9.]+|-))+)$`), "$1 T"}, // -C's columns
	// Whether the router has given up on ARP for a silent address (and
	// answers "host unreachable") when a probe comes is a matter of timing.
	{regexp.MustCompile(`(?m)^ICMP Host Unreachable from \S+ for ICMP Echo sent to \S+\n`), ""},
}

func fpingNormal(s string) string {
	for _, v := range fpingVarying {
		s = v.re.ReplaceAllString(s, v.with)
	}
	return s
}

// TestFpingLikeFping runs pingcraft and fping side by side from the lab
// host over command lines whose output does not depend on timing, and
// wants the same lines (times blanked) and exit codes.
func TestFpingLikeFping(t *testing.T) {
	labtest.RequireTool(t, "fping", "fping")
	bin := pingcraftBinary(t)
	l := labtest.NewPrefixed(t, "sc-")
	target, nobody := l.Target4.String(), "198.18.1.3" // .3 answers no ARP
	for _, args := range [][]string{
		{"-s", "-c", "3", "-p", "100", "-t", "200", target, nobody},
		{"-s", "-r", "1", "-t", "100", target, nobody},
		{"-o", "-q", "-c", "3", "-p", "100", "-t", "100", target, nobody},
		{"-C", "3", "-p", "100", "-t", "100", target, nobody},
		{"-x", "1", "-r", "0", "-t", "100", target, nobody},
		{"-x", "2", "-r", "0", "-t", "100", target, nobody},
		{"-a", "-c", "2", "-p", "100", target},
		{"-e", "-u", "-r", "0", "-t", "100", target, nobody},
		{"-c", "2", "-p", "100", target, target},
		{"-4", "-c", "2", "-p", "100", "localhost", "127.0.0.1"},
		{"-A", "localhost"},
		{"-m", "-A", "localhost"},
		{"-n", "127.0.0.1"},
		{"-A", "-d", "127.0.0.1"},
		{"-6", "-g", "198.18.1.2/32"},
		{"-R", "-M", "-O", "2", "-T", "5", "-H", "3", "-q", "-c", "2", "-p", "100", target},
		{"-Q", "1", "-p", "400", "-c", "4", target},
		{"-N", "-Q", "1", "-c", "2", target},
		{"-S", "198.18.255.254", target}, // not the host's: refused
		{"-S", l.Host4.String(), "-c", "1", target, "::1"},
		// Broadcasts fail to send (no SO_BROADCAST), once; a group's
		// member answers from its own address.
		{"-r", "3", "198.18.0.255", "255.255.255.255", "224.0.0.1"},
		{"-c", "2", "-p", "100", "198.18.0.255", "224.0.0.1"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out, errs, code := inHost(t, l, "", bin, append([]string{"fping"}, args...)...)
			fout, ferrs, fcode := inHost(t, l, "", "fping", args...)
			// netdata's latencies are nanoseconds.
			nd := regexp.MustCompile(`(?m)^SET (min|avg|max) = \d+$`)
			out, fout = nd.ReplaceAllString(out, "SET $1 = T"), nd.ReplaceAllString(fout, "SET $1 = T")
			if code != fcode {
				t.Errorf("exit %d, fping's %d", code, fcode)
			}
			if diff := cmp.Diff(fpingNormal(fout), fpingNormal(out)); diff != "" {
				t.Errorf("stdout (-fping +pingcraft):\n%s", diff)
			}
			if diff := cmp.Diff(fpingNormal(ferrs), fpingNormal(errs)); diff != "" {
				t.Errorf("stderr (-fping +pingcraft):\n%s", diff)
			}
		})
	}
}

// TestFpingLoopSignals: -l probes until SIGINT, then summarises; SIGQUIT
// on the way prints an interval summary and the run goes on, as fping's.
func TestFpingLoopSignals(t *testing.T) {
	labtest.RequireTool(t, "fping", "fping")
	bin := pingcraftBinary(t)
	l := labtest.NewPrefixed(t, "sc-")
	args := []string{"-l", "-p", "200", l.Target4.String()}
	run := func(name string, args ...string) (string, string) {
		cmd := l.Host.Command(context.Background(), name, args...)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var errs strings.Builder
		cmd.Stderr = &errs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		lines := bufio.NewScanner(stdout)
		for lines.Scan() {
			out.WriteString(lines.Text() + "\n")
			switch {
			case strings.Contains(lines.Text(), " : [2], "):
				cmd.Process.Signal(syscall.SIGQUIT)
			case strings.Contains(lines.Text(), " : [4], "):
				cmd.Process.Signal(syscall.SIGINT)
			}
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("%s %v: %v\n%s", name, args, err, errs.String())
		}
		return out.String(), errs.String()
	}
	out, errs := run(bin, append([]string{"fping"}, args...)...)
	fout, ferrs := run("fping", args...)
	want := "\n[HH:MM:SS]\n" + l.Target4.String() + " : xmt/rcv/%loss = 3/3/0%, min/avg/max = T\n\n" +
		l.Target4.String() + " : xmt/rcv/%loss = 5/5/0%, min/avg/max = T\n"
	if got := fpingNormal(errs); got != want {
		t.Errorf("pingcraft's stderr:\n%s\nwant:\n%s", got, want)
	}
	if diff := cmp.Diff(fpingNormal(ferrs), fpingNormal(errs)); diff != "" {
		t.Errorf("stderr (-fping +pingcraft):\n%s", diff)
	}
	if diff := cmp.Diff(fpingNormal(fout), fpingNormal(out)); diff != "" {
		t.Errorf("stdout (-fping +pingcraft):\n%s", diff)
	}
}
