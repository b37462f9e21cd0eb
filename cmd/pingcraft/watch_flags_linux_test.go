package main

import (
	"path/filepath"
	"strings"
	"testing"

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
				likeTcpdump(t, args...)
			})
		}
	}
}
