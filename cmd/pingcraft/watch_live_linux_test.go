package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pingcraft/pingcraft/lab/labtest"
)

// tcpdumpLink is the pingcraft binary under the name tcpdump, as a user
// who installed the links runs it.
func tcpdumpLink(t *testing.T) string {
	t.Helper()
	link := filepath.Join(t.TempDir(), "tcpdump")
	if err := os.Symlink(pingcraftBinary(t), link); err != nil {
		t.Fatal(err)
	}
	return link
}

// stamp is a time stamp at the start of a line, after -#'s number.
var stamp = regexp.MustCompile(`(?m)^( *\d+  )?\d\d:\d\d:\d\d\.(\d+) `)

// stampShape keeps of each time stamp only how many digits its fraction
// has: two captures stamp the same frame apart.
func stampShape(s string) string {
	return stamp.ReplaceAllStringFunc(s, func(m string) string {
		sub := stamp.FindStringSubmatch(m)
		return fmt.Sprintf("%sHH:MM:SS.%d ", sub[1], len(sub[2]))
	})
}

// TestWatchLikeTcpdumpLive: started as tcpdump, pingcraft and the real
// tcpdump capture the same pings side by side with the same command line:
// the same lines, the same stderr up to the counts, and counts that add up.
func TestWatchLikeTcpdumpLive(t *testing.T) {
	tcpdump := labtest.RequireTool(t, "tcpdump", "tcpdump")
	labtest.RequireTool(t, "ping", "iputils-ping")
	ours := tcpdumpLink(t)
	l := labtest.New(t)
	h := l.HostLink
	for _, args := range [][]string{
		{"-nni", h, "-c4", "icmp"}, // the acceptance line
		{"-nn", "-i", "any", "-c4", "icmp"},
		{"-nn", "-i", "any", "-y", "LINUX_SLL", "-c4", "icmp"},
		{"-nn", "-i", h, "-y", "EN10MB", "-e", "-c4", "icmp"},
		{"-nn", "-i", h, "-Q", "in", "-c2", "icmp"},
		{"-nn", "-i", h, "-Q", "out", "-c2", "icmp"},
		{"-nn", "-i", "any", "-Q", "in", "-c2", "icmp"},
		{"-nn", "-i", "any", "--direction=out", "-c2", "icmp"},
		{"-nn", "-i", h, "-#", "-A", "-c4", "icmp"},
		{"-nnvKS", "-i", h, "-c4", "icmp"},
		{"-nn", "-i", h, "--nano", "-c4", "icmp"},
		{"-nn", "-i", h, "-j", "host", "-c4", "icmp"},
		{"-nn", "-i", h, "-j", "adapter", "-c4", "icmp"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			var wantOut, gotOut strings.Builder
			dump := l.Host.Command(ctx, tcpdump, append([]string{"-l"}, args...)...)
			dump.Stdout = &wantOut
			waitDump := started(t, dump, "listening on")
			watch := l.Host.Command(ctx, ours, args...)
			watch.Stdout = &gotOut
			waitWatch := started(t, watch, "listening on")
			if out, err := l.Host.Command(ctx, "ping", "-c", "2", "-i", "0.2", l.Target4.String()).CombinedOutput(); err != nil {
				t.Fatalf("ping: %v\n%s", err, out)
			}
			wantErr, err := waitDump()
			if err != nil {
				t.Fatalf("tcpdump: %v\n%s", err, wantErr)
			}
			gotErr, err := waitWatch()
			if err != nil {
				t.Fatalf("watch: %v\n%s", err, gotErr)
			}
			if diff := cmp.Diff(stampShape(wantOut.String()), stampShape(gotOut.String())); diff != "" {
				t.Errorf("stdout (-tcpdump +watch):\n%s", diff)
			}
			head := func(s string) string { return s[:strings.Index(s, "listening on")] }
			if diff := cmp.Diff(head(wantErr), head(gotErr)); diff != "" {
				t.Errorf("stderr before the listening line (-tcpdump +watch):\n%s", diff)
			}
			line := func(s string) string { return strings.SplitAfter(s[strings.Index(s, "listening on"):], "\n")[0] }
			if line(wantErr) != line(gotErr) {
				t.Errorf("listening line %q, tcpdump's %q", line(gotErr), line(wantErr))
			}
			captured, received, dropped := liveCounts(t, gotErr)
			if wantCaptured, _, _ := liveCounts(t, wantErr); captured != wantCaptured || captured+dropped != received {
				t.Errorf("watch counts %d captured, %d received, %d dropped; tcpdump captured %d", captured, received, dropped, wantCaptured)
			}
		})
	}
}

var liveCountLines = regexp.MustCompile(`(\d+) packets? captured\n(\d+) packets? received by filter\n(\d+) packets? dropped by kernel\n`)

func liveCounts(t *testing.T, stderr string) (captured, received, dropped int) {
	t.Helper()
	m := liveCountLines.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no counts in stderr:\n%s", stderr)
	}
	fmt.Sscan(m[1], &captured)
	fmt.Sscan(m[2], &received)
	fmt.Sscan(m[3], &dropped)
	return captured, received, dropped
}

// TestWatchRefusalsLikeTcpdump: what tcpdump refuses or lists before it
// captures, in its words, on the stream it uses, with its exit code.
func TestWatchRefusalsLikeTcpdump(t *testing.T) {
	tcpdump := labtest.RequireTool(t, "tcpdump", "tcpdump")
	ours := tcpdumpLink(t)
	l := labtest.New(t)
	h := l.HostLink
	missing := filepath.Join(t.TempDir(), "no-such-filter")
	for _, args := range [][]string{
		{"-i", h, "-L"}, {"-i", "any", "-L"}, {"-i", "lo", "-L"},
		{"-i", h, "-J"}, {"-i", "any", "--list-time-stamp-types"},
		{"-i", h, "-y", "BOGUS"}, {"-i", h, "-y", "LINUX_SLL"}, {"-i", "any", "-y", "EN10MB"},
		{"-i", h, "-j", "bogus"}, {"-i", h, "-Q", "sideways"}, {"-i", "99", "-c1"},
		{"-i", h, "-F", missing}, {"-i", h, "--time-stamp-precision=pico"},
		{"-i", h, "-Z", "pingcraft-no-such-user", "-c1"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			want, wantErr, wantCode := runCmd(t, l.Host.Command(ctx, tcpdump, args...))
			got, gotErr, code := runCmd(t, l.Host.Command(ctx, ours, args...))
			if want != got || wantErr != gotErr || wantCode != code {
				t.Errorf("watch: exit %d\nstdout %q\nstderr %q\ntcpdump: exit %d\nstdout %q\nstderr %q", code, got, gotErr, wantCode, want, wantErr)
			}
		})
	}
}

// TestWatchNumberedInterface: -i N is the Nth of -D's list, as in tcpdump.
func TestWatchNumberedInterface(t *testing.T) {
	tcpdump := labtest.RequireTool(t, "tcpdump", "tcpdump")
	ours := tcpdumpLink(t)
	l := labtest.New(t)
	list, _, _ := runCmd(t, l.Host.Command(t.Context(), tcpdump, "-D"))
	if n := strings.Count(list, "\n"); n < 2 {
		t.Fatalf("tcpdump -D lists %d interfaces:\n%s", n, list)
	}
	for i, line := range strings.Split(strings.TrimSpace(list), "\n") {
		if strings.Contains(line, "(") && !strings.Contains(line, "Pseudo-device that captures on all interfaces") {
			continue // libpcap's own devices (bluetooth, nflog, ...): watch does not open them
		}
		arg := fmt.Sprint(i + 1)
		t.Run(arg, func(t *testing.T) {
			head := func(name string) string {
				cmd := l.Host.Command(t.Context(), name, "-n", "-i", arg)
				wait := started(t, cmd, "listening on")
				cmd.Process.Signal(syscall.SIGINT)
				stderr, _ := wait()
				if strings.Contains(stderr, "listening on") {
					return stderr[:strings.Index(stderr, "listening on")] + strings.SplitAfter(stderr[strings.Index(stderr, "listening on"):], "\n")[0]
				}
				return stderr
			}
			if want, got := head(tcpdump), head(ours); want != got {
				t.Errorf("-i %s: watch says\n%s\ntcpdump says\n%s", arg, got, want)
			}
		})
	}
}

// TestWatchUnreadStdout: stopped while nobody reads its standard output
// (watch | sleep), watch still stops and prints its counts, every frame the
// filter passed accounted for.
func TestWatchUnreadStdout(t *testing.T) {
	labtest.RequireTool(t, "ping", "iputils-ping")
	ours := tcpdumpLink(t)
	l := labtest.New(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close() // never read until the end
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	watch := l.Host.Command(ctx, ours, "-nn", "-i", l.HostLink, "icmp")
	watch.Stdout = w
	wait := started(t, watch, "listening on")
	w.Close()
	// 64 KiB of pipe holds under a thousand lines: a bounded flood of
	// 4000 round trips fills it.
	if out, err := l.Host.Command(ctx, "ping", "-f", "-q", "-c", "4000", l.Target4.String()).CombinedOutput(); err != nil {
		t.Fatalf("ping -f: %v\n%s", err, out)
	}
	if err := watch.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	stderr, err := wait()
	if err != nil {
		t.Fatalf("watch: %v\n%s", err, stderr)
	}
	captured, received, dropped := liveCounts(t, stderr)
	if captured+dropped != received || received < 8000 {
		t.Errorf("%d captured + %d dropped, %d received by filter: want all 8000 frames accounted for", captured, dropped, received)
	}
}

// TestWatchBrokenPipe: when the reader of its lines goes away, watch stops
// as tcpdump does: "Unable to write output: Broken pipe", exit 14.
func TestWatchBrokenPipe(t *testing.T) {
	tcpdump := labtest.RequireTool(t, "tcpdump", "tcpdump")
	labtest.RequireTool(t, "ping", "iputils-ping")
	ours := tcpdumpLink(t)
	l := labtest.New(t)
	end := func(name string) (string, int) {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		cmd := l.Host.Command(ctx, name, "-nn", "-i", l.HostLink, "icmp")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		wait := started(t, cmd, "listening on")
		ping := l.Host.Command(ctx, "ping", "-i", "0.05", "-c", "100", l.Target4.String())
		if err := ping.Start(); err != nil {
			t.Fatal(err)
		}
		defer ping.Wait()
		defer ping.Process.Kill()
		bufio.NewReader(out).ReadString('\n')
		out.Close()
		stderr, err := wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("%s: %v, want an exit code\n%s", name, err, stderr)
		}
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		return lines[len(lines)-1], exit.ExitCode()
	}
	want, wantCode := end(tcpdump)
	got, code := end(ours)
	if got != want || code != wantCode {
		t.Errorf("watch: %q, exit %d; tcpdump: %q, exit %d", got, code, want, wantCode)
	}
}

// TestWatchRelinquish: once its capture is open, watch keeps no capability
// and no way to regain one (no_new_privs); with -Z it becomes that user,
// as tcpdump -Z does; it still captures.
func TestWatchRelinquish(t *testing.T) {
	labtest.RequireTool(t, "ping", "iputils-ping")
	ours := tcpdumpLink(t)
	l := labtest.New(t)
	for _, tc := range []struct {
		args []string
		uid  string
	}{
		{nil, "0"},
		{[]string{"-Z", "nobody"}, "65534"},
	} {
		t.Run(fmt.Sprint(tc.args), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			var out strings.Builder
			watch := l.Host.Command(ctx, ours, append([]string{"-nn", "-t", "-i", l.HostLink, "-c", "2", "icmp"}, tc.args...)...)
			watch.Stdout = &out
			wait := started(t, watch, "listening on")
			status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", watch.Process.Pid))
			if err != nil {
				t.Fatal(err)
			}
			fields := map[string]string{}
			for _, line := range strings.Split(string(status), "\n") {
				if k, v, ok := strings.Cut(line, ":"); ok {
					fields[k] = strings.TrimSpace(v)
				}
			}
			for k, want := range map[string]string{"CapEff": "0000000000000000", "CapPrm": "0000000000000000", "NoNewPrivs": "1"} {
				if fields[k] != want {
					t.Errorf("%s: %s, want %s", k, fields[k], want)
				}
			}
			if uid := strings.Fields(fields["Uid"]); len(uid) != 4 || uid[0] != tc.uid || uid[3] != tc.uid {
				t.Errorf("Uid: %s, want %s throughout", fields["Uid"], tc.uid)
			}
			if out, err := l.Host.Command(ctx, "ping", "-c", "1", l.Target4.String()).CombinedOutput(); err != nil {
				t.Fatalf("ping: %v\n%s", err, out)
			}
			if stderr, err := wait(); err != nil {
				t.Fatalf("watch: %v\n%s", err, stderr)
			}
			if n := strings.Count(out.String(), "\n"); n != 2 {
				t.Errorf("watch printed %d lines after giving up its privileges, want 2:\n%s", n, out.String())
			}
		})
	}
}
