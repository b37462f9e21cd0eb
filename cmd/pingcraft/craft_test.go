package main

import (
	"github.com/pingcraft/pingcraft/lab/labtest"

	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCraftRanges: a number craft cannot take is refused in one line that
// gives the range, whether it is out of it or no number at all.
func TestCraftRanges(t *testing.T) {
	for _, tt := range []struct {
		flag, value, want string
	}{
		{"--seq", "abc", `--seq "abc": give a whole number from 0 to 65535`},
		{"--seq", "70000", `--seq "70000": give a whole number from 0 to 65535`},
		{"--id", "-1", `--id "-1": give a whole number from 0 to 65535`},
		{"--ttl", "0", `--ttl "0": give a whole number from 1 to 255`},
		{"--tos", "256", `--tos "256": give a whole number from 0 to 255`},
	} {
		code, stdout, stderr := runArgs(t, "craft", "--depth", "icmp", tt.flag, tt.value, "198.18.1.2")
		if code != 2 || stdout != "" || stderr != "pingcraft: "+tt.want+"\n" {
			t.Errorf("%s %s: exit %d, stdout %q, stderr %q; want exit 2 and %q", tt.flag, tt.value, code, stdout, stderr, tt.want)
		}
	}
	code, stdout, _ := runArgs(t, "craft", "--depth", "icmp", "--id", "0x10", "--tos", "0x10", "198.18.1.2")
	if code != 0 || !strings.Contains(stdout, "id 16 seq 1") {
		t.Errorf("--id 0x10: exit %d\n%s", code, stdout)
	}
}

// TestCraftWrite: -w writes the packet built, which tcpdump reads as it
// reads any capture: the same probe, at each depth that has an IP header.
func TestCraftWrite(t *testing.T) {
	tcpdump := labtest.RequireTool(t, "tcpdump", "tcpdump")
	dir := t.TempDir()
	for _, depth := range []string{"ip", "ethernet"} {
		path := filepath.Join(dir, depth+".pcap")
		code, _, stderr := runArgs(t, "craft", "--depth", depth, "--source", "198.18.0.2", "--src-mac", "02:00:00:00:00:01",
			"--dst-mac", "02:00:00:00:00:02", "--id", "7", "--seq", "9", "-w", path, "198.18.1.2")
		if code != 0 {
			t.Fatalf("--depth %s: exit %d: %s", depth, code, stderr)
		}
		out, err := exec.Command(tcpdump, "-nt", "-r", path).Output()
		if want := "IP 198.18.0.2 > 198.18.1.2: ICMP echo request, id 7, seq 9, length 64\n"; err != nil || string(out) != want {
			t.Errorf("--depth %s: tcpdump reads %q (%v), want %q", depth, out, err, want)
		}
	}
	code, _, stderr := runArgs(t, "craft", "--depth", "icmp", "-w", filepath.Join(dir, "x.pcap"), "198.18.1.2")
	if code != 2 || !strings.Contains(stderr, "--depth icmp has no IP header to write") {
		t.Errorf("--depth icmp -w: exit %d %q", code, stderr)
	}
}
