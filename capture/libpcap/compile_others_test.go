//go:build !cgo

package libpcap

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/gopacket/layers"
)

func TestCompileUnsupported(t *testing.T) {
	_, err := Compile(layers.LinkTypeEthernet, 65535, "icmp")
	if !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "needs a cgo build") {
		t.Errorf("Compile without cgo: %v, want an error saying it needs cgo, wrapping errors.ErrUnsupported", err)
	}
}
