//go:build !linux || !cgo

package capture

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// ErrTimeout is wrapped by the error ReadPacket returns when PollTimeout
// passes without a frame.
var ErrTimeout = errors.New("packet poll timeout expired")

// Ring is a TPACKET_V3 receive ring; it needs Linux and cgo.
type Ring struct{}

// errUnsupported says why no ring exists here; it wraps
// errors.ErrUnsupported, so that callers can fall back.
func errUnsupported() error {
	why := "needs a cgo build (CGO_ENABLED=1 and a C compiler)"
	if runtime.GOOS != "linux" {
		why = "is not supported on " + runtime.GOOS
	}
	return fmt.Errorf("capture: the TPACKET_V3 ring %s: %w", why, errors.ErrUnsupported)
}

// RingAvailable says why no ring can be opened here.
func RingAvailable() error { return errUnsupported() }

// OpenRing fails: the ring needs Linux and cgo.
func OpenRing(cfg *Config) (*Ring, error) { return nil, errUnsupported() }

// ReadPacket fails: no ring can exist here.
func (r *Ring) ReadPacket() ([]byte, gopacket.CaptureInfo, error) {
	return nil, gopacket.CaptureInfo{}, errUnsupported()
}

// LinkType returns 0: no ring can exist here.
func (r *Ring) LinkType() layers.LinkType { return 0 }

// Stats fails: no ring can exist here.
func (r *Ring) Stats() (Stats, error) { return Stats{}, errUnsupported() }

// Close does nothing: no ring can exist here.
func (r *Ring) Close() error { return nil }
