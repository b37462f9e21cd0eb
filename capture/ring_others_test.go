//go:build !linux || !cgo

package capture

import (
	"errors"
	"runtime"
	"strings"
	"testing"
)

func TestRingUnsupported(t *testing.T) {
	want := "needs a cgo build"
	if runtime.GOOS != "linux" {
		want = "not supported on " + runtime.GOOS
	}
	_, err := OpenRing(&Config{Interface: "lo"})
	if !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), want) {
		t.Errorf("OpenRing: %v, want an error saying %q, wrapping errors.ErrUnsupported", err, want)
	}
	// What a live capture says before it compiles its filter.
	if err := RingAvailable(); !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), want) {
		t.Errorf("RingAvailable: %v, want an error saying %q, wrapping errors.ErrUnsupported", err, want)
	}
}
