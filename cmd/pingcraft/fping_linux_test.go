package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
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
	l := labtest.New(t)
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
	l := labtest.New(t)
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
	l := labtest.New(t)
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
