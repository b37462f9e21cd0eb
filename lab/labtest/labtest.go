// Package labtest gives tests a lab.Lab that is torn down when the test ends.
package labtest

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pingcraft/pingcraft/lab"
)

// New builds a lab for tb and closes it in tb.Cleanup, failing the test if
// Close fails. Without root (or off Linux) it skips with a message saying so,
// or fails when PINGCRAFT_REQUIRE_ROOT=1, as CI sets it, so that integration
// tests never go silently unrun.
func New(tb testing.TB) *lab.Lab {
	tb.Helper()
	return NewPrefixed(tb, "")
}

// NewPrefixed is New with namespaces named pingcraft-PREFIX...-role (see
// lab.NewPrefixed).
func NewPrefixed(tb testing.TB, prefix string) *lab.Lab {
	tb.Helper()
	RequireRoot(tb)
	l, err := lab.NewPrefixed(tb.Context(), prefix)
	if err != nil {
		tb.Fatalf("labtest: %v", err)
	}
	tb.Cleanup(func() {
		if err := l.Close(); err != nil {
			tb.Errorf("labtest: %v", err)
		}
	})
	return l
}

// NewTagged is New with the lab's namespaces named pingcraft-TAG-..., so
// that a group of tests keeps to a prefix of its own.
func NewTagged(tb testing.TB, tag string) *lab.Lab {
	tb.Helper()
	return NewPrefixed(tb, tag+"-")
}

// RequireRoot skips tb, or fails it under PINGCRAFT_REQUIRE_ROOT=1, unless
// the process may build labs: for tests that call lab functions directly.
func RequireRoot(tb testing.TB) {
	tb.Helper()
	var missing string
	switch {
	case runtime.GOOS != "linux":
		missing = "needs Linux network namespaces: run on Linux as root (CI does)"
	case os.Geteuid() != 0:
		missing = "needs root for network namespaces: run as root (CI does)"
	}
	if missing != "" {
		if os.Getenv("PINGCRAFT_REQUIRE_ROOT") == "1" {
			tb.Fatalf("%s; PINGCRAFT_REQUIRE_ROOT=1 makes this a failure", missing)
		}
		tb.Skipf("SKIPPED: %s. Set PINGCRAFT_REQUIRE_ROOT=1 to make this a failure.", missing)
	}
}

// Namespaces lists the namespaces of lab id that still exist, for tests that
// check nothing was left behind. Other labs, of other tests, are not looked at.
func Namespaces(tb testing.TB, id string) []string {
	tb.Helper()
	names, err := lab.Names()
	if err != nil {
		tb.Fatal(err)
	}
	var ours []string
	for _, n := range names {
		if strings.HasPrefix(n, "pingcraft-"+id+"-") {
			ours = append(ours, n)
		}
	}
	return ours
}

// RequireTool skips tb when the command name is not on PATH, or fails it
// when PINGCRAFT_REQUIRE_TOOLS=1, as CI sets it; pkg is the Debian package
// that provides it. It returns the command's path.
func RequireTool(tb testing.TB, name, pkg string) string {
	tb.Helper()
	if path, err := exec.LookPath(name); err == nil {
		return path
	}
	if os.Getenv("PINGCRAFT_REQUIRE_TOOLS") == "1" {
		tb.Fatalf("%s is not on PATH and PINGCRAFT_REQUIRE_TOOLS=1: install it (apt-get install %s)", name, pkg)
	}
	tb.Skipf("SKIPPED: %s is not on PATH, so this test did NOT run. Install it (apt-get install %s); "+
		"set PINGCRAFT_REQUIRE_TOOLS=1 to make this a failure.", name, pkg)
	return ""
}

// CloseUnblocks checks the Close of a reader: with read blocked in another
// goroutine (given settle to get there: there is nothing to wait on), close
// returns within bound, read then returns an error wrapping net.ErrClosed,
// and a second close succeeds.
func CloseUnblocks(tb testing.TB, read, close func() error, settle, bound time.Duration) {
	tb.Helper()
	errc := make(chan error, 1)
	go func() { errc <- read() }()
	time.Sleep(settle)
	start := time.Now()
	if err := close(); err != nil {
		tb.Fatal(err)
	}
	if took := time.Since(start); took > bound {
		tb.Errorf("Close took %v, more than %v", took, bound)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			tb.Errorf("read during Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(time.Second):
		tb.Fatal("read still blocked 1s after Close returned")
	}
	if err := close(); err != nil {
		tb.Errorf("second Close: %v", err)
	}
}
