package ping

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/resolve"
)

// AutoMode is the deepest mode the link supports: Ethernet frames on
// Ethernet-like links, IP packets on links without a link-layer address,
// a raw socket on loopback (the kernel drops frames injected on lo through
// AF_PACKET). Open falls back from it when the caller may not use it.
func AutoMode(p *resolve.Path) Mode {
	if p.Broadcast || p.Target.IsMulticast() {
		// The kernel loops a group probe back to our own host, which
		// answers as a member, as iputils sees it; a frame sent on a
		// packet socket is not looped.
		return ModeRaw
	}
	switch p.Kind {
	case resolve.KindEthernet:
		return ModeEthernet
	case resolve.KindNone:
		return ModeIP
	}
	return ModeRaw
}

// autoModeFor is the mode ModeAuto opens for a run of oc: AutoMode, except
// that a short run (see shortRun) on a link where AutoMode picks a ring
// mode goes through the raw socket. Every AF_PACKET socket, even one
// without a ring, costs the kernel an RCU grace period (about 13 ms here)
// when it closes, and the process's exit waits for it: more than a whole
// one-probe run in mode raw. The raw socket carries everything such a run
// asks for but a bad checksum over IPv6, which keeps the ring mode.
func autoModeFor(p *resolve.Path, oc *OpenConfig) Mode {
	m := AutoMode(p)
	six := p.Target.Is6() && !p.Target.Is4In6()
	if (m == ModeEthernet || m == ModeIP) && oc != nil && oc.short() && !(six && oc.Faults != 0) {
		return ModeRaw
	}
	return m
}

// short reports whether oc is for a short run: few probes, no flood.
func (oc *OpenConfig) short() bool {
	return !oc.Flood && oc.Probes > 0 && oc.Probes <= shortRun
}

// ErrNoPrivilege is wrapped by Open's error when no transport is allowed;
// so is os.ErrPermission.
var ErrNoPrivilege = errors.New("no transport allowed")

// OpenConfig is what Open needs beyond the path and the mode.
type OpenConfig struct {
	// ID is the ICMP id of the probes; a ping socket takes the kernel's.
	ID uint16
	// Flood says replies are awaited one at a time, as in a flood with
	// few probes in flight: the ring transports then read a TPACKET_V2
	// ring sized for Size, since a TPACKET_V3 block reaches the reader
	// only when full or when its timeout retires it.
	Flood bool
	// Size is the echo data size, for sizing a TPACKET_V2 ring.
	Size int
	// InFlight is the most probes that may be in flight at once (a run
	// over many targets sends bursts): the receive ring or socket buffer
	// is sized to hold all their replies, and the ring our own requests.
	InFlight int
	// PMTUDisc is what a raw or ping socket asks the kernel for the probes
	// that carry DF (the engine decides which do): PMTUDiscDo, or else
	// PMTUDiscWant, so that a path MTU learnt during the run fragments
	// locally as iputils' default does.
	PMTUDisc PMTUDisc
	// Socket is what the sending socket is set to.
	Socket SocketOptions
	// Probes is the most probes the run sends over this transport in all,
	// 0 when unbounded or not known. A short run (a few probes, no flood)
	// opens a ring transport without its ring (see shortRun), and ModeAuto
	// takes the raw socket for it (see autoModeFor).
	Probes int
	// Faults are what the probes break on purpose: ModeAuto keeps a mode
	// that can carry them.
	Faults craft.Faults
}

// probes is the most probes a run over n targets sends in all, 0 when its
// count is not bounded.
func (c *Config) probes(n int) int {
	spacing, catchUp := c.spacing(n)
	sends, ok := c.sends(spacing, catchUp)
	if !ok || sends <= 0 {
		return 0
	}
	return satInt(time.Duration(n) * time.Duration(sends))
}

// SocketOptions are the options of the socket that sends the probes,
// applied when it is opened.
type SocketOptions struct {
	Mark       uint32 // SO_MARK; 0 sets none
	SendBuffer int    // SO_SNDBUF; 0 keeps the kernel's
	DontRoute  bool   // SO_DONTROUTE
	Debug      bool   // SO_DEBUG
	// NoMulticastLoop clears IP(V6)_MULTICAST_LOOP.
	NoMulticastLoop bool
	// IPOptions for IP_OPTIONS (raw and ping sockets, IPv4): with them a
	// reply's options come back too (see Received.IPOptions).
	IPOptions []byte
	// FlowLabel of IPv6 probes, leased from the kernel for the socket.
	FlowLabel uint32
	// Broadcast sets SO_BROADCAST (ping -b) on IPv4 raw and ping sockets.
	Broadcast bool
}

// Receive buffers for InFlight: a ring frame of a small echo (header,
// sockaddr_ll, alignment) fits in 256 bytes, a socket's copy costs the
// skb's true size, about a kilobyte. Both are capped.
const (
	ringBytesPerFrame = 256
	sockBytesPerReply = 1024
	maxReceiveBuffer  = 256 << 20
)

// Open opens mode's transport for path and returns it with the mode it
// opened. ModeAuto takes AutoMode (or for a short run the raw socket, see
// autoModeFor) and falls back: from a ring the build
// cannot have (no cgo) to a raw socket, and from a raw socket or ring the
// caller may not open (no CAP_NET_RAW) to the ping socket.
func Open(p *resolve.Path, mode Mode, oc *OpenConfig) (Conn, Mode, error) {
	return openWith(open, p, mode, oc)
}

// openWith is Open over the transport opener open, a fake in tests.
func openWith(open func(*resolve.Path, Mode, *OpenConfig) (Conn, error), p *resolve.Path, mode Mode, oc *OpenConfig) (Conn, Mode, error) {
	if oc == nil {
		oc = &OpenConfig{}
	}
	want := mode
	if mode == ModeAuto {
		want = autoModeFor(p, oc)
	}
	if err := fits(p, want); err != nil {
		return nil, 0, err
	}
	c, err := open(p, want, oc)
	if mode == ModeAuto && errors.Is(err, errors.ErrUnsupported) && want != ModeRaw {
		want = ModeRaw
		c, err = open(p, want, oc)
	}
	switch {
	case err == nil:
		return c, want, nil
	case !errors.Is(err, os.ErrPermission):
		return nil, 0, err
	case mode != ModeAuto:
		if want == ModeDgram && os.Geteuid() == 0 {
			// Root is refused the ping socket by the group range alone:
			// "run as root" would be no advice.
			return nil, 0, &privilegeError{fmt.Sprintf("ping: mode dgram: net.ipv4.ping_group_range (now %q) does not include group %d: widen it, or use mode raw",
				pingGroupRange(), os.Getgid()), err}
		}
		if want == ModeDgram {
			return nil, 0, noPrivilege(err)
		}
		return nil, 0, &privilegeError{fmt.Sprintf("ping: mode %s needs CAP_NET_RAW: run as root, 'setcap cap_net_raw+ep' the binary, or use mode dgram", want), err}
	}
	c, err = open(p, ModeDgram, oc)
	if errors.Is(err, os.ErrPermission) {
		return nil, 0, noPrivilege(err)
	}
	if err != nil {
		return nil, 0, err
	}
	return c, ModeDgram, nil
}

// fits rejects modes the link cannot carry.
func fits(p *resolve.Path, m Mode) error {
	switch {
	case p.Kind == resolve.KindLoopback && (m == ModeEthernet || m == ModeIP):
		return &refusal{fmt.Sprintf("ping: mode %s on %s: the kernel drops frames injected on loopback through AF_PACKET: use mode raw or dgram", m, p.Interface)}
	case p.Kind == resolve.KindNone && m == ModeEthernet:
		return &refusal{fmt.Sprintf("ping: mode ethernet on %s: the interface has no link-layer address: use mode ip", p.Interface)}
	case m != ModeEthernet && m != ModeIP && m != ModeRaw && m != ModeDgram:
		return &refusal{fmt.Sprintf("ping: mode %v cannot be opened: use auto, ethernet, ip, raw or dgram", m)}
	}
	return nil
}

func pingGroupRange() string {
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ping_group_range"); err == nil {
		return strings.Join(strings.Fields(string(b)), " ")
	}
	return "unknown"
}

func noPrivilege(cause error) error {
	rng := pingGroupRange()
	return &privilegeError{fmt.Sprintf("ping: no transport is allowed: run as root, give the binary CAP_NET_RAW ('setcap cap_net_raw+ep'), "+
		"or widen net.ipv4.ping_group_range (now %q) to include group %d", rng, os.Getgid()), cause}
}

// privilegeError reads as one line and matches both ErrNoPrivilege and
// the permission error underneath, so that errors.Is(err,
// os.ErrPermission) holds all the way up.
type privilegeError struct {
	msg   string
	cause error
}

func (e *privilegeError) Error() string   { return e.msg }
func (e *privilegeError) Unwrap() []error { return []error{ErrNoPrivilege, e.cause} }

// FlowLabelError is a flow label the kernel would not lease (another
// socket holds it, for a while after it closed too): ping -F's "can't set
// flowlabel".
type FlowLabelError struct {
	Label uint32
	Errno syscall.Errno
}

func (e *FlowLabelError) Error() string {
	return fmt.Sprintf("flow label %#05x: setsockopt IPV6_FLOWLABEL_MGR: %v", e.Label, e.Errno)
}

// shortRun is the most probes a run may send in all (not a flood) for the
// ring transports to go without a ring. Setting up a TPACKET ring and
// tearing it down, with the send socket, costs the kernel four or five
// RCU grace periods (about 13 ms each on the 2-core machine of the README):
// 60 ms or more, which is most of a one-probe run. Without the ring the
// frames come back on the send socket itself, whose only grace period is
// at close.
const shortRun = 16
