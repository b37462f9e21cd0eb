package libpcap

import (
	"cmp"
	"fmt"
	"time"

	"golang.org/x/net/bpf"

	"github.com/pingcraft/pingcraft/capture"
	"github.com/pingcraft/pingcraft/craft"
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
	// Link is the link type asked of libpcap (tcpdump -y): LINUX_SLL,
	// libpcap's default, when 0, or LINUX_SLL2, which tcpdump 4.99 asks
	// for when -i names any.
	Link craft.LinkType
	// Program is the filter, compiled for Link; nil passes every frame.
	// libpcap moves what it can into the kernel, the packet type and
	// interface index of the cooked header included.
	Program []bpf.RawInstruction
	// TimestampType is a libpcap time stamp type name (tcpdump -j); ""
	// leaves libpcap's default.
	TimestampType string
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
	c.Link = cmp.Or(c.Link, craft.LinkTypeLinuxSLL)
	switch {
	case c.Link != craft.LinkTypeLinuxSLL2 && c.Link != craft.LinkTypeLinuxSLL:
		return CookedConfig{}, fmt.Errorf("libpcap: link type %s on any: use LINUX_SLL2 or LINUX_SLL", c.Link)
	case c.Snaplen < 0 || c.Snaplen > capture.MaxSnaplen:
		return CookedConfig{}, fmt.Errorf("libpcap: snaplen %d out of range: use 1 to %d", c.Snaplen, capture.MaxSnaplen)
	case c.PollTimeout < time.Millisecond:
		// libpcap takes whole milliseconds; 0 would block for good.
		return CookedConfig{}, fmt.Errorf("libpcap: poll timeout %v: use 1ms or more", c.PollTimeout)
	}
	return c, nil
}
