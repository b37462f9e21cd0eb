package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestGetopt: each command line as GNU getopt_long reads it, for the flags
// of real commands.
func TestGetopt(t *testing.T) {
	app := newApp(nil, nil)
	for _, tc := range []struct {
		cmd  string
		args []string
		want []string
		err  string
	}{
		{"send", []string{"-c1", "198.18.1.2"}, []string{"-c=1", "--", "198.18.1.2"}, ""},
		{"send", []string{"198.18.1.2", "-c", "3"}, []string{"-c=3", "--", "198.18.1.2"}, ""},
		{"send", []string{"-qc2", "-i.2", "-W1", "x"}, []string{"-q", "-c=2", "-i=.2", "-W=1", "--", "x"}, ""},
		{"send", []string{"-c", "-1", "x"}, []string{"-c=-1", "--", "x"}, ""},
		{"send", []string{"--mode=raw", "x", "--json"}, []string{"-mode=raw", "-json", "--", "x"}, ""},
		{"send", []string{"--mode", "raw", "x"}, []string{"-mode=raw", "--", "x"}, ""},
		{"send", []string{"-c", "2", "--", "-x", "-c"}, []string{"-c=2", "--", "-x", "-c"}, ""},
		{"send", []string{"-", "-q"}, []string{"-q", "--", "-"}, ""},
		{"send", []string{"-p", "ff", "-s", "0", "x"}, []string{"-p=ff", "-s=0", "--", "x"}, ""},
		{"send", []string{"-qc"}, nil, "option requires an argument -- 'c'"},
		{"send", []string{"-Z", "x"}, nil, "invalid option -- 'Z'"},
		{"send", []string{"-qZ", "x"}, nil, "invalid option -- 'Z'"},
		{"send", []string{"x", "-c"}, nil, "option requires an argument -- 'c'"},
		{"send", []string{"--mode"}, nil, "option '--mode' requires an argument"},
		{"send", []string{"--nosuch", "x"}, nil, "unrecognized option '--nosuch'"},
		{"send", []string{"--q", "x"}, nil, "unrecognized option '--q'"},
		{"send", []string{"--json=yes", "x"}, nil, "doesn't allow an argument"},
		{"fping", []string{"-C3", "-q", "-g", "198.18.64.0/30"}, []string{"-C=3", "-q", "-g", "--", "198.18.64.0/30"}, ""},
		{"fping", []string{"198.18.1.2", "-t100", "198.18.1.3"}, []string{"-t=100", "--", "198.18.1.2", "198.18.1.3"}, ""},
		{"watch", []string{"-nni", "lo", "icmp", "-c1"}, []string{"-n", "-n", "-i=lo", "-c=1", "--", "icmp"}, ""},
		{"watch", []string{"-vvXr", "f.pcap"}, []string{"-v", "-v", "-X", "-r=f.pcap"}, ""},
		{"lab", []string{"down", "x1"}, []string{"down", "--", "x1"}, ""},
		{"craft", []string{"--help"}, []string{"-help"}, ""},
	} {
		t.Run(tc.cmd+" "+strings.Join(tc.args, " "), func(t *testing.T) {
			got, err := getopt(app.Command(tc.cmd), tc.args)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("getopt = %q, %v: want an error containing %q", got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestGetoptPosix: POSIXLY_CORRECT stops at the first operand, as getopt.
func TestGetoptPosix(t *testing.T) {
	t.Setenv("POSIXLY_CORRECT", "1")
	got, err := getopt(newApp(nil, nil).Command("send"), []string{"-q", "x", "-c", "1"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"-q", "--", "x", "-c", "1"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestPersonality(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		want       []string
		wantPrefix string
	}{
		{[]string{"/usr/local/bin/ping", "-c1", "x"}, []string{"pingcraft", "send", "-c1", "x"}, "/usr/local/bin/ping"},
		{[]string{"ping6", "x"}, []string{"pingcraft", "send", "-6", "x"}, "ping6"},
		{[]string{"ping4", "x"}, []string{"pingcraft", "send", "-4", "x"}, "ping4"},
		{[]string{"fping", "x", "y"}, []string{"pingcraft", "fping", "x", "y"}, "fping"},
		{[]string{"./fping6", "x"}, []string{"pingcraft", "fping", "-6", "x"}, "./fping6"},
		{[]string{"tcpdump", "-n"}, []string{"pingcraft", "watch", "-n"}, "tcpdump"},
		{[]string{"pingcraft", "ping", "x"}, []string{"pingcraft", "ping", "x"}, "ping"},
		{[]string{"pingcraft", "fping", "x"}, []string{"pingcraft", "fping", "x"}, "fping"},
		{[]string{"/opt/pingcraft", "craft"}, []string{"/opt/pingcraft", "craft"}, "pingcraft"},
	} {
		got, prog := personality(tc.args)
		if diff := cmp.Diff(tc.want, got); diff != "" || prog != tc.wantPrefix {
			t.Errorf("personality(%q) = %q, %q, want %q, %q", tc.args, got, prog, tc.want, tc.wantPrefix)
		}
	}
}

// TestPersonalityErrors: a refused command line in each tool's words,
// with its exit status.
func TestPersonalityErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"ping", "-Z", "x"}, 2, "ping: invalid option -- 'Z'\n\nUsage\n  ping [options] <destination>\n"},
		{[]string{"/bin/ping", "x", "-c"}, 2, "/bin/ping: option requires an argument -- 'c'\n"},
		// Under the ping link, an unknown long option reads as iputils'
		// getopt reads it; pingcraft send keeps GNU's words.
		{[]string{"ping", "--foo", "x"}, 2, "ping: invalid option -- '-'\n\nUsage\n"},
		{[]string{"pingcraft", "send", "--foo", "x"}, 2, "ping: unrecognized option '--foo'\n\nUsage\n"},
		{[]string{"fping", "-Z", "x"}, 1, "fping: invalid option -- 'Z'\nsee 'fping -h' for usage information\n"},
		{[]string{"pingcraft", "fping", "-c"}, 1, "fping: option requires an argument -- 'c'\nsee 'fping -h' for usage information\n"},
		// Two targets: iputils' usage, as for a source route it does not send.
		{[]string{"pingcraft", "send", "198.18.1.2", "198.18.1.3"}, 2, "\nUsage\n  ping [options] <destination>\n"},
	} {
		var out, stderr strings.Builder
		code := run(t.Context(), tc.args, &out, &stderr)
		if code != tc.code || !strings.HasPrefix(stderr.String(), tc.want) && !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%q: exit %d, stderr %q: want exit %d and %q", tc.args, code, stderr.String(), tc.code, tc.want)
		}
	}
}

func TestInstallLinks(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ping"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runArgs(t, "install-links", dir)
	if code != exitError || !strings.Contains(stderr, "exists: remove it or give --force") {
		t.Fatalf("over an existing file: exit %d, %q", code, stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "ping")); string(b) != "mine" {
		t.Fatalf("install-links replaced a file without --force")
	}
	if code, _, stderr := runArgs(t, "install-links", "--force", dir); code != 0 {
		t.Fatalf("--force: exit %d, %s", code, stderr)
	}
	self, _ := os.Executable()
	self, _ = filepath.EvalSymlinks(self)
	for _, name := range linkNames() {
		if got, err := os.Readlink(filepath.Join(dir, name)); err != nil || got != self {
			t.Errorf("%s -> %q, %v: want a link to %s", name, got, err, self)
		}
	}
	if code, _, stderr := runArgs(t, "install-links", dir); code != 0 {
		t.Errorf("again: exit %d, %s (links already there are fine)", code, stderr)
	}
}

func TestCompletionAndMan(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"completion", "bash"}, "complete -o default -F _pingcraft pingcraft"},
		{[]string{"completion", "zsh"}, "#compdef pingcraft"},
		{[]string{"completion", "fish"}, "-a 'fping' -d 'ping many targets at once as fping does'"},
		{[]string{"man"}, ".SH NAME"},
	} {
		code, out, stderr := runArgs(t, tc.args...)
		if code != 0 || !strings.Contains(out, tc.want) {
			t.Errorf("%q: exit %d, stderr %q, output lacks %q", tc.args, code, stderr, tc.want)
		}
	}
	code, out, _ := runArgs(t, "--version")
	if code != 0 || !strings.Contains(out, "go1.") || !strings.Contains(out, "libpcap") {
		t.Errorf("--version: exit %d, %q: want the Go and libpcap versions", code, out)
	}
}
