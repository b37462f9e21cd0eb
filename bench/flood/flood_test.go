//go:build linux

package main

import (
	"flag"
	"testing"
)

// TestFlood runs the benchmark under go test, so that it takes the lab
// lock every root test takes (lt), with the flags after -args --:
//
//	lt ./bench/flood -run TestFlood -v -timeout 30m -args -- -count 0 -many-targets 1000,10000 ...
//
// Without flags it does nothing: a plain go test ./... builds no lab.
func TestFlood(t *testing.T) {
	if flag.NArg() == 0 {
		t.Skip("no flags after -args --: the benchmark runs only when asked")
	}
	if code := flood(flag.Args()); code != 0 {
		t.Fatalf("flood exited %d", code)
	}
}
