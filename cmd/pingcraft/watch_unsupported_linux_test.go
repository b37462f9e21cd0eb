package main

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pingcraft/pingcraft/lab/labtest"
)

// TestWatchUnsupportedLink: frames of a link type the printer does not
// decode are dumped as tcpdump dumps them, link types beyond 8 bits
// included (257 must not read as 1, EN10MB), and --print with -w prints
// them too.
func TestWatchUnsupportedLink(t *testing.T) {
	labtest.RequireTool(t, "tcpdump", "tcpdump")
	frame := []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdef\x00\xff")
	e98 := echoFrame(1, 98)
	dir := t.TempDir()
	files := map[string][]byte{
		"link-147.pcap":      pcapOf(65535, 147).rec(0, frame, 44, 44).rec(1, e98, 98, 98).rec(2, frame, 1, 44).b,
		"link-257.pcap":      pcapOf(65535, 257).rec(0, e98, 98, 98).rec(1, frame, 20, 44).b,
		"ng-link-147.pcapng": ngOf(147, 65535).epb(0, frame, 44, 44).epb(1, e98, 60, 98).b,
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "out.pcap")
	for name := range files {
		for _, args := range [][]string{{"-n"}, {"-n", "-e", "-v"}, {"-n", "-x"}, {"-n", "-xx"}, {"-n", "-X"}, {"-n", "-XX", "-c", "1"}, {"-n", "-tt", "-q"}} {
			t.Run(name+" "+strings.Join(args, " "), func(t *testing.T) {
				args := append([]string{args[0], "-r", filepath.Join(dir, name)}, args[1:]...)
				likeTcpdump(t, append(args, "-w", out, "--print")...)
			})
		}
	}
	t.Run("json", func(t *testing.T) {
		var got, gotErr strings.Builder
		if code := run(t.Context(), []string{"tcpdump", "-r", filepath.Join(dir, "link-257.pcap"), "--json"}, &got, &gotErr); code != 0 {
			t.Fatalf("exit %d: %s", code, gotErr.String())
		}
		lines := strings.Split(strings.TrimSuffix(got.String(), "\n"), "\n")
		wantHex := []string{hex.EncodeToString(e98), hex.EncodeToString(frame[:20])}
		if len(lines) != len(wantHex) {
			t.Fatalf("%d lines, want %d:\n%s", len(lines), len(wantHex), got.String())
		}
		for i, l := range lines {
			var o struct{ Class, Hex string }
			if err := json.Unmarshal([]byte(l), &o); err != nil {
				t.Fatalf("line %d: %v: %s", i+1, err, l)
			}
			if o.Class != "undecoded" || o.Hex != wantHex[i] {
				t.Errorf("line %d: class %q hex %q, want undecoded %q", i+1, o.Class, o.Hex, wantHex[i])
			}
		}
	})
}
