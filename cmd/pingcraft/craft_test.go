package main

import (
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
