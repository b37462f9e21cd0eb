//go:build linux && cgo

package libpcap

import (
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcap"

	"github.com/pingcraft/pingcraft/capture"
)

// Cooked captures on every interface at once, as tcpdump -i any: frames
// start with a Linux cooked (LINUX_SLL) header that says which way each
// went and what link it came from. It is libpcap's own capture (a
// TPACKET ring too): gopacket/afpacket hands out neither the packet type
// nor the link-layer address that the cooked header needs.
type Cooked struct {
	h         *pcap.Handle
	mu        sync.Mutex
	closed    bool
	errClosed error
	last      capture.Stats
}

// OpenCooked opens the capture on interface any.
func OpenCooked(cfg *CookedConfig) (*Cooked, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	in, err := pcap.NewInactiveHandle("any")
	if err != nil {
		return nil, fmt.Errorf("libpcap: open any: %w", err)
	}
	defer in.CleanUp()
	for _, err := range []error{in.SetSnapLen(c.Snaplen), in.SetTimeout(c.PollTimeout), in.SetImmediateMode(true), in.SetPromisc(c.Promisc)} {
		if err != nil {
			return nil, fmt.Errorf("libpcap: open any: %w", err)
		}
	}
	h, err := in.Activate()
	if err != nil {
		// libpcap says "socket: Operation not permitted" and the like.
		return nil, fmt.Errorf("libpcap: open any: %w", err)
	}
	if c.Filter != "" {
		if err := h.SetBPFFilter(c.Filter); err != nil {
			h.Close()
			return nil, fmt.Errorf("libpcap: filter %q: %w", c.Filter, err)
		}
	}
	return &Cooked{h: h, errClosed: fmt.Errorf("libpcap: read any: %w", net.ErrClosed)}, nil
}

// LinkType is LINUX_SLL.
func (c *Cooked) LinkType() layers.LinkType { return c.h.LinkType() }

// ReadPacket returns the next frame, valid until the next call, or an error
// wrapping capture.ErrTimeout after PollTimeout without one.
func (c *Cooked) ReadPacket() ([]byte, gopacket.CaptureInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, gopacket.CaptureInfo{}, c.errClosed
	}
	data, ci, err := c.h.ZeroCopyReadPacketData()
	switch {
	case errors.Is(err, pcap.NextErrorTimeoutExpired):
		return nil, ci, fmt.Errorf("libpcap: read any: %w", capture.ErrTimeout)
	case err != nil:
		return nil, ci, fmt.Errorf("libpcap: read any: %w", err)
	}
	return data, ci, nil
}

// Stats returns libpcap's counters: frames the filter passed, and of them
// those dropped for want of room.
func (c *Cooked) Stats() (capture.Stats, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return c.last, nil
	}
	st, err := c.h.Stats()
	if err != nil {
		return c.last, fmt.Errorf("libpcap: statistics of any: %w", err)
	}
	c.last = capture.Stats{Packets: uint64(st.PacketsReceived), Drops: uint64(st.PacketsDropped)}
	return c.last, nil
}

// Close closes the capture; it is idempotent. It waits for a read in
// progress, at most PollTimeout.
func (c *Cooked) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		if st, err := c.h.Stats(); err == nil {
			c.last = capture.Stats{Packets: uint64(st.PacketsReceived), Drops: uint64(st.PacketsDropped)}
		}
		c.closed = true
		c.h.Close()
	}
	return nil
}
