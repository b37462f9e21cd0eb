package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pingcraft/pingcraft/lab"
	"github.com/pingcraft/pingcraft/lab/labtest"
)

// started runs cmd and waits until its stderr says it listens, then keeps
// collecting stderr; the returned func waits for it and returns stderr.
func started(t *testing.T, cmd *exec.Cmd, listening string) func() (string, error) {
	t.Helper()
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	lines := bufio.NewScanner(errPipe)
	for lines.Scan() {
		stderr.WriteString(lines.Text() + "\n")
		if strings.Contains(lines.Text(), listening) {
			break
		}
	}
	rest := make(chan struct{})
	go func() {
		defer close(rest)
		io.Copy(&stderr, errPipe)
	}()
	return func() (string, error) {
		<-rest
		err := cmd.Wait()
		return stderr.String(), err
	}
}

// TestWatchPing: watch and tcpdump side by side on the host interface
// while iputils pings the target five times: the same ten lines.
func TestWatchPing(t *testing.T) {
	labtest.RequireTool(t, "tcpdump", "tcpdump")
	labtest.RequireTool(t, "ping", "iputils-ping")
	bin := pingcraftBinary(t)
	l := labtest.New(t)
	filter := []string{"icmp", "and", "host", l.Target4.String()}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	var watchOut, dumpOut strings.Builder
	watch := l.Host.Command(ctx, bin, append([]string{"watch", "-i", l.HostLink, "-n", "-t", "-c", "10"}, filter...)...)
	watch.Stdout = &watchOut
	waitWatch := started(t, watch, "listening on")
	dump := l.Host.Command(ctx, "tcpdump", append([]string{"-i", l.HostLink, "-n", "-t", "-c", "10", "-l"}, filter...)...)
	dump.Stdout = &dumpOut
	waitDump := started(t, dump, "listening on")

	if out, err := l.Host.Command(ctx, "ping", "-c", "5", "-i", "0.2", l.Target4.String()).CombinedOutput(); err != nil {
		t.Fatalf("ping: %v\n%s", err, out)
	}
	stderr, err := waitWatch()
	if err != nil {
		t.Fatalf("watch: %v\n%s", err, stderr)
	}
	if dstderr, err := waitDump(); err != nil {
		t.Fatalf("tcpdump: %v\n%s", err, dstderr)
	}
	got, want := watchOut.String(), dumpOut.String()
	if n := strings.Count(got, "\n"); n != 10 {
		t.Errorf("watch printed %d lines, want 10:\n%s", n, got)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("watch output (-tcpdump +watch):\n%s", diff)
	}
	if !strings.Contains(stderr, "10 packets captured\n") || !strings.Contains(stderr, "0 packets dropped by kernel\n") {
		t.Errorf("watch stderr:\n%s", stderr)
	}
}

var watchCounts = regexp.MustCompile(`(\d+) packets captured\n(\d+) packets received by filter\n(\d+) packets dropped by kernel\n`)

func counts(t *testing.T, stderr string) (captured, received, dropped int) {
	t.Helper()
	m := watchCounts.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no counts in stderr:\n%s", stderr)
	}
	captured, _ = strconv.Atoi(m[1])
	received, _ = strconv.Atoi(m[2])
	dropped, _ = strconv.Atoi(m[3])
	return captured, received, dropped
}

// TestWatchWriteInterrupted: -w from a live capture, stopped by SIGINT,
// leaves a file tshark reads whole, with every frame counted.
func TestWatchWriteInterrupted(t *testing.T) {
	labtest.RequireTool(t, "tshark", "tshark")
	labtest.RequireTool(t, "ping", "iputils-ping")
	bin := pingcraftBinary(t)
	l := labtest.New(t)
	for _, ng := range []bool{false, true} {
		name := map[bool]string{false: "pcap", true: "pcapng"}[ng]
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out."+name)
			args := []string{"watch", "-i", l.HostLink, "-w", path, "icmp"}
			if ng {
				args = append(args, "--pcapng")
				args[len(args)-1], args[len(args)-2] = args[len(args)-2], args[len(args)-1]
			}
			watch := l.Host.Command(t.Context(), bin, args...)
			wait := started(t, watch, "listening on")
			if out, err := l.Host.Command(t.Context(), "ping", "-c", "4", "-i", "0.2", l.Target4.String()).CombinedOutput(); err != nil {
				t.Fatalf("ping: %v\n%s", err, out)
			}
			if err := watch.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			stderr, err := wait()
			if err != nil {
				t.Fatalf("watch after SIGINT: %v\n%s", err, stderr)
			}
			captured, received, dropped := counts(t, stderr)
			if captured != 8 || received != 8 || dropped != 0 {
				t.Errorf("counts %d/%d/%d, want 8 captured, 8 received, 0 dropped", captured, received, dropped)
			}
			out, err := exec.Command("tshark", "-r", path, "-T", "fields", "-e", "frame.number").Output()
			if err != nil {
				t.Fatalf("tshark -r: %v\n%s", err, out)
			}
			if n := len(strings.Fields(string(out))); n != captured {
				t.Errorf("tshark reads %d frames, watch captured %d", n, captured)
			}
		})
	}
}

// TestWatchDrops: a bounded flood while watch prints to a slow reader.
// The ring drops; what watch reports adds up: every frame the filter
// passed (each request and each reply of the flood) was either captured
// or dropped.
func TestWatchDrops(t *testing.T) {
	labtest.RequireTool(t, "ping", "iputils-ping")
	bin := pingcraftBinary(t)
	l := labtest.New(t)
	watch := l.Host.Command(t.Context(), bin, "watch", "-i", l.HostLink, "-n", "-v", "-X", "icmp")
	stdout, err := watch.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	wait := started(t, watch, "listening on")
	slow := make(chan struct{})
	go func() {
		defer close(slow)
		buf := make([]byte, 4096)
		for {
			if _, err := stdout.Read(buf); err != nil {
				return
			}
			time.Sleep(200 * time.Microsecond)
		}
	}()
	out, err := l.Host.Command(t.Context(), "ping", "-f", "-c", "50000", "-q", l.Target4.String()).CombinedOutput()
	if err != nil {
		t.Fatalf("ping -f: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(\d+) packets transmitted, (\d+) received`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("ping summary:\n%s", out)
	}
	sent, _ := strconv.Atoi(m[1])
	replies, _ := strconv.Atoi(m[2])
	time.Sleep(100 * time.Millisecond) // the last frames reach the ring
	if err := watch.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	stderr, err := wait()
	<-slow
	if err != nil {
		t.Fatalf("watch: %v\n%s", err, stderr)
	}
	captured, received, dropped := counts(t, stderr)
	t.Logf("flood of %d requests, %d replies: watch captured %d, received by filter %d, dropped %d", sent, replies, captured, received, dropped)
	if received != sent+replies {
		t.Errorf("received by filter %d, want %d requests + %d replies", received, sent, replies)
	}
	if captured+dropped != received {
		t.Errorf("captured %d + dropped %d != received by filter %d", captured, dropped, received)
	}
	if dropped == 0 {
		t.Errorf("no drops behind a slow reader: the test proves nothing")
	}
}

// TestWatchFile: -r prints what tcpdump prints for the same file and filter,
// and the same first line on stderr.
func TestWatchFile(t *testing.T) {
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		labtest.RequireTool(t, "tcpdump", "tcpdump")
	}
	for _, args := range [][]string{
		{"-n", "-r", "../../fixtures/echo.pcap"},
		{"-n", "-v", "-r", "../../fixtures/icmp4-errors.pcap", "icmp"},
		{"-n", "-e", "-r", "../../fixtures/vlan.pcap", "vlan"},
		{"-n", "-r", "../../fixtures/link-raw.pcap"},
		{"-n", "-r", "../../fixtures/link-sll.pcap", "icmp"},
		{"-n", "-tt", "-c", "3", "-r", "../../fixtures/link-sll2.pcap", "icmp6"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			dump := exec.Command(tcpdump, args...)
			var dumpErr strings.Builder
			dump.Stderr = &dumpErr
			want, err := dump.Output()
			if err != nil {
				t.Fatalf("tcpdump: %v", err)
			}
			var got, stderr strings.Builder
			code := run(t.Context(), append([]string{"pingcraft", "watch"}, args...), &got, &stderr)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			if diff := cmp.Diff(string(want), got.String()); diff != "" {
				t.Errorf("watch (-tcpdump +watch):\n%s", diff)
			}
			first := func(s string) string { line, _, _ := strings.Cut(s, "\n"); return line }
			if diff := cmp.Diff(first(dumpErr.String()), first(stderr.String())); diff != "" {
				t.Errorf("first line on stderr (-tcpdump +watch):\n%s", diff)
			}
		})
	}
}

// TestWatchBadInput: one line, exit 2, no file left behind.
func TestWatchBadInput(t *testing.T) {
	labtest.RequireRoot(t)
	l := labtest.New(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "never.pcap")
	// Usage errors exit 2; what libpcap refuses exits 1, in tcpdump's words.
	for _, tc := range []struct {
		name string
		args []string
		want string
		code int
	}{
		{"bad filter", []string{"watch", "-i", l.HostLink, "-w", out, "icmp", "and", "nonsense"}, "tcpdump: syntax error in filter expression", 1},
		{"no interface", []string{"watch", "-i", "nosuch0", "-w", out}, "interface nosuch0", 1},
		{"missing file", []string{"watch", "-r", filepath.Join(dir, "missing.pcap")}, "tcpdump: " + filepath.Join(dir, "missing.pcap") + ": No such file or directory", 1},
		{"zero count", []string{"watch", "-c", "0", "-r", "../../fixtures/echo.pcap"}, "-c 0", exitError},
		{"bad filter on file", []string{"watch", "-r", "../../fixtures/echo.pcap", "icmp["}, "tcpdump: can't parse filter expression: syntax error", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			code := 0
			if err := l.Host.Do(func() error {
				code = run(context.Background(), append([]string{"pingcraft"}, tc.args...), &stdout, &stderr)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			msg := stderr.String()
			if strings.HasPrefix(msg, "reading from file") {
				_, msg, _ = strings.Cut(msg, "\n") // tcpdump's first line comes before the filter's error
			}
			if code != tc.code || !strings.Contains(msg, tc.want) || strings.Count(msg, "\n") != 1 {
				t.Errorf("exit %d, stderr %q: want exit %d and one line containing %q", code, msg, tc.code, tc.want)
			}
			if matches, _ := filepath.Glob(filepath.Join(dir, "*")); len(matches) != 0 {
				t.Errorf("left behind: %v", matches)
			}
		})
	}
}

// TestWatchJSON: one object per frame in the v1 scheme, fields from craft's
// decoding, through -r, filters and -c.
func TestWatchJSON(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"every frame", []string{"--json", "-r", "../../fixtures/checksums.pcap"}, []string{
			`{"v":1,"event":"frame","time":"2026-01-01T00:00:00.000000000Z","bytes":60,"captured_bytes":60,"class":"echo-request","src":"192.168.50.161","dst":"1.1.1.1","ttl":64,"id":69,"seq":420,"ip_checksum":{"got":"0x8592","want":"0x8592","status":"good"},"icmp_checksum":{"got":"0xf210","want":"0xf210","status":"good"}}`,
			`{"v":1,"event":"frame","time":"2026-01-01T00:00:00.001000000Z","bytes":60,"captured_bytes":60,"class":"echo-request","src":"192.168.50.161","dst":"1.1.1.1","ttl":64,"id":69,"seq":420,"ip_checksum":{"got":"0x8592","want":"0x8592","status":"good"},"icmp_checksum":{"got":"0xf616","want":"0xf210","status":"bad"}}`,
			`{"v":1,"event":"frame","time":"2026-01-01T00:00:00.002000000Z","bytes":60,"captured_bytes":60,"class":"echo-request","src":"192.168.50.161","dst":"1.1.1.1","ttl":64,"id":69,"seq":420,"ip_checksum":{"got":"0xd0c7","want":"0x8592","status":"bad"},"icmp_checksum":{"got":"0xf210","want":"0xf210","status":"good"}}`,
			`{"v":1,"event":"frame","time":"2026-01-01T00:00:00.003000000Z","bytes":118,"captured_bytes":118,"class":"echo-request","src":"fd00:198:18::2","dst":"fd00:198:18:1::2","ttl":64,"id":28771,"seq":4,"icmp_checksum":{"got":"0x11ef","want":"0x6a6c","status":"bad"}}`,
			`{"v":1,"event":"frame","time":"2026-01-01T00:00:00.004000000Z","bytes":98,"captured_bytes":98,"class":"echo-request","src":"198.18.0.2","dst":"198.18.1.2","ttl":64,"id":28771,"seq":40450,"ip_checksum":{"got":"0x0f7e","want":"0x0f7e","status":"good"},"icmp_checksum":{"got":"0xffff","want":"0x0000","status":"good"}}`,
			`{"v":1,"event":"frame","time":"2026-01-01T00:00:00.005000000Z","bytes":118,"captured_bytes":118,"class":"echo-request","src":"fd00:198:18::2","dst":"fd00:198:18:1::2","ttl":64,"id":28771,"seq":6,"icmp_checksum":{"got":"0xe5cb","want":"0xe5cb","status":"good"}}`,
		}},
		{"filtered and counted", []string{"--json", "-c", "1", "-r", "../../fixtures/truncated.pcap", "icmp6"}, []string{
			`{"v":1,"event":"frame","time":"2026-01-01T00:00:00.001000000Z","bytes":118,"captured_bytes":64,"class":"echo-reply","src":"fd00:198:18:1::2","dst":"fd00:198:18::2","ttl":63,"id":28771,"seq":2,"icmp_checksum":{"got":"0xee0c","status":"unverified"},"truncated":true}`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, stderr strings.Builder
			if code := run(t.Context(), append([]string{"pingcraft", "watch"}, tt.args...), &out, &stderr); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("watch %s (-want +got):\n%s", strings.Join(tt.args, " "), diff)
			}
		})
	}
}

// TestWatchListInterfaces: -D prints what tcpdump -D prints, pseudo-devices
// and flags included, in the root namespace and in the lab's, where the
// target also has a veth pair with one end up (Disconnected: its peer is
// down) and one down ("none, Disconnected").
func TestWatchListInterfaces(t *testing.T) {
	tcpdump := labtest.RequireTool(t, "tcpdump", "tcpdump")
	bin := pingcraftBinary(t)
	l := labtest.New(t)
	for _, args := range [][]string{
		{"ip", "link", "add", "wlvv0", "type", "veth", "peer", "name", "wlvv1"},
		{"ip", "link", "set", "wlvv0", "up"},
	} {
		if out, err := l.Target.Command(t.Context(), args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	cmds := map[string]func(string, ...string) *exec.Cmd{
		"root": func(name string, args ...string) *exec.Cmd { return exec.CommandContext(t.Context(), name, args...) },
	}
	for _, n := range []*lab.Node{l.Host, l.Router, l.Target} {
		cmds[n.Name] = func(name string, args ...string) *exec.Cmd { return n.Command(t.Context(), name, args...) }
	}
	for ns, command := range cmds {
		t.Run(ns, func(t *testing.T) {
			want, err := command(tcpdump, "-D").Output()
			if err != nil {
				t.Fatalf("tcpdump -D: %v", err)
			}
			for _, args := range [][]string{{"watch", "-D"}, {"tcpdump", "--list-interfaces"}} {
				got, err := command(bin, args...).Output()
				if err != nil {
					t.Fatalf("%v: %v", args, err)
				}
				if diff := cmp.Diff(string(want), string(got)); diff != "" {
					t.Errorf("%v (-tcpdump +pingcraft):\n%s", args, diff)
				}
			}
			if ns == l.Target.Name && !strings.Contains(string(want), "wlvv0 [Up, Disconnected]\n") {
				t.Errorf("tcpdump -D in the target lists no veth up and disconnected: the test proves less than it says:\n%s", want)
			}
		})
	}
}

// TestWatchDefaultInterface: without -i, watch listens where tcpdump does
// (the first of pcap_findalldevs's list) and says so in tcpdump's words, in
// the lab's namespaces and in one of the test's own with only lo up, where
// both pick "any". Nothing is sent: both are stopped by SIGINT.
func TestWatchDefaultInterface(t *testing.T) {
	tcpdump := labtest.RequireTool(t, "tcpdump", "tcpdump")
	bin := pingcraftBinary(t)
	l := labtest.New(t)
	// The test's own namespace, named for the lab so that runs never clash.
	loOnly := &lab.Node{Name: "wlv-" + l.ID}
	if out, err := exec.Command("ip", "netns", "add", loOnly.Name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", loOnly.Name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del: %v\n%s", err, out)
		}
	})
	if out, err := loOnly.Command(t.Context(), "ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v\n%s", err, out)
	}
	// head is stderr up to its "listening on" line.
	head := func(t *testing.T, n *lab.Node, name string, args ...string) string {
		cmd := n.Command(t.Context(), name, args...)
		wait := started(t, cmd, "listening on")
		if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		stderr, err := wait()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, stderr)
		}
		i := strings.Index(stderr, "listening on")
		if i < 0 {
			t.Fatalf("%s %v: no listening line:\n%s", name, args, stderr)
		}
		end := strings.IndexByte(stderr[i:], '\n')
		return stderr[:i+end+1]
	}
	for _, n := range []*lab.Node{l.Host, l.Router, loOnly} {
		for _, args := range [][]string{{"-n"}, {"-n", "-v"}, {"-n", "-w", "/dev/null"}} {
			t.Run(n.Name+" "+strings.Join(args, " "), func(t *testing.T) {
				want := head(t, n, tcpdump, args...)
				got := head(t, n, bin, append([]string{"watch"}, args...)...)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("stderr (-tcpdump +watch):\n%s", diff)
				}
				if n == loOnly && !strings.Contains(want, "listening on any,") {
					t.Errorf("tcpdump did not pick any where only lo is up: the test proves less than it says:\n%s", want)
				}
			})
		}
	}
}

// TestWatchPromisc: watch puts the interface in promiscuous mode as tcpdump
// does (the kernel's promiscuity count, as ip -d link shows it, one up while
// it runs), -p does not, -i any leaves the count alone as tcpdump's libpcap
// does, and the count is back where it was once each has exited.
func TestWatchPromisc(t *testing.T) {
	tcpdump := labtest.RequireTool(t, "tcpdump", "tcpdump")
	bin := pingcraftBinary(t)
	l := labtest.New(t)
	promiscuity := func(t *testing.T) int {
		t.Helper()
		out, err := l.Host.Command(t.Context(), "ip", "-d", "link", "show", l.HostLink).Output()
		if err != nil {
			t.Fatalf("ip -d link show: %v", err)
		}
		m := regexp.MustCompile(`promiscuity (\d+)`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("no promiscuity in ip -d link show:\n%s", out)
		}
		n, _ := strconv.Atoi(string(m[1]))
		return n
	}
	// while is the count while name args runs.
	while := func(t *testing.T, name string, args ...string) int {
		t.Helper()
		cmd := l.Host.Command(t.Context(), name, args...)
		wait := started(t, cmd, "listening on")
		n := promiscuity(t)
		if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		if stderr, err := wait(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, stderr)
		}
		return n
	}
	before := promiscuity(t)
	for _, tc := range []struct {
		args []string
		up   int // what the count goes up by
	}{
		{[]string{"-i", l.HostLink}, 1},
		{[]string{"-p", "-i", l.HostLink}, 0},
		{[]string{"-i", "any"}, 0},
		{[]string{"-p", "-i", "any"}, 0},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			want := while(t, tcpdump, tc.args...)
			got := while(t, bin, append([]string{"watch"}, tc.args...)...)
			if got != want || got != before+tc.up {
				t.Errorf("promiscuity while watch runs %d, while tcpdump runs %d, before both %d: want %d", got, want, before, before+tc.up)
			}
			if after := promiscuity(t); after != before {
				t.Errorf("promiscuity %d after watch exited, %d before", after, before)
			}
		})
	}
}

// TestWatchPrintWrite: -w with --print writes the file tcpdump writes, byte
// for byte, and prints the lines it prints; -w - with --print is refused.
func TestWatchPrintWrite(t *testing.T) {
	tcpdump := labtest.RequireTool(t, "tcpdump", "tcpdump")
	for _, args := range [][]string{
		{"-n", "-r", "../../fixtures/echo.pcap"},
		{"-n", "-v", "-r", "../../fixtures/link-sll2.pcap", "icmp6"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			dir := t.TempDir()
			wantFile, gotFile := filepath.Join(dir, "tcpdump.pcap"), filepath.Join(dir, "watch.pcap")
			want, err := exec.Command(tcpdump, append([]string{"--print", "-w", wantFile}, args...)...).Output()
			if err != nil {
				t.Fatalf("tcpdump: %v", err)
			}
			var got, stderr strings.Builder
			if code := run(t.Context(), append([]string{"pingcraft", "watch", "--print", "-w", gotFile}, args...), &got, &stderr); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			if diff := cmp.Diff(string(want), got.String()); diff != "" {
				t.Errorf("lines (-tcpdump +watch):\n%s", diff)
			}
			if len(want) == 0 {
				t.Errorf("tcpdump printed nothing: the test proves nothing")
			}
			wb, err := os.ReadFile(wantFile)
			if err != nil {
				t.Fatal(err)
			}
			gb, err := os.ReadFile(gotFile)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(wb, gb) {
				t.Errorf("watch wrote %d bytes, tcpdump %d, not the same", len(gb), len(wb))
			}
		})
	}
	var stdout, stderr strings.Builder
	code := run(t.Context(), []string{"pingcraft", "watch", "--print", "-w", "-", "-r", "../../fixtures/echo.pcap"}, &stdout, &stderr)
	if code != exitError || stdout.Len() != 0 || !strings.Contains(stderr.String(), "--print with -w -") {
		t.Errorf("--print -w -: exit %d, stdout %d bytes, stderr %q", code, stdout.Len(), stderr.String())
	}
}

// TestWatchLineBuffered: with -l (and with --print -w), each line reaches a
// pipe while the capture still runs, as tcpdump -l's do, and they are
// tcpdump's lines.
func TestWatchLineBuffered(t *testing.T) {
	tcpdump := labtest.RequireTool(t, "tcpdump", "tcpdump")
	labtest.RequireTool(t, "ping", "iputils-ping")
	bin := pingcraftBinary(t)
	l := labtest.New(t)
	filter := []string{"icmp", "and", "host", l.Target4.String()}
	for _, extra := range [][]string{{"-l"}, {"-l", "--print", "-w", "FILE"}} {
		t.Run(strings.Join(extra, " "), func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			type running struct {
				lines chan string
				sig   func()
				wait  func() (string, error)
			}
			start := func(name string, args ...string) running {
				for i, a := range args {
					if a == "FILE" {
						args[i] = filepath.Join(dir, filepath.Base(name)+".pcap")
					}
				}
				cmd := l.Host.Command(ctx, name, args...)
				out, err := cmd.StdoutPipe()
				if err != nil {
					t.Fatal(err)
				}
				wait := started(t, cmd, "listening on")
				lines := make(chan string, 16)
				go func() {
					defer close(lines)
					sc := bufio.NewScanner(out)
					for sc.Scan() {
						lines <- sc.Text()
					}
				}()
				return running{lines, func() { cmd.Process.Signal(syscall.SIGINT) }, wait}
			}
			args := append(append([]string{"-i", l.HostLink, "-n", "-t"}, extra...), filter...)
			dump := start(tcpdump, append([]string(nil), args...)...)
			watch := start(bin, append([]string{"watch"}, args...)...)
			if out, err := l.Host.Command(ctx, "ping", "-c", "1", l.Target4.String()).CombinedOutput(); err != nil {
				t.Fatalf("ping: %v\n%s", err, out)
			}
			// Both still run: the request and the reply must come now.
			read := func(r running) []string {
				var got []string
				for len(got) < 2 {
					select {
					case line, ok := <-r.lines:
						if !ok {
							t.Fatalf("stdout closed after %q", got)
						}
						got = append(got, line)
					case <-time.After(5 * time.Second):
						t.Fatalf("no line in 5s while it runs, after %q", got)
					}
				}
				return got
			}
			want, got := read(dump), read(watch)
			for _, r := range []running{dump, watch} {
				r.sig()
				for range r.lines {
				}
				if stderr, err := r.wait(); err != nil {
					t.Fatalf("%v\n%s", err, stderr)
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("lines (-tcpdump +watch):\n%s", diff)
			}
			if len(extra) > 1 {
				out, err := exec.Command(tcpdump, "-n", "-t", "-r", filepath.Join(dir, "pingcraft.pcap")).Output()
				if err != nil {
					t.Fatalf("tcpdump -r watch's file: %v", err)
				}
				if diff := cmp.Diff(strings.Join(want, "\n")+"\n", string(out)); diff != "" {
					t.Errorf("watch's file, as tcpdump -r reads it (-lines +file):\n%s", diff)
				}
			}
		})
	}
}

// TestWatchInterruptedStdout: stopped by SIGINT, a live capture's standard
// output is tcpdump's: the lines, then one newline more (tcpdump's, for a
// line cut short), but not with -w, even with --print.
func TestWatchInterruptedStdout(t *testing.T) {
	tcpdump := labtest.RequireTool(t, "tcpdump", "tcpdump")
	bin := pingcraftBinary(t)
	l := labtest.New(t)
	stdout := func(t *testing.T, name string, args ...string) string {
		cmd := l.Host.Command(t.Context(), name, args...)
		var out strings.Builder
		cmd.Stdout = &out
		wait := started(t, cmd, "listening on")
		if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		if stderr, err := wait(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, stderr)
		}
		return out.String()
	}
	for _, args := range [][]string{
		{"-n", "-i", l.HostLink, "icmp"},
		{"-n", "-i", "any", "icmp"},
		{"-n", "-i", l.HostLink, "-w", "/dev/null", "icmp"},
		{"-n", "-i", l.HostLink, "--print", "-w", "/dev/null", "icmp"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			want := stdout(t, tcpdump, args...)
			got := stdout(t, bin, append([]string{"watch"}, args...)...)
			if got != want {
				t.Errorf("stdout %q, tcpdump's %q", got, want)
			}
		})
	}
}
