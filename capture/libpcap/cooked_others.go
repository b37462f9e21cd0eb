//go:build !linux || !cgo

package libpcap

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/pingcraft/pingcraft/capture"
	"github.com/pingcraft/pingcraft/craft"
)

// Cooked captures on every interface; it needs Linux and cgo.
type Cooked struct{}

// errUnsupported says why no cooked capture exists here; it wraps
// errors.ErrUnsupported, so that callers can fall back.
func errUnsupported() error {
	why := "needs a cgo build (CGO_ENABLED=1, libpcap-dev installed)"
	if runtime.GOOS != "linux" {
		why = "is not supported on " + runtime.GOOS
	}
	return fmt.Errorf("libpcap: the cooked capture on any %s: %w", why, errors.ErrUnsupported)
}

// OpenCooked fails: cooked capture needs Linux and cgo.
func OpenCooked(cfg *CookedConfig) (*Cooked, error) { return nil, errUnsupported() }

// LinkType returns 0: no capture can exist here.
func (c *Cooked) LinkType() layers.LinkType { return 0 }

// ReadPacket fails: no capture can exist here.
func (c *Cooked) ReadPacket() ([]byte, gopacket.CaptureInfo, error) {
	return nil, gopacket.CaptureInfo{}, errUnsupported()
}

// Link returns 0: no capture can exist here.
func (c *Cooked) Link() craft.LinkType { return 0 }

// Stats fails: no capture can exist here.
func (c *Cooked) Stats() (capture.Stats, error) { return capture.Stats{}, errUnsupported() }

// Close does nothing: no capture can exist here.
func (c *Cooked) Close() error { return nil }
