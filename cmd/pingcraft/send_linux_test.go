package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pingcraft/pingcraft/lab"
	"github.com/pingcraft/pingcraft/lab/labtest"
)

var (
	builtOnce sync.Once
	builtPath string
	builtErr  error
)

// pingcraftBinary builds pingcraft once per test binary, world-readable so that an
// unprivileged user can run it too.
func pingcraftBinary(t *testing.T) string {
	t.Helper()
	builtOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pingcraft-bin-")
		if err != nil {
			builtErr = err
			return
		}
		os.Chmod(dir, 0o755)
		builtPath = filepath.Join(dir, "pingcraft")
		if out, err := exec.Command("go", "build", "-o", builtPath, ".").CombinedOutput(); err != nil {
			builtErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if builtErr != nil {
		t.Fatal(builtErr)
	}
	return builtPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtPath != "" {
		os.RemoveAll(filepath.Dir(builtPath))
	}
	os.Exit(code)
}

var (
	rttField   = regexp.MustCompile(`time=[0-9.]+ ms`)
	totalTime  = regexp.MustCompile(`time [0-9]+ms`)
	rttSummary = regexp.MustCompile(`(?m)^rtt min/avg/max/mdev = .*$`)
)

// normalise blanks what differs between any two runs: times.
func normalise(s string) string {
	s = rttField.ReplaceAllString(s, "time=T ms")
	s = totalTime.ReplaceAllString(s, "time Tms")
	return rttSummary.ReplaceAllString(s, "rtt min/avg/max/mdev = T")
}

// signalAt starts cmd, sends it sig once a line of its stdout contains
// at, and returns its stdout and stderr once it exits.
func signalAt(t *testing.T, cmd *exec.Cmd, at string, sig os.Signal) (string, string, error) {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	lines := bufio.NewScanner(stdout)
	signalled := false
	for lines.Scan() {
		out.WriteString(lines.Text() + "\n")
		if !signalled && strings.Contains(lines.Text(), at) {
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			signalled = true
		}
	}
	err = cmd.Wait()
	if !signalled {
		t.Errorf("no line with %q: never signalled", at)
	}
	return out.String(), stderr.String(), err
}

// inHost runs a command in the lab host; as, when set, is the user to run
// it as (through setpriv).
func inHost(t *testing.T, l *lab.Lab, as string, name string, args ...string) (string, string, int) {
	t.Helper()
	if as != "" {
		args = append([]string{"--reuid=" + as, "--regid=" + as, "--clear-groups", name}, args...)
		name = "setpriv"
	}
	cmd := l.Host.Command(context.Background(), name, args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("%s %v: %v", name, args, err)
		}
		code = ee.ExitCode()
	}
	return out.String(), errb.String(), code
}

func setPingGroups(t *testing.T, n *lab.Node, rng string) {
	t.Helper()
	if err := n.Do(func() error {
		return os.WriteFile("/proc/sys/net/ipv4/ping_group_range", []byte(rng), 0o644)
	}); err != nil {
		t.Fatal(err)
	}
}

// TestSendMatchesIputils: for the same target in the same lab, pingcraft's
// output equals iputils ping's once times are blanked: counts, loss, TTLs,
// error lines, every byte of the rest.
func TestSendMatchesIputils(t *testing.T) {
	labtest.RequireRoot(t)
	bin := pingcraftBinary(t)
	for _, mode := range []string{"ethernet", "ip", "raw", "dgram"} {
		for _, six := range []bool{false, true} {
			// Not parallel: ICMP errors come from one machine-wide token
			// bucket (icmp_msgs_burst), which parallel runs would drain.
			t.Run(fmt.Sprintf("%s/v6=%v", mode, six), func(t *testing.T) {
				l := labtest.New(t)
				setPingGroups(t, l.Host, "0 2147483647")
				target, unreach := l.Target4.String(), l.Unreachable4.Addr().Next().String()
				if six {
					target, unreach = l.Target6.String(), l.Unreachable6.Addr().Next().String()
				}
				for _, tc := range []struct {
					name     string
					args     []string
					wantCode int
				}{
					{"replies", []string{"-c", "3", "-i", "0.2", target}, 0},
					{"TTL 1", []string{"-c", "3", "-i", "0.2", "-t", "1", target}, 1},
					// The router answers a peer's unreachable routes 5 times
					// a burst (route/error_burst): 2 each for ping and us.
					{"unreachable", []string{"-c", "2", "-i", "0.2", unreach}, 1},
					{"size and TOS", []string{"-c", "2", "-i", "0.2", "-s", "1200", "-Q", "0x10", target}, 0},
				} {
					args := append([]string{"-W", "2"}, tc.args...)
					want, _, wcode := inHost(t, l, "", "ping", args...)
					got, stderr, gcode := inHost(t, l, "", bin, append([]string{"send", "--mode", mode}, args...)...)
					if gcode != tc.wantCode || wcode != tc.wantCode {
						t.Errorf("%s: exit %d (iputils %d), want %d; stderr %q", tc.name, gcode, wcode, tc.wantCode, stderr)
					}
					if diff := cmp.Diff(normalise(want), normalise(got)); diff != "" {
						t.Errorf("%s: output differs from iputils ping (-ping +pingcraft):\n%s", tc.name, diff)
					}
				}
			})
		}
	}
}

// TestSendUnprivileged runs pingcraft as nobody: with ping_group_range open
// auto picks the ping socket and works; closed, it fails in one line that
// names the three fixes and the current range.
func TestSendUnprivileged(t *testing.T) {
	labtest.RequireRoot(t)
	bin := pingcraftBinary(t)
	l := labtest.New(t)
	nobody := "65534"

	setPingGroups(t, l.Host, "0 2147483647")
	out, stderr, code := inHost(t, l, nobody, bin, "send", "-v", "-c", "2", "-i", "0.2", l.Target4.String())
	if code != 0 || !strings.Contains(out, "transport dgram") || !strings.Contains(out, "2 packets transmitted, 2 received") {
		t.Errorf("open range: exit %d\n%s%s", code, out, stderr)
	}
	_, stderr, code = inHost(t, l, nobody, bin, "send", "-c", "2", "-i", "0.001", l.Target4.String())
	if code != 2 || !strings.Contains(stderr, "ping: cannot flood; minimal interval allowed for user is 2ms") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("-i 0.001 unprivileged: exit %d, stderr %q", code, stderr)
	}

	setPingGroups(t, l.Host, "1 0")
	out, stderr, code = inHost(t, l, nobody, bin, "send", "-c", "1", l.Target4.String())
	for _, want := range []string{"run as root", "setcap cap_net_raw+ep", `ping_group_range (now "1 0")`} {
		if !strings.Contains(stderr, want) {
			t.Errorf("closed range: stderr %q lacks %q", stderr, want)
		}
	}
	if code != 2 || strings.Count(stderr, "\n") != 1 || out != "" {
		t.Errorf("closed range: exit %d, stdout %q, stderr %q: want exit 2 and one line", code, out, stderr)
	}
}

// TestSendWithoutCgo: a binary built with CGO_ENABLED=0 has no ring (the
// TPACKET ring needs cgo), so auto falls back to the raw socket, and as
// nobody on to the ping socket: send works either way, both families.
func TestSendWithoutCgo(t *testing.T) {
	labtest.RequireRoot(t)
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		os.Chmod(d, 0o755)
	}
	bin := filepath.Join(dir, "pingcraft")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build without cgo: %v\n%s", err, out)
	}
	l := labtest.New(t)
	setPingGroups(t, l.Host, "0 2147483647")
	for _, tc := range []struct{ as, transport string }{{"", "raw"}, {"65534", "dgram"}} {
		for _, target := range []string{l.Target4.String(), l.Target6.String()} {
			out, stderr, code := inHost(t, l, tc.as, bin, "send", "-v", "-c", "2", "-i", "0.2", target)
			if code != 0 || !strings.Contains(out, "transport "+tc.transport+":") || !strings.Contains(out, "2 packets transmitted, 2 received") {
				t.Errorf("user %q, %s: exit %d, want transport %s and 2 replies:\n%s%s", tc.as, target, code, tc.transport, out, stderr)
			}
		}
	}
}

// TestSendStatus: SIGQUIT prints iputils' status line on stderr and the run
// goes on to its end, every probe answered.
func TestSendStatus(t *testing.T) {
	labtest.RequireRoot(t)
	bin := pingcraftBinary(t)
	l := labtest.New(t)
	cmd := l.Host.Command(t.Context(), bin, "send", "-c", "5", "-i", "0.2", l.Target4.String())
	// ip netns exec execs pingcraft in place: the pid is its.
	out, stderr, err := signalAt(t, cmd, "icmp_seq=2 ", syscall.SIGQUIT)
	if err != nil {
		t.Fatalf("pingcraft send after SIGQUIT: %v\n%s%s", err, out, stderr)
	}
	status := regexp.MustCompile(`^\r[23]/[23] packets, 0% loss, min/avg/ewma/max = [0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+ ms\n$`)
	if !status.MatchString(stderr) {
		t.Errorf("stderr %q, want one status line", stderr)
	}
	if !strings.Contains(out, "5 packets transmitted, 5 received, 0% packet loss") {
		t.Errorf("the run did not go on to its end after SIGQUIT:\n%s", out)
	}
}

// TestSendBadInput: one line in iputils' words (see TestPingArgumentErrors
// for every value iputils refuses), with its exit status; pingcraft's own
// refusals (a mode a link cannot carry) name the fix.
func TestSendBadInput(t *testing.T) {
	labtest.RequireRoot(t)
	bin := pingcraftBinary(t)
	l := labtest.New(t)
	target := l.Target4.String()
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-I", "nosuch0", target}, 2, "ping: SO_BINDTODEVICE nosuch0: No such device"},
		{[]string{"-I", "198.18.9.9", target}, 2, "ping: bind: Cannot assign requested address"},
		{[]string{"no-such-host.invalid"}, 2, "ping: no-such-host.invalid: Temporary failure in name resolution"}, // the lab has no resolver, as iputils says,
		{[]string{"-c", "0", target}, 1, "ping: invalid argument: '0': out of range: 1 <= value <= 9223372036854775807"},
		{[]string{"-c", "-3", target}, 1, "ping: invalid argument: '-3': out of range"},
		{[]string{"-p", "zz", target}, 2, "ping: patterns must be specified as hex digits: zz"},
		{[]string{"--mode", "bogus", target}, 2, `mode "bogus"`},
		{[]string{"-t", "0", target}, 2, "ping: cannot set unicast time-to-live: Invalid argument"},
		{[]string{"-s", "70000", target}, 2, "-s 70000"},
		{[]string{"--mode", "ethernet", "127.0.0.1"}, 2, "drops frames injected on loopback"},
		{[]string{"--mode", "dgram", "-R", target}, 2, "record route and timestamp options (-R, -T) need a raw socket"},
		{[]string{}, 1, "ping: usage error: Destination address required"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, stderr, code := inHost(t, l, "", bin, append([]string{"send"}, tt.args...)...)
			if code != tt.code || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tt.want) || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q: want exit %d and one line containing %q", code, out, stderr, tt.code, tt.want)
			}
		})
	}
}

// TestSendDropsCapabilities reads a running send's capability sets: once
// its sockets are open every thread must hold none, root or not, and have
// no_new_privs set, so that nothing it could exec regains privilege.
func TestSendDropsCapabilities(t *testing.T) {
	labtest.RequireRoot(t)
	bin := pingcraftBinary(t)
	l := labtest.NewPrefixed(t, "rb-")
	cmd := l.Host.Command(context.Background(), bin, "send", "-c", "20", "-i", "0.05", l.Target4.String())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(out)
	for lines.Scan() && !strings.Contains(lines.Text(), "bytes from") {
	}
	// `ip netns exec` execs the command: the PID is pingcraft's.
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", cmd.Process.Pid))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("no tasks of pid %d: %v", cmd.Process.Pid, err)
	}
	for _, task := range tasks {
		b, err := os.ReadFile(task)
		if err != nil {
			continue // the thread ended
		}
		want := map[string]string{"CapEff:": "0000000000000000", "CapPrm:": "0000000000000000", "NoNewPrivs:": "1"}
		for _, line := range strings.Split(string(b), "\n") {
			for field, v := range want {
				if strings.HasPrefix(line, field) {
					if got := strings.TrimSpace(strings.TrimPrefix(line, field)); got != v {
						t.Errorf("%s: %s, want %s", task, line, v)
					}
					delete(want, field)
				}
			}
		}
		if len(want) > 0 {
			t.Errorf("%s lacks %v", task, want)
		}
	}
	for lines.Scan() {
	}
}

// TestSendDryRun: --dry-run prints the probe at the mode's depth, decoded
// and in hex, and sends nothing: the target's kernel sees no echo.
func TestSendDryRun(t *testing.T) {
	labtest.RequireRoot(t)
	bin := pingcraftBinary(t)
	l := labtest.New(t)
	for _, tt := range []struct {
		mode, want string
	}{
		{"ethernet", "ethernet, 98 bytes: echo-request mac "},
		{"ip", "ip, 84 bytes: echo-request ethertype 0x0800 ip4 198.18.0.2>198.18.1.2 ttl 64"},
		{"raw", "icmp, 64 bytes: echo-request icmp type 8 code 0 sum "},
	} {
		out, stderr, code := inHost(t, l, "", bin, "send", "--dry-run", "--mode", tt.mode, "--id", "7", l.Target4.String())
		if code != 0 || !strings.Contains(out, tt.want) || !strings.Contains(out, "id 7 seq 1 data 56") || !strings.Contains(out, "00000000  ") {
			t.Errorf("--mode %s: exit %d, stderr %q, output:\n%s", tt.mode, code, stderr, out)
		}
	}
	if n := icmpEchoesIn(t, l.Target); n != 0 {
		t.Errorf("the target received %d echo requests from a dry run", n)
	}
}

// icmpEchoesIn reads how many ICMP echo requests n's kernel received.
func icmpEchoesIn(t *testing.T, n *lab.Node) int {
	t.Helper()
	out, err := n.Command(context.Background(), "nstat", "-az", "IcmpInEchos").Output()
	if err != nil {
		t.Fatalf("nstat: %v", err)
	}
	var v int
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "IcmpInEchos" {
			fmt.Sscan(f[1], &v)
		}
	}
	return v
}
