package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/pingcraft/pingcraft/lab"
	"github.com/pingcraft/pingcraft/lab/labtest"
)

var labID = regexp.MustCompile(`(?m)^lab ([0-9a-f]+) built`)

func idOf(t *testing.T, out string) string {
	t.Helper()
	m := labID.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no lab id in output:\n%s", out)
	}
	return m[1]
}

func TestLabCommand(t *testing.T) {
	labtest.RequireRoot(t)
	code, out, errOut := runArgs(t, "lab")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	for _, want := range []string{
		"ARP who-has 198.18.0.1 tell 198.18.0.2 -> is-at ",
		"next hop    198.18.0.1 (gateway) ",
		"[MAC: ARP]",
		"NDP neighbor solicitation for fd00:198:18::1 on h0",
		"[MAC: NDP]",
		"sending from the host, --mode ethernet",
		"64 bytes from 198.18.1.2: icmp_seq=3 ttl=63 time=",
		"64 bytes from fd00:198:18:1::2: icmp_seq=3 ttl=63 time=",
		"3 packets transmitted, 3 received, 0% packet loss",
		"removed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if left := labtest.Namespaces(t, idOf(t, out)); len(left) != 0 {
		t.Errorf("namespaces left behind: %v", left)
	}
}

func TestLabKeepAndDown(t *testing.T) {
	labtest.RequireRoot(t)
	code, out, errOut := runArgs(t, "lab", "--keep")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	id := idOf(t, out)
	t.Cleanup(func() { lab.Down(id) })
	if got := labtest.Namespaces(t, id); len(got) != 3 {
		t.Fatalf("--keep left %v, want three namespaces", got)
	}
	if !strings.Contains(out, "ip netns exec pingcraft-"+id+"-host bash") || !strings.Contains(out, "pingcraft lab down "+id) {
		t.Errorf("--keep does not say how to enter or remove the lab:\n%s", out)
	}
	code, out, errOut = runArgs(t, "lab", "down", id)
	if code != 0 || strings.Count(out, "removed pingcraft-"+id+"-") != 3 {
		t.Errorf("lab down %s: exit %d, %q %q", id, code, out, errOut)
	}
	if left := labtest.Namespaces(t, id); len(left) != 0 {
		t.Errorf("after lab down: %v remain", left)
	}
}

func TestLabBadTarget(t *testing.T) {
	labtest.RequireRoot(t)
	code, out, errOut := runArgs(t, "lab", "--target", "198.18.0.77")
	if code != exitError || !strings.Contains(errOut, "no reply from 198.18.0.77 over mode ethernet, nor to ARP or NDP") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if left := labtest.Namespaces(t, idOf(t, out)); len(left) != 0 {
		t.Errorf("namespaces left behind after an error: %v", left)
	}
}

// TestLabInterrupt sends SIGINT to a real pingcraft process while it waits
// for an ARP reply that never comes: it must remove the lab and exit 2.
func TestLabInterrupt(t *testing.T) {
	labtest.RequireRoot(t)
	cmd := exec.CommandContext(context.Background(), pingcraftBinary(t), "lab", "--target", "198.18.0.77")
	// Interrupted while the ARP exchange is under way.
	out, stderr, err := signalAt(t, cmd, "resolving 198.18.0.77", os.Interrupt)
	code := cmd.ProcessState.ExitCode()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Fatalf("killed by %v instead of exiting: %v", ws.Signal(), err)
	}
	if code != exitError || !strings.Contains(stderr, "interrupted; everything it built was removed") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if left := labtest.Namespaces(t, idOf(t, out)); len(left) != 0 {
		t.Errorf("namespaces left behind after SIGINT: %v", left)
	}
}

// TestLabDownSparesRunningLabs: lab down without IDs removes a kept lab
// (its process gone) but not the lab of a running process (this test's),
// nor a namespace with the prefix that lab did not make.
func TestLabDownSparesRunningLabs(t *testing.T) {
	labtest.RequireRoot(t)
	running := labtest.New(t)
	code, out, errOut := runArgs(t, "lab", "--keep")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	kept := idOf(t, out)
	t.Cleanup(func() { lab.Down(kept) })
	// lab --keep ran in this process: make its owner a process that is gone.
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("/run/pingcraft/labs/"+kept, fmt.Appendf(nil, "%d 1\n", gone.Process.Pid), 0o644); err != nil {
		t.Fatal(err)
	}
	foreign := "pingcraft-ld" + running.ID + "-x"
	if out, err := exec.Command("ip", "netns", "add", foreign).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", foreign).Run() })

	code, out, errOut = runArgs(t, "lab", "down")
	if code != 0 {
		t.Fatalf("lab down: exit %d: %s", code, errOut)
	}
	if left := labtest.Namespaces(t, kept); len(left) != 0 || strings.Count(out, "removed pingcraft-"+kept+"-") != 3 {
		t.Errorf("the kept lab: %v remain; lab down said\n%s", left, out)
	}
	if left := labtest.Namespaces(t, running.ID); len(left) != 3 || !strings.Contains(out, "kept pingcraft-"+running.ID+"-host: in use by PID "+fmt.Sprint(os.Getpid())) {
		t.Errorf("the running lab: %v remain; lab down said\n%s", left, out)
	}
	if _, err := os.Stat("/run/netns/" + foreign); err != nil || !strings.Contains(out, "kept "+foreign+": not made by pingcraft lab") {
		t.Errorf("the foreign namespace: %v; lab down said\n%s", err, out)
	}
}
