package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pingcraft/pingcraft/lab"
	"github.com/pingcraft/pingcraft/lab/labtest"
)

// asPing installs pingcraft's links in a directory of their own and
// returns a PATH with that directory first: "ping" is then pingcraft, as a
// user who installed the links gets it.
func asPing(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	if out, err := exec.Command(pingcraftBinary(t), "install-links", dir).CombinedOutput(); err != nil {
		t.Fatalf("install-links: %v\n%s", err, out)
	}
	return dir + ":" + os.Getenv("PATH")
}

// pingIn runs ping with PATH in n (iputils' ping when path is the usual
// one, pingcraft's link when asPing made it) and returns its stdout,
// stderr and exit status.
func pingIn(t *testing.T, n *lab.Node, path string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := n.Command(ctx, "env", append([]string{"PATH=" + path, "LC_ALL=C", "ping"}, args...)...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("ping %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// TestSendIputilsSuite runs the argument lists of iputils' own ping tests
// (its meson test definitions: each list and whether it should fail), as
// root on the lab host's loopback, with iputils' ping and with pingcraft
// installed as ping: pingcraft must pass every one iputils passes here,
// and fail the same ones.
func TestSendIputilsSuite(t *testing.T) {
	labtest.RequireRoot(t)
	labtest.RequireTool(t, "ping", "iputils-ping")
	l := labtest.New(t)
	system, ours := os.Getenv("PATH"), asPing(t)
	type test struct {
		args       []string
		shouldFail bool
	}
	tests := []test{{[]string{"-V"}, false}}
	for _, dst := range []string{"localhost", "127.0.0.1", "::1"} {
		for _, sw := range []string{"", "-4", "-6"} {
			args := []string{"-c1", dst}
			if sw != "" {
				args = append([]string{sw}, args...)
			}
			tests = append(tests, test{args, sw == "-4" && dst == "::1" || sw == "-6" && dst == "127.0.0.1"})
		}
	}
	for _, dst := range []string{"127.0.0.1", "::1"} {
		for _, opts := range [][]string{{"-c1"}, {"-c5", "-i0.1"}, {"-c1", "-I", "lo"}, {"-c1", "-w1"}, {"-c1", "-W1"}, {"-c1", "-W1.1"}} {
			tests = append(tests, test{append(opts, dst), false})
		}
		for _, opts := range [][]string{{"-c1.1"}, {"-I", "nonexisting"}, {"-w0.1"}, {"-w0,1"}} {
			tests = append(tests, test{append(opts, dst), true})
		}
		tests = append(tests, test{[]string{"-c1", "-i0.001", dst}, false}) // as root
	}
	var realPassed, oursPassed int
	for _, tt := range tests {
		_, rerr, rcode := pingIn(t, l.Host, system, tt.args...)
		_, perr, pcode := pingIn(t, l.Host, ours, tt.args...)
		realOK, oursOK := (rcode != 0) == tt.shouldFail, (pcode != 0) == tt.shouldFail
		if realOK {
			realPassed++
		}
		if oursOK {
			oursPassed++
		}
		if realOK != oursOK {
			t.Errorf("ping %s: pingcraft exit %d (stderr %q), iputils exit %d (stderr %q)", strings.Join(tt.args, " "), pcode, perr, rcode, rerr)
		}
	}
	t.Logf("iputils' ping tests passed: iputils %d, pingcraft %d, of %d", realPassed, oursPassed, len(tests))
}

var (
	tsValue   = regexp.MustCompile(`(?m)^(TS: )?\t(([0-9.]+)\t)?-?[0-9]+( absolute)?$`)
	timeTotal = regexp.MustCompile(`time ([0-9]+)ms`)
)

// TestSendOptionsMatchIputils: option by option, pingcraft as ping prints
// what iputils' ping prints, on stdout and stderr, and exits as it does,
// once times are blanked.
func TestSendOptionsMatchIputils(t *testing.T) {
	labtest.RequireRoot(t)
	labtest.RequireTool(t, "ping", "iputils-ping")
	l := labtest.New(t)
	system, ours := os.Getenv("PATH"), asPing(t)
	blank := func(s string) string {
		return tsValue.ReplaceAllString(normalise(s), "${1}\t${2}N")
	}
	for _, args := range [][]string{
		{"-c2", "-i0.2", "-R", "127.0.0.1"},
		{"-c2", "-i0.2", "-T", "tsonly", "127.0.0.1"},
		{"-c2", "-i0.2", "-T", "tsandaddr", "127.0.0.1"},
		{"-c1", "-R", "::1"},
		{"-c2", "-i0.2", "-T", "tsprespec", "127.0.0.1"},
		{"-c2", "-i0.2", "-T", "tsprespec", "127.0.0.2", "127.0.0.1"},
		{"-c1", "-T", "tsprespec", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.1"},
		{"-c1", "-T", "tsprespec", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6", "127.0.0.1"},
		{"-c1", "-a", "127.0.0.1"},
		{"-c1", "-B", "127.0.0.1"},
		{"-c1", "-I", "127.0.0.1", "127.0.0.1"},
		{"-c1", "-I", "::1", "::1"},
		{"-c1", "-p", "ff", "127.0.0.1"},
		{"-c1", "-p", "abc", "::1"},
		{"-c1", "-s", "0", "127.0.0.1"},
		{"-c1", "-s", "8", "::1"},
		{"-c1", "-s", "16", "127.0.0.1"},
		{"-c1", "-l", "3", "127.0.0.1"},
		{"-c1", "localhost"},
		{"-c1", "-4", "localhost"},
		{"-c1", "-n", "localhost"},
		{"-c1", "-e", "77", "127.0.0.1"},
		{"-c1", "-m", "5", "127.0.0.1"},
		{"-c1", "-S", "5000", "127.0.0.1"},
		{"-c1", "-r", "127.0.0.1"},
		{"-c1", "-U", "-d", "-L", "-C", "127.0.0.1"},
		{"-c1", "-Q", "0x10", "-t", "9", "::1"},
		{"-c1", "-W1x", "127.0.0.1"},
		{"-c1", "-i0.5x", "127.0.0.1"},
		{"-c1", "-W0", "127.0.0.1"},
		{"-c1", "-t0", "127.0.0.1"},
		{"-c1", "-I", "nonexisting", "127.0.0.1"},
		{"-c1", "-I", "198.18.9.9", "127.0.0.1"},
		{"-c0", "127.0.0.1"},
		{"-w", "1.5", "127.0.0.1"},
		{"-6", "-4", "127.0.0.1"},
		{"-h"},
		{},
	} {
		name := strings.Join(args, " ")
		rout, rerr, rcode := pingIn(t, l.Host, system, args...)
		pout, perr, pcode := pingIn(t, l.Host, ours, args...)
		if pcode != rcode {
			t.Errorf("ping %s: exit %d, iputils %d", name, pcode, rcode)
		}
		if diff := cmp.Diff(blank(rout), blank(pout)); diff != "" {
			t.Errorf("ping %s: stdout (-iputils +pingcraft):\n%s", name, diff)
		}
		if diff := cmp.Diff(rerr, perr); diff != "" {
			t.Errorf("ping %s: stderr (-iputils +pingcraft):\n%s", name, diff)
		}
	}
}

// TestSendTimeAsIputils: the summary's time runs from the first probe sent
// to the last, as iputils counts it, not to the end of the wait for the
// last reply: within a few milliseconds of iputils' own.
func TestSendTimeAsIputils(t *testing.T) {
	labtest.RequireRoot(t)
	labtest.RequireTool(t, "ping", "iputils-ping")
	l := labtest.New(t)
	system, ours := os.Getenv("PATH"), asPing(t)
	total := func(out string) int {
		m := timeTotal.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no total time in %q", out)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	for _, args := range [][]string{{"-c1", "127.0.0.1"}, {"-c5", "-i0.1", "127.0.0.1"}, {"-c3", "-i0.2", "::1"}} {
		rout, _, _ := pingIn(t, l.Host, system, args...)
		pout, _, _ := pingIn(t, l.Host, ours, args...)
		// iputils' millisecond timer drifts a few per cent late.
		if r, p := total(rout), total(pout); p < r-3-r/20 || p > r+3 {
			t.Errorf("ping %s: time %dms, iputils %dms", strings.Join(args, " "), p, r)
		}
	}
}

// TestSendUnprivilegedFlood: a user without CAP_NET_RAW is refused an
// interval below 2 ms after the header, in iputils' words, exit 2.
func TestSendUnprivilegedFlood(t *testing.T) {
	labtest.RequireRoot(t)
	l := labtest.New(t)
	setPingGroups(t, l.Host, "0 2147483647")
	bin := pingcraftBinary(t)
	link := filepath.Join(filepath.Dir(bin), "ping")
	if err := os.Symlink(bin, link); err != nil && !os.IsExist(err) {
		t.Fatal(err)
	}
	out, stderr, code := inHost(t, l, "65534", link, "-c1", "-i0.001", "127.0.0.1")
	if code != 2 || out != "PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.\n" ||
		stderr != link+": cannot flood; minimal interval allowed for user is 2ms\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, stderr)
	}
}

// TestSendMTULearntMidRun: with -M do, a path MTU that drops during the run
// (here a route with a smaller MTU, as an ICMP "fragmentation needed" would
// leave it) makes the kernel refuse the next probes with EMSGSIZE: each is a
// local error line naming the new MTU, counted as an error, as iputils
// prints them, and the run goes on.
func TestSendMTULearntMidRun(t *testing.T) {
	labtest.RequireRoot(t)
	labtest.RequireTool(t, "ping", "iputils-ping")
	bin := pingcraftBinary(t)
	l := labtest.New(t)
	setPingGroups(t, l.Host, "0 2147483647")
	route := func(verb string) {
		args := []string{"route", verb, l.Target4.String() + "/32", "via", l.Router4.String()}
		if verb == "add" {
			args = append(args, "mtu", "1300")
		}
		if out, err := l.Host.Command(context.Background(), "ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v\n%s", args, err, out)
		}
	}
	// run starts the command and lowers the path MTU once the first reply
	// is printed; it returns stdout and stderr, the route put back.
	run := func(name string, args ...string) (string, string, int) {
		cmd := l.Host.Command(context.Background(), name, args...)
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
		buf := make([]byte, 4096)
		lowered := false
		for {
			n, err := stdout.Read(buf)
			out.Write(buf[:n])
			if !lowered && strings.Contains(out.String(), "bytes from") {
				route("add")
				lowered = true
			}
			if err != nil {
				break
			}
		}
		err = cmd.Wait()
		if lowered {
			route("del")
		}
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return out.String(), stderr.String(), code
	}
	args := []string{"-M", "do", "-s", "1400", "-c", "4", "-i", "0.3", l.Target4.String()}
	wantOut, wantErr, wantCode := run("ping", args...)
	if !strings.Contains(wantErr, "local error: message too long, mtu=1300") {
		t.Fatalf("iputils ping printed no local error: %q", wantErr)
	}
	for _, mode := range []string{"raw", "dgram"} {
		out, stderr, code := run(bin, append([]string{"send", "--mode", mode}, args...)...)
		if code != wantCode {
			t.Errorf("%s: exit %d, iputils %d", mode, code, wantCode)
		}
		if diff := cmp.Diff(wantErr, stderr); diff != "" {
			t.Errorf("%s: stderr (-iputils +pingcraft):\n%s", mode, diff)
		}
		if diff := cmp.Diff(normalise(wantOut), normalise(out)); diff != "" {
			t.Errorf("%s: stdout (-iputils +pingcraft):\n%s", mode, diff)
		}
	}
}

// TestSendIPOptionsEveryMode: record route and timestamps across the lab's
// router print what iputils prints, whether the option goes through the raw
// socket (IP_OPTIONS) or in the header pingcraft builds (ethernet, ip).
func TestSendIPOptionsEveryMode(t *testing.T) {
	labtest.RequireRoot(t)
	labtest.RequireTool(t, "ping", "iputils-ping")
	bin := pingcraftBinary(t)
	l := labtest.New(t)
	blank := func(s string) string {
		return tsValue.ReplaceAllString(normalise(s), "${1}\t${2}N")
	}
	for _, opt := range [][]string{{"-R"}, {"-T", "tsonly"}, {"-T", "tsandaddr"}} {
		args := append([]string{"-c", "2", "-i", "0.2", "-n"}, append(opt, l.Target4.String())...)
		want, _, wcode := inHost(t, l, "", "ping", args...)
		if !strings.Contains(want, l.Router4.String()) && opt[0] == "-R" {
			t.Fatalf("iputils ping %v recorded no router:\n%s", args, want)
		}
		for _, mode := range []string{"ethernet", "ip", "raw"} {
			got, stderr, gcode := inHost(t, l, "", bin, append([]string{"send", "--mode", mode}, args...)...)
			if gcode != wcode {
				t.Errorf("%s %v: exit %d, iputils %d; stderr %q", mode, opt, gcode, wcode, stderr)
			}
			if diff := cmp.Diff(blank(want), blank(got)); diff != "" {
				t.Errorf("%s %v: output (-iputils +pingcraft):\n%s", mode, opt, diff)
			}
		}
	}
}
