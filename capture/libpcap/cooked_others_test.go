//go:build !linux || !cgo

package libpcap

import (
	"errors"
	"testing"
)

func TestCookedUnsupported(t *testing.T) {
	if _, err := OpenCooked(nil); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("OpenCooked: %v, want an error wrapping errors.ErrUnsupported", err)
	}
}
