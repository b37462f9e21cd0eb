package ping

import (
	"errors"
	"fmt"
	"time"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/resolve"
)

// ErrRefused is wrapped by the errors of runs a transport cannot carry:
// the configuration, not the network, is at fault.
var ErrRefused = errors.New("refused")

// minUserInterval is the shortest interval the ping socket is given, as
// iputils refuses shorter ones to users without CAP_NET_RAW.
const minUserInterval = 2 * time.Millisecond

// ipHeader is what the IP layer adds to an echo, without options.
func ipHeader(six bool) int {
	if six {
		return 40
	}
	return 20
}

// Refuse says why a run configured as cfg cannot go to path over mode, or
// returns nil. New applies it to every target, so every caller, a library
// user or a serve configuration, gets the same refusals in the same words.
func Refuse(cfg *Config, p *resolve.Path, m Mode) error {
	c := Config{Size: DefaultSize}
	if cfg != nil {
		c = *cfg
	}
	six := p.Target.Is6() && !p.Target.Is4In6()
	switch {
	case !six && c.Size > craft.MaxPayloadIPv4 && !c.Oversize:
		return refusef("%d bytes of echo data to %s: IPv4 carries at most %d", c.Size, p.Target, craft.MaxPayloadIPv4)
	case c.Size > craft.MaxPayloadIPv6:
		return refusef("%d bytes of echo data to %s: IPv6 carries at most %d without jumbograms", c.Size, p.Target, craft.MaxPayloadIPv6)
	}
	switch {
	case m == ModeDgram && c.Flood && c.FloodGap < minUserInterval:
		return refusef("a flood needs CAP_NET_RAW; the ping socket is for users without it: run as root or 'setcap cap_net_raw+ep' the binary")
	case m == ModeDgram && !c.paced(1) && cfg != nil && cfg.Interval > 0 && cfg.Interval < minUserInterval:
		return refusef("an interval of %v, below 2ms, needs CAP_NET_RAW; the ping socket is for users without it: run as root or 'setcap cap_net_raw+ep' the binary", cfg.Interval)
	case m == ModeDgram && c.IPOption != IPOptionNone && !six:
		return refusef("record route and timestamp options (-R, -T) need a raw socket or a ring: run as root or 'setcap cap_net_raw+ep' the binary")
	case m == ModeDgram && c.Faults != 0:
		return refusef("a bad checksum needs a transport where pingcraft writes the checksum; the ping socket rewrites it: use mode ethernet, ip or raw")
	case m == ModeRaw && six && c.Faults != 0:
		return refusef("a bad checksum to %s: a raw ICMPv6 socket has the kernel write the checksum: use mode ethernet or ip", p.Target)
	}
	return nil
}

func refusef(format string, a ...any) error {
	return &refusal{"ping: " + fmt.Sprintf(format, a...)}
}

// refusal reads as its message alone and matches ErrRefused.
type refusal struct{ msg string }

func (e *refusal) Error() string { return e.msg }
func (e *refusal) Unwrap() error { return ErrRefused }

// tooBigError is a probe the kernel refused with EMSGSIZE during the run:
// the path MTU it learnt is below the probe, which carries DF. The engine
// reports it as iputils reports its local errors, not as a send failure.
type tooBigError struct {
	mtu int // the path MTU now, 0 when unknown
	err error
}

func (e *tooBigError) Error() string {
	return fmt.Sprintf("message too long, mtu=%d: %v", e.mtu, e.err)
}
func (e *tooBigError) Unwrap() error { return e.err }
