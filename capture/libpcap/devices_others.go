//go:build !cgo

package libpcap

import (
	"errors"
	"fmt"
)

// Devices fails: the list is libpcap's (its pseudo-devices included), which
// needs cgo. The error wraps errors.ErrUnsupported.
func Devices() ([]Device, error) {
	return nil, fmt.Errorf("libpcap: listing interfaces needs a cgo build (CGO_ENABLED=1, libpcap-dev installed): %w", errors.ErrUnsupported)
}
