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
	"github.com/pingcraft/pingcraft/craft"
)

// Cooked captures on every interface at once, as tcpdump -i any: frames
// start with a Linux cooked header (LINUX_SLL2 or LINUX_SLL) that says
// which way each went and, in SLL2, on which interface. It is libpcap's own
// capture (a TPACKET ring too): gopacket/afpacket hands out neither the
// packet type nor the link-layer address that the cooked header needs.
type Cooked struct {
	h         *pcap.Handle
	link      craft.LinkType
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
	if c.TimestampType != "" {
		ts, err := pcap.TimestampSourceFromString(c.TimestampType)
		if err != nil {
			return nil, fmt.Errorf("libpcap: time stamp type %s: %w", c.TimestampType, err)
		}
		if err := in.SetTimestampSource(ts); err != nil {
			return nil, fmt.Errorf("libpcap: time stamp type %s on any: %w", c.TimestampType, err)
		}
	}
	h, err := in.Activate()
	if err != nil {
		// libpcap says "socket: Operation not permitted" and the like.
		return nil, fmt.Errorf("libpcap: open any: %w", err)
	}
	fail := func(err error) (*Cooked, error) {
		h.Close()
		return nil, err
	}
	if err := setDatalink(h, capture.DLT(c.Link)); err != nil {
		return fail(fmt.Errorf("libpcap: link type %s on any: %w", c.Link, err))
	}
	if c.Program != nil {
		insns := make([]pcap.BPFInstruction, len(c.Program))
		for i, in := range c.Program {
			insns[i] = pcap.BPFInstruction{Code: in.Op, Jt: in.Jt, Jf: in.Jf, K: in.K}
		}
		if err := h.SetBPFInstructionFilter(insns); err != nil {
			return fail(fmt.Errorf("libpcap: filter on any: %w", err))
		}
	}
	return &Cooked{h: h, link: c.Link, errClosed: fmt.Errorf("libpcap: read any: %w", net.ErrClosed)}, nil
}

// LinkType is the link type of the frames, cut to gopacket's 8 bits:
// LINUX_SLL2 is 20. Link has all of it.
func (c *Cooked) LinkType() layers.LinkType { return layers.LinkType(c.link) }

// Link is the link type of the frames: LINUX_SLL2 or LINUX_SLL.
func (c *Cooked) Link() craft.LinkType { return c.link }

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
