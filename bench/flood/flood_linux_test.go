package main

import (
	"os"
	"strings"
	"testing"
)

// TestFlood runs the benchmark with the flags in FLOOD_ARGS, so that it
// can run as a test under the lab lock others hold too:
//
//	FLOOD_ARGS='-lab-prefix ri- -one 30 -capture 0 -many=false -sustain 0 -serve 0' lt ./bench/flood -run TestFlood -v -timeout 30m
//
// Without FLOOD_ARGS it is skipped: it takes minutes.
func TestFlood(t *testing.T) {
	args, ok := os.LookupEnv("FLOOD_ARGS")
	if !ok {
		t.Skip("set FLOOD_ARGS (flags of bench/flood) to run the benchmark")
	}
	o, err := parseFlags("flood", strings.Fields(args))
	if err != nil {
		t.Fatal(err)
	}
	if err := run(t.Context(), o); err != nil {
		t.Fatal(err)
	}
}
