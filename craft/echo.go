package craft

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Depth is how much of the packet pingcraft builds itself.
type Depth uint8

const (
	_ Depth = iota
	// DepthICMP: the ICMP(v6) message only, for raw and ping sockets.
	DepthICMP
	// DepthIP: IPv4 or IPv6 header + ICMP, for AF_PACKET SOCK_DGRAM.
	DepthIP
	// DepthEthernet: Ethernet + IP + ICMP, for AF_PACKET SOCK_RAW.
	DepthEthernet
)

// Faults are deliberate mistakes written into a probe, for teaching and for
// testing what a receiver does with them.
type Faults uint8

const (
	// FaultICMPHeaderChecksum writes the checksum of the 8-byte ICMP header
	// alone, as if the payload were absent: the classic bug of checksumming
	// the header before the payload is attached. Receivers drop such probes.
	FaultICMPHeaderChecksum Faults = 1 << iota
	// FaultIPChecksum writes a wrong IPv4 header checksum (the correct value
	// XOR 0x5555, which is never an equivalent ones' complement zero).
	FaultIPChecksum
)

// Payload size limits: the largest echo data that fits a 65535-byte IPv4
// datagram (65535-20-8) and a non-jumbo IPv6 payload (65535-8).
const (
	MaxPayloadIPv4 = 65507
	MaxPayloadIPv6 = 65527
)

// DefaultTTL is used when Echo.TTL is zero.
const DefaultTTL = 64

// Echo describes one ICMP or ICMPv6 echo message and what carries it.
type Echo struct {
	// Reply builds an echo reply instead of a request (responders, fixtures).
	Reply bool
	ID    uint16
	Seq   uint16
	// Src and Dst choose the family. Dst is required. Src is required at
	// DepthIP and DepthEthernet, and for an ICMPv6 checksum at DepthICMP.
	Src, Dst netip.Addr
	// SrcMAC and DstMAC are required at DepthEthernet.
	SrcMAC, DstMAC net.HardwareAddr
	// TTL (hop limit for IPv6); zero means DefaultTTL.
	TTL uint8
	// TOS (traffic class for IPv6).
	TOS uint8
	// DontFragment sets IPv4 DF. IPv6 routers never fragment, so it has no
	// IPv6 equivalent in the header.
	DontFragment bool
	// IPID is the IPv4 identification field.
	IPID uint16
	// IPOptions are IPv4 option bytes (see RecordRouteOption), a multiple
	// of 4, at most MaxIPv4Options, written at DepthIP and DepthEthernet.
	IPOptions []byte
	// FlowLabel is the IPv6 flow label (20 bits), written at DepthIP and
	// DepthEthernet.
	FlowLabel uint32
	// Payload is the echo data, copied into the packet; the other
	// queries carry none.
	Payload []byte
	Faults  Faults
	// Query is the ICMPv4 query sent: echo (the zero value), timestamp,
	// address mask or information.
	Query Query
	// Times are a timestamp message's originate, receive and transmit
	// times (MillisecondsToday); a request sets the first.
	Times [3]uint32
	// Mask is an address mask reply's mask; requests send 0.
	Mask uint32
}

// Is6 reports whether e is an ICMPv6 echo.
func (e *Echo) Is6() bool { return e.Dst.Is6() && !e.Dst.Is4In6() }

func (e *Echo) validate(d Depth) error {
	if !e.Dst.IsValid() {
		return errors.New("craft: echo: no destination address")
	}
	six := e.Is6()
	if e.Src.IsValid() && (e.Src.Is6() && !e.Src.Is4In6()) != six {
		return fmt.Errorf("craft: echo: source %s and destination %s are of different families", e.Src, e.Dst)
	}
	max := MaxPayloadIPv4
	if six {
		max = MaxPayloadIPv6
	}
	if len(e.Payload) > max {
		return fmt.Errorf("craft: echo: payload of %d bytes exceeds the %d-byte maximum", len(e.Payload), max)
	}
	if len(e.IPOptions)%4 != 0 || len(e.IPOptions) > MaxIPv4Options || six && len(e.IPOptions) > 0 {
		return fmt.Errorf("craft: echo: %d bytes of IPv4 options: give a multiple of 4, at most %d, to IPv4 only", len(e.IPOptions), MaxIPv4Options)
	}
	if e.FlowLabel > 0xfffff {
		return fmt.Errorf("craft: echo: flow label %#x has more than 20 bits", e.FlowLabel)
	}
	if e.Query > QueryInfo {
		return fmt.Errorf("craft: echo: query %d: use QueryEcho, QueryTimestamp, QueryMask or QueryInfo", uint8(e.Query))
	}
	if six && e.Query != QueryEcho {
		return fmt.Errorf("craft: echo: ICMPv6 has no %s query: it is ICMPv4's", e.Query)
	}
	if e.Query != QueryEcho && len(e.Payload) > 0 {
		return fmt.Errorf("craft: echo: a %s message carries no data (%d bytes given)", e.Query, len(e.Payload))
	}
	if six && e.Faults&FaultIPChecksum != 0 {
		return errors.New("craft: echo: IPv6 has no header checksum to get wrong")
	}
	switch d {
	case DepthICMP:
	case DepthEthernet:
		if len(e.SrcMAC) != 6 || len(e.DstMAC) != 6 {
			return fmt.Errorf("craft: echo: Ethernet depth needs 6-byte source and destination MACs, have %q and %q", e.SrcMAC, e.DstMAC)
		}
		fallthrough
	case DepthIP:
		if !e.Src.IsValid() {
			return fmt.Errorf("craft: echo: %s depth needs a source address", d)
		}
	default:
		return fmt.Errorf("craft: echo: invalid depth %d", uint8(d))
	}
	return nil
}

// Serialize writes the probe at depth d into buf, replacing what buf held.
// The bytes are buf.Bytes() until buf is cleared or reused. Ethernet frames
// shorter than 60 bytes are zero-padded, as on the wire.
func (e *Echo) Serialize(buf gopacket.SerializeBuffer, d Depth) error {
	var b Builder
	return b.Serialize(e, buf, d)
}

// Builder serializes echoes into reused layers, so that building one probe
// after another allocates nothing. Its zero value is ready; it must not be
// used by two goroutines at once.
type Builder struct {
	eth      layers.Ethernet
	ip4      layers.IPv4
	ip6      layers.IPv6
	icmp4    layers.ICMPv4
	icmp6    layers.ICMPv6
	echo6    layers.ICMPv6Echo
	payload  gopacket.Payload
	src, dst [16]byte
	ls       [5]gopacket.SerializableLayer
}

// Serialize writes e at depth d into buf, as Echo.Serialize does.
func (b *Builder) Serialize(e *Echo, buf gopacket.SerializeBuffer, d Depth) error {
	if err := e.validate(d); err != nil {
		return err
	}
	ttl := e.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	l := b.ls[:0]
	src, dst := e.Src.Unmap(), e.Dst.Unmap()
	b.src, b.dst = src.As16(), dst.As16()
	// Addresses as slices of the builder's own arrays, not fresh ones.
	srcIP, dstIP := b.src[:], b.dst[:]
	if !e.Is6() {
		srcIP, dstIP = b.src[12:], b.dst[12:]
	}
	if !src.IsValid() {
		srcIP = nil
	}

	if e.Is6() {
		if d == DepthEthernet {
			b.eth = layers.Ethernet{SrcMAC: e.SrcMAC, DstMAC: e.DstMAC, EthernetType: layers.EthernetTypeIPv6}
			l = append(l, &b.eth)
		}
		b.ip6 = layers.IPv6{
			Version:      6,
			TrafficClass: e.TOS,
			FlowLabel:    e.FlowLabel,
			NextHeader:   layers.IPProtocolICMPv6,
			HopLimit:     ttl,
			SrcIP:        srcIP,
			DstIP:        dstIP,
		}
		if d != DepthICMP {
			l = append(l, &b.ip6)
		}
		typ := uint8(layers.ICMPv6TypeEchoRequest)
		if e.Reply {
			typ = layers.ICMPv6TypeEchoReply
		}
		b.icmp6 = layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(typ, 0)}
		if src.IsValid() {
			if err := b.icmp6.SetNetworkLayerForChecksum(&b.ip6); err != nil {
				return fmt.Errorf("craft: echo: %w", err)
			}
		} else {
			// Without a source there is no pseudo-header; the kernel
			// fills the checksum of raw ICMPv6 and ping sockets.
			opts.ComputeChecksums = false
		}
		b.echo6 = layers.ICMPv6Echo{Identifier: e.ID, SeqNumber: e.Seq}
		l = append(l, &b.icmp6, &b.echo6)
	} else {
		if d == DepthEthernet {
			b.eth = layers.Ethernet{SrcMAC: e.SrcMAC, DstMAC: e.DstMAC, EthernetType: layers.EthernetTypeIPv4}
			l = append(l, &b.eth)
		}
		if d != DepthICMP {
			b.ip4 = layers.IPv4{
				Version:  4,
				IHL:      5,
				TOS:      e.TOS,
				Id:       e.IPID,
				TTL:      ttl,
				Protocol: layers.IPProtocolICMPv4,
				SrcIP:    srcIP,
				DstIP:    dstIP,
			}
			if e.DontFragment {
				b.ip4.Flags = layers.IPv4DontFragment
			}
			if len(e.IPOptions) > 0 {
				b.ip4.Options = ipv4Options(e.IPOptions)
			}
			l = append(l, &b.ip4)
		}
		typ := queryTypes[e.Query][0]
		if e.Reply {
			typ = queryTypes[e.Query][1]
		}
		b.icmp4 = layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, 0), Id: e.ID, Seq: e.Seq}
		l = append(l, &b.icmp4)
	}
	b.payload = e.Payload
	if e.Query != QueryEcho {
		b.payload = e.queryBody()
	}
	l = append(l, &b.payload)
	err := gopacket.SerializeLayers(buf, opts, l...)
	b.payload = nil // not the builder's to keep
	if err != nil {
		return fmt.Errorf("craft: echo: %w", err)
	}
	if e.Faults != 0 {
		e.applyFaults(buf.Bytes(), d)
	}
	return nil
}

func (e *Echo) applyFaults(b []byte, d Depth) {
	off := 0
	if d == DepthEthernet {
		off = 14
	}
	ipOff := off
	if d != DepthICMP {
		if e.Is6() {
			off += 40
		} else {
			off += 20
		}
	}
	if e.Faults&FaultICMPHeaderChecksum != 0 {
		hdr := b[off : off+8]
		var s uint32
		if e.Is6() && e.Src.IsValid() {
			s = pseudoHeader6(e.Src.AsSlice(), e.Dst.AsSlice(), 8, uint8(layers.IPProtocolICMPv6))
		}
		s = Sum16(s, hdr[:2])
		s = Sum16(s, hdr[4:8])
		binary.BigEndian.PutUint16(hdr[2:], ^Fold(s))
	}
	if e.Faults&FaultIPChecksum != 0 && d != DepthICMP {
		c := b[ipOff+10 : ipOff+12]
		binary.BigEndian.PutUint16(c, binary.BigEndian.Uint16(c)^0x5555)
	}
}

var depthNames = [...]string{DepthICMP: "icmp", DepthIP: "ip", DepthEthernet: "ethernet"}

func (d Depth) String() string {
	if int(d) < len(depthNames) && depthNames[d] != "" {
		return depthNames[d]
	}
	return fmt.Sprintf("Depth(%d)", uint8(d))
}
