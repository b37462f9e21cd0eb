package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func runArgs(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), append([]string{"pingcraft"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestVersionAndHelp(t *testing.T) {
	code, out, _ := runArgs(t, "--version")
	if code != 0 || !strings.HasPrefix(out, "pingcraft version ") {
		t.Errorf("--version: exit %d, output %q", code, out)
	}
	for _, args := range [][]string{{"help"}, {}, {"--help"}} {
		code, out, _ := runArgs(t, args...)
		if code != 0 || !strings.Contains(out, "craft") || !strings.Contains(out, "USAGE") {
			t.Errorf("%v: exit %d, output %q", args, code, out)
		}
	}
}

func TestCraftKnownAnswer(t *testing.T) {
	code, out, errOut := runArgs(t, "craft")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"ipsum 0x8592 ok icmp type 8 code 0 sum 0xf210 ok id 69 seq 420 data 4",
		"sum 0xf616 bad (->0xf210) id 69 seq 420",
		"00000010  01 01 01 01 08 00 f2 10  00 45 01 a4 01 02 03 04",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestCraftTarget(t *testing.T) {
	code, out, errOut := runArgs(t, "craft", "--depth", "ethernet", "-S", "198.18.0.2",
		"--src-mac", "02:00:00:00:00:01", "--dst-mac", "02:00:00:00:00:02", "--id", "7", "-s", "0", "--bad-ip-checksum", "198.18.1.2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "ethernet, 60 bytes: echo-request mac 02:00:00:00:00:01>02:00:00:00:00:02") || !strings.Contains(out, "ipsum") || !strings.Contains(out, " bad (->") {
		t.Errorf("unexpected output:\n%s", out)
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"nosuch"}, `no command "nosuch"`},
		{[]string{"--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"craft", "--bogus"}, "craft: unrecognized option '--bogus'"},
		{[]string{"craft", "-Z"}, "craft: invalid option -- 'Z'"},
		{[]string{"craft", "-s"}, "craft: option requires an argument -- 's'"},
		{[]string{"craft", "not-an-ip"}, `target "not-an-ip" is not an IP address`},
		{[]string{"craft", "--depth", "tcp", "198.18.1.2"}, `--depth "tcp"`},
		{[]string{"craft", "198.18.1.2"}, "--depth ip needs --source"},
		{[]string{"craft", "-S", "198.18.0.2", "-s", "65508", "198.18.1.2"}, "--size 65508 is out of range"},
		{[]string{"craft", "-S", "198.18.0.2", "-p", "xyz", "198.18.1.2"}, `pattern "xyz" is not hex`},
		{[]string{"craft", "-S", "198.18.0.2", "--id", "70000", "198.18.1.2"}, "give a whole number from 0 to 65535"},
		{[]string{"craft", "-S", "fd00::1", "198.18.1.2"}, "different families"},
		{[]string{"craft", "--depth", "ethernet", "-S", "198.18.0.2", "198.18.1.2"}, "needs --src-mac and --dst-mac"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, errOut := runArgs(t, tt.args...)
			if code != exitError {
				t.Errorf("exit %d, want %d", code, exitError)
			}
			if strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "pingcraft: ") || !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q: want one line starting \"pingcraft: \" containing %q", errOut, tt.want)
			}
		})
	}
}
