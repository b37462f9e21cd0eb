package craft

import (
	"fmt"
	"net/netip"
)

// ErrorKind is the kind of an ICMP or ICMPv6 error message.
type ErrorKind uint8

const (
	_ ErrorKind = iota
	// ErrUnreachable: ICMPv4 type 3 (including code 4, fragmentation
	// needed) and ICMPv6 type 1.
	ErrUnreachable
	// ErrPacketTooBig: ICMPv6 type 2.
	ErrPacketTooBig
	// ErrTimeExceeded: ICMPv4 type 11, ICMPv6 type 3.
	ErrTimeExceeded
	// ErrParameterProblem: ICMPv4 type 12, ICMPv6 type 4.
	ErrParameterProblem
	// ErrRedirect: ICMPv4 type 5.
	ErrRedirect
	// ErrSourceQuench: ICMPv4 type 4 (deprecated by RFC 6633, still seen).
	ErrSourceQuench
)

// ErrorKindOf returns the kind of an ICMP (six false) or ICMPv6 error
// type, or 0 when the type is not an error pingcraft reports.
func ErrorKindOf(six bool, typ uint8) ErrorKind {
	if six {
		switch typ {
		case icmp6Unreachable:
			return ErrUnreachable
		case icmp6PacketTooBig:
			return ErrPacketTooBig
		case icmp6TimeExceeded:
			return ErrTimeExceeded
		case icmp6ParamProblem:
			return ErrParameterProblem
		}
		return 0
	}
	switch typ {
	case icmp4Unreachable:
		return ErrUnreachable
	case icmp4SourceQuench:
		return ErrSourceQuench
	case icmp4Redirect:
		return ErrRedirect
	case icmp4TimeExceeded:
		return ErrTimeExceeded
	case icmp4ParamProblem:
		return ErrParameterProblem
	}
	return 0
}

// ICMP type numbers the decoder classifies.
const (
	icmp4EchoReply     = 0
	icmp4Unreachable   = 3
	icmp4SourceQuench  = 4
	icmp4Redirect      = 5
	icmp4Echo          = 8
	icmp4TimeExceeded  = 11
	icmp4ParamProblem  = 12
	icmp4FragNeeded    = 4 // code of icmp4Unreachable
	icmp6Unreachable   = 1
	icmp6PacketTooBig  = 2
	icmp6TimeExceeded  = 3
	icmp6ParamProblem  = 4
	icmp6Echo          = 128
	icmp6EchoReply     = 129
	ipProtoICMP        = 1
	ipProtoICMPv6      = 58
	ipv6HeaderLen      = 40
	icmpHeaderLen      = 8
	icmpErrorFieldsLen = 4
)

// ICMPError is an ICMP or ICMPv6 error message and what it quotes.
type ICMPError struct {
	Kind ErrorKind
	// Six is true for ICMPv6.
	Six  bool
	Type uint8
	Code uint8
	// Gateway is the new next hop of an ICMPv4 redirect.
	Gateway netip.Addr
	// MTU of "fragmentation needed" (ICMPv4 type 3 code 4) and
	// "packet too big" (ICMPv6 type 2).
	MTU uint32
	// Pointer of a parameter problem: the offending octet.
	Pointer uint32
	Quote   Quote
}

// Quote is the original packet an ICMP error carries back: at least the IP
// header and 8 bytes of what followed (RFC 792), up to the whole packet.
type Quote struct {
	// Present is set when a complete quoted IP header was found.
	Present  bool
	Src, Dst netip.Addr
	Protocol uint8
	TTL      uint8
	// Echo is set when the quote holds the first 8 bytes of an ICMP or
	// ICMPv6 echo request; ID and Seq are valid only then, and the
	// Packet's QuoteData holds what is quoted of its data.
	Echo bool
	ID   uint16
	Seq  uint16
	// Truncated: the quote is shorter than its IP header says.
	Truncated bool
}

// String returns the text iputils ping prints for the error after
// "From ADDR icmp_seq=N ".
func (e *ICMPError) String() string {
	if e.Six {
		return e.string6()
	}
	return e.string4()
}

var unreach4 = [...]string{
	0:  "Destination Net Unreachable",
	1:  "Destination Host Unreachable",
	2:  "Destination Protocol Unreachable",
	3:  "Destination Port Unreachable",
	4:  "", // fragmentation needed: carries the MTU
	5:  "Source Route Failed",
	6:  "Destination Net Unknown",
	7:  "Destination Host Unknown",
	8:  "Source Host Isolated",
	9:  "Destination Net Prohibited",
	10: "Destination Host Prohibited",
	11: "Destination Net Unreachable for Type of Service",
	12: "Destination Host Unreachable for Type of Service",
	13: "Packet filtered",
	14: "Precedence Violation",
	15: "Precedence Cutoff",
}

var redirect4 = [...]string{
	0: "Redirect Network",
	1: "Redirect Host",
	2: "Redirect Type of Service and Network",
	3: "Redirect Type of Service and Host",
}

func (e *ICMPError) string4() string {
	switch e.Kind {
	case ErrUnreachable:
		if e.Code == icmp4FragNeeded {
			return fmt.Sprintf("Frag needed and DF set (mtu = %d)", e.MTU)
		}
		if int(e.Code) < len(unreach4) {
			return unreach4[e.Code]
		}
		return fmt.Sprintf("Dest Unreachable, Bad Code: %d", e.Code)
	case ErrSourceQuench:
		return "Source Quench"
	case ErrRedirect:
		s := fmt.Sprintf("Redirect, Bad Code: %d", e.Code)
		if int(e.Code) < len(redirect4) {
			s = redirect4[e.Code]
		}
		return fmt.Sprintf("%s(New nexthop: %s)", s, e.Gateway)
	case ErrTimeExceeded:
		if int(e.Code) < len(timeExceeded4) {
			return timeExceeded4[e.Code]
		}
		return fmt.Sprintf("Time exceeded, Bad Code: %d", e.Code)
	case ErrParameterProblem:
		return fmt.Sprintf("Parameter problem: pointer = %d", e.Pointer)
	}
	return fmt.Sprintf("Bad ICMP type: %d", e.Type)
}

// The words of time exceeded, by code: iputils'.
var (
	timeExceeded4 = [...]string{"Time to live exceeded", "Frag reassembly time exceeded"}
	timeExceeded6 = [...]string{"Time exceeded: Hop limit", "Time exceeded: Defragmentation failure"}
)

var unreach6 = [...]string{
	0: "No route",
	1: "Administratively prohibited",
	2: "Beyond scope of source address",
	3: "Address unreachable",
	4: "Port unreachable",
	5: "Source address failed ingress/egress policy",
	6: "Reject route to destination",
}

func (e *ICMPError) string6() string {
	switch e.Kind {
	case ErrUnreachable:
		if int(e.Code) < len(unreach6) {
			return "Destination unreachable: " + unreach6[e.Code]
		}
		return fmt.Sprintf("Destination unreachable: Unknown code %d", e.Code)
	case ErrPacketTooBig:
		s := fmt.Sprintf("Packet too big: mtu=%d", e.MTU)
		if e.Code != 0 {
			s += fmt.Sprintf(", code=%d", e.Code)
		}
		return s
	case ErrTimeExceeded:
		if int(e.Code) < len(timeExceeded6) {
			return timeExceeded6[e.Code]
		}
		return fmt.Sprintf("Time exceeded: code %d", e.Code)
	case ErrParameterProblem:
		var s string
		switch e.Code {
		case 0:
			s = "Wrong header field "
		case 1:
			s = "Unknown header "
		case 2:
			s = "Unknown option "
		default:
			s = fmt.Sprintf("code %d ", e.Code)
		}
		return fmt.Sprintf("Parameter problem: %sat %d", s, e.Pointer)
	}
	return fmt.Sprintf("unknown icmp type: %d", e.Type)
}

var errorKindNames = [...]string{ErrUnreachable: "unreachable", ErrPacketTooBig: "packet-too-big", ErrTimeExceeded: "time-exceeded", ErrParameterProblem: "parameter-problem", ErrRedirect: "redirect", ErrSourceQuench: "source-quench"}

func (k ErrorKind) String() string {
	if int(k) < len(errorKindNames) && errorKindNames[k] != "" {
		return errorKindNames[k]
	}
	return fmt.Sprintf("ErrorKind(%d)", uint8(k))
}
