package ping

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/pingcraft/pingcraft/craft"
)

// EventKind is what happened to a probe.
type EventKind uint8

const (
	_ EventKind = iota
	EventSent
	EventReply
	// EventDuplicate: another reply to a probe already answered.
	EventDuplicate
	// EventLate: a reply to a probe that had already timed out.
	EventLate
	EventTimeout
	// EventICMPError: a router or host answered with an ICMP error.
	EventICMPError
	// EventCorrupted: a reply whose data differs from what was sent.
	EventCorrupted
	// EventSendError: the probe never left (ENOBUFS, EPERM from a firewall,
	// no neighbour): counted apart from loss.
	EventSendError
	// EventLocalError: the probe would not fit the path MTU and may not be
	// fragmented (PMTUDiscDo), so it never left: iputils' "local error:
	// message too long", which counts as transmitted, an error and loss.
	// MTU is the path's.
	EventLocalError
	// EventBadChecksum: a reply to one of our probes (its authenticator
	// checks) whose ICMP checksum is wrong. iputils prints it with
	// "(BAD CHECKSUM!)" and counts it apart; it is never a reply, and its
	// probe still waits for a good one. Only the ring modes and raw IPv4
	// sockets see these: the kernel drops them before the other sockets.
	EventBadChecksum
)

// Event is one outcome of one probe. It references nothing the engine
// reuses, so a copy may be kept (the pointer onEvent gets may not).
type Event struct {
	Kind   EventKind
	Target int        // index into the engine's targets
	Addr   netip.Addr // the target's address
	ID     uint16
	Seq    uint16
	At     time.Time
	// RTT of replies, duplicates, late and corrupted replies.
	RTT time.Duration
	// Stamp is StampUser when either end of RTT is a user-space time, else
	// the clock of both ends (StampKernel, or StampHardware when the NIC
	// stamped both); SendClock and ReceiveClock name each end's.
	Stamp                   StampSource
	SendClock, ReceiveClock StampSource
	// TTL and Bytes of what came back.
	TTL    uint8
	HasTTL bool
	Bytes  int
	// From is who answered: the target, or the router of an ICMP error.
	From netip.Addr
	// Error of EventICMPError.
	Error craft.ICMPError
	// Corrupted: the first wrong byte of the data, what it should be and
	// what it was.
	BadByte   int
	Want, Got byte
	// Err of EventSendError.
	Err error
	// MTU of EventLocalError: the path MTU (route, else interface) the
	// probe exceeds.
	MTU int
	// IPOptions of a reply: the IPv4 option bytes it came back with (the
	// record route or timestamps of Config.IPOption); see
	// craft.ParseIPv4Options.
	IPOptions []byte
}

var eventNames = [...]string{EventSent: "sent", EventReply: "reply", EventDuplicate: "duplicate", EventLate: "late",
	EventTimeout: "timeout", EventICMPError: "error", EventCorrupted: "corrupted", EventSendError: "send_error", EventLocalError: "local_error",
	EventBadChecksum: "bad_checksum"}

func (k EventKind) String() string {
	if int(k) < len(eventNames) && eventNames[k] != "" {
		return eventNames[k]
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}
