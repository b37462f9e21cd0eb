package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pingcraft/pingcraft/lab/labtest"
)

// TestWatchPrintFlags: tcpdump's printing flags read as tcpdump reads them,
// over every fixture file: the same lines as tcpdump -r prints.
func TestWatchPrintFlags(t *testing.T) {
	labtest.RequireTool(t, "tcpdump", "tcpdump")
	files, err := filepath.Glob("../../fixtures/*.pcap")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, flags := range [][]string{
		{"-A"}, {"-AA"}, {"-#"}, {"--number", "-x"}, {"-nA", "-#"},
		{"--nano"}, {"-tt", "--nano"}, {"-ttt", "--time-stamp-precision=nano"}, {"-ttttt", "--nano"}, {"--micro"},
		{"-v", "-K"}, {"-vv", "--dont-verify-checksums"}, {"-S"}, {"-S", "-v"},
	} {
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ".pcap")
			t.Run(strings.Join(flags, " ")+" "+name, func(t *testing.T) {
				args := append([]string{"-n", "-r", f}, flags...)
				want, wantErr, wantCode := tcpdumpRun(t, nil, args...)
				var got, gotErr strings.Builder
				code := run(t.Context(), append([]string{"tcpdump"}, args...), &got, &gotErr)
				if diff := cmp.Diff(want, got.String()); diff != "" {
					t.Errorf("stdout (-tcpdump +watch):\n%s", diff)
				}
				if diff := cmp.Diff(wantErr, gotErr.String()); diff != "" {
					t.Errorf("stderr (-tcpdump +watch):\n%s", diff)
				}
				if code != wantCode {
					t.Errorf("exit %d, tcpdump exits %d", code, wantCode)
				}
			})
		}
	}
}
