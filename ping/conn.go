package ping

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/pingcraft/pingcraft/craft"
)

// Mode is how a probe leaves the host (see the transports table in the
// README): what pingcraft builds and what the kernel adds.
type Mode uint8

const (
	_ Mode = iota
	// ModeAuto picks the deepest mode the caller may use and the link supports.
	ModeAuto
	// ModeEthernet: AF_PACKET SOCK_RAW; pingcraft builds Ethernet + IP + ICMP.
	ModeEthernet
	// ModeIP: AF_PACKET SOCK_DGRAM; pingcraft builds IP + ICMP, the kernel
	// adds the link-layer header.
	ModeIP
	// ModeRaw: AF_INET/AF_INET6 SOCK_RAW; pingcraft builds ICMP.
	ModeRaw
	// ModeDgram: the unprivileged ping socket; the kernel owns id and checksum.
	ModeDgram
)

var modeNames = [...]string{ModeAuto: "auto", ModeEthernet: "ethernet", ModeIP: "ip", ModeRaw: "raw", ModeDgram: "dgram"}

func (m Mode) String() string {
	if int(m) < len(modeNames) && modeNames[m] != "" {
		return modeNames[m]
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// ParseMode parses a mode's name.
func ParseMode(s string) (Mode, error) {
	for m, n := range modeNames {
		if n != "" && n == s {
			return Mode(m), nil
		}
	}
	return 0, fmt.Errorf("ping: mode %q: use auto, ethernet, ip, raw or dgram", s)
}

// Depth is what the mode builds.
func (m Mode) Depth() craft.Depth {
	switch m {
	case ModeEthernet:
		return craft.DepthEthernet
	case ModeIP:
		return craft.DepthIP
	}
	return craft.DepthICMP
}

// StampSource says which clock timed an event.
type StampSource uint8

const (
	_ StampSource = iota
	// StampKernel: the kernel stamped the packet in software (ring frame,
	// SO_TIMESTAMPNS, a send stamp from a socket's error queue).
	StampKernel
	// StampUser: read from the user-space clock around the system call.
	StampUser
	// StampHardware: the NIC stamped the packet, in its own clock (the
	// PHC), comparable only with another hardware stamp of the same NIC.
	StampHardware
)

// Received is one packet a Conn hands the engine.
type Received struct {
	// Packet is the decoded packet. Its slices alias the Conn's buffer and
	// are valid until the next Receive.
	Packet craft.Packet
	// From is who sent it: the IP source, or for ICMP errors that a ping
	// socket reports through its error queue, the router that sent them.
	From netip.Addr
	// TTL of the packet as received (hop limit for IPv6), HasTTL false when
	// the transport could not learn it.
	TTL    uint8
	HasTTL bool
	// At is when the packet was received, or for Outgoing when it left.
	At    time.Time
	Stamp StampSource
	// Outgoing marks our own echo request seen leaving the host (ring
	// transports see both directions): At is its kernel send time.
	Outgoing bool
	// Own marks an Outgoing that is a send stamp from the Conn's own
	// socket (SO_TIMESTAMPING's error queue): Packet names its probe by
	// Dst, ID and Seq and carries no data to authenticate, none being
	// needed for what only our own sends can produce.
	Own bool
	// HW is the NIC's receive stamp when it gave one besides At, the
	// kernel's (zero otherwise): in the NIC's clock, see StampHardware.
	HW time.Time
	// Bytes is the ICMP message length as iputils counts it for "N bytes
	// from": ICMP header + data.
	Bytes int
}

// Conn is one transport on one interface for one family. Send and Receive
// may be called from different goroutines; Close unblocks Receive.
type Conn interface {
	Mode() Mode
	// Send transmits e, built at Mode().Depth(). It returns the user-space
	// time just before the system call, the fallback send time.
	Send(e *craft.Echo) (time.Time, error)
	// Receive blocks for the next packet that may concern us and decodes
	// it into r. It returns an error wrapping os.ErrDeadlineExceeded when
	// the deadline set by SetReceiveDeadline passes.
	Receive(r *Received) error
	SetReceiveDeadline(t time.Time) error
	// ID returns the ICMP id of this Conn's probes: the one it was opened
	// with (its kernel filter passes only that), or for a ping socket the
	// kernel's own.
	ID() uint16
	// Drops returns how many packets the receive path lost (ring drops);
	// 0 for transports that cannot lose them silently.
	Drops() (uint64, error)
	Close() error
}

var stampSourceNames = [...]string{StampKernel: "kernel", StampUser: "user", StampHardware: "hardware"}

func (s StampSource) String() string {
	if int(s) < len(stampSourceNames) && stampSourceNames[s] != "" {
		return stampSourceNames[s]
	}
	return fmt.Sprintf("StampSource(%d)", uint8(s))
}

// clockedConn is a Conn that says which clocks stamp its probes and
// replies: the socket transports, whose send stamps depend on the kernel
// and the interface.
type clockedConn interface {
	Clocks() (send, receive StampSource)
}

// ClocksOf says which clocks stamp c's probes as they leave and its replies
// as they come, at best: a probe whose stamp never comes is timed from the
// user-space send time (its Event says so). The ring transports stamp both
// ways in the kernel.
func ClocksOf(c Conn) (send, receive StampSource) {
	if cc, ok := c.(clockedConn); ok {
		return cc.Clocks()
	}
	return StampKernel, StampKernel
}
