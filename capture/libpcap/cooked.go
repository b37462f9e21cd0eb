package libpcap

import (
	"cmp"
	"fmt"
	"time"

	"github.com/pingcraft/pingcraft/capture"
)

// CookedConfig describes a cooked capture. A nil *CookedConfig means the
// defaults.
type CookedConfig struct {
	// Snaplen is the most bytes kept of each frame; 0 means
	// capture.DefaultSnaplen.
	Snaplen int
	// PollTimeout bounds one wait in ReadPacket, in whole milliseconds; 0
	// means capture.DefaultPollTimeout.
	PollTimeout time.Duration
	// Filter is a libpcap filter expression; "" passes every frame.
	Filter string
	// Promisc asks libpcap for promiscuous mode, as tcpdump -i any does
	// without -p; libpcap does not put the "any" device's interfaces in
	// it.
	Promisc bool
}

// withDefaults returns cfg with its zero fields set, or an error naming the
// field that is out of range.
func (cfg *CookedConfig) withDefaults() (CookedConfig, error) {
	var c CookedConfig
	if cfg != nil {
		c = *cfg
	}
	c.Snaplen = cmp.Or(c.Snaplen, capture.DefaultSnaplen)
	c.PollTimeout = cmp.Or(c.PollTimeout, capture.DefaultPollTimeout)
	switch {
	case c.Snaplen < 0 || c.Snaplen > capture.MaxSnaplen:
		return CookedConfig{}, fmt.Errorf("libpcap: snaplen %d out of range: use 1 to %d", c.Snaplen, capture.MaxSnaplen)
	case c.PollTimeout < time.Millisecond:
		// libpcap takes whole milliseconds; 0 would block for good.
		return CookedConfig{}, fmt.Errorf("libpcap: poll timeout %v: use 1ms or more", c.PollTimeout)
	}
	return c, nil
}
