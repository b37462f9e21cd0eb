package craft

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Class is what a decoded frame is, as far as a pinger cares.
type Class uint8

const (
	_ Class = iota
	// ClassOther: anything that is not an echo or an ICMP error (ARP, NDP,
	// TCP, fragments after the first, undecodable bytes).
	ClassOther
	ClassEchoRequest
	ClassEchoReply
	// ClassError: an ICMP or ICMPv6 error; Packet.Error says which.
	ClassError
	// ClassQuery: an ICMPv4 timestamp, address mask or information
	// request or reply; Packet.Query says which.
	ClassQuery
)

// Packet is a decoded frame. Byte slices (MACs, Payload) alias the data given
// to Decode and VLAN aliases the Decoder: copy them to keep them past the next
// Decode or past the life of the capture buffer.
type Packet struct {
	Class Class

	// Link layer. SrcMAC is the cooked header's address for Linux cooked
	// captures; DstMAC is nil there. Both are nil on raw IP links.
	SrcMAC, DstMAC net.HardwareAddr
	VLAN           []uint16
	EtherType      layers.EthernetType

	// Network layer; IPVersion is 0 when there is none.
	IPVersion     uint8
	Src, Dst      netip.Addr
	TTL           uint8 // hop limit for IPv6
	TOS           uint8 // traffic class for IPv6
	IPID          uint16
	IPLength      int // total length the header claims
	DontFragment  bool
	MoreFragments bool
	FragOffset    int // bytes
	// FragID identifies a fragment's datagram: the IPv4 identification,
	// or the IPv6 fragment header's. FragData is the fragment's share of
	// the datagram's payload (aliasing the frame), set for fragments only.
	FragID     uint32
	FragData   []byte
	IPChecksum Checksum
	// IPOptions are the IPv4 header's option bytes; they alias the frame.
	IPOptions []byte
	// Protocol is the upper-layer protocol, after IPv6 extension headers.
	Protocol uint8

	// ICMP or ICMPv6, when Protocol is 1 or 58 and the header is present.
	ICMPType, ICMPCode uint8
	ICMPChecksum       Checksum
	ID, Seq            uint16 // echo and the other queries only
	Payload            []byte // echo data
	// Query, QueryReply, Times and Mask describe a ClassQuery message:
	// which query, whether a reply, a timestamp's originate, receive and
	// transmit times, an address mask.
	Query      Query
	QueryReply bool
	Times      [3]uint32
	Mask       uint32
	Error      ICMPError
	// QuoteData is the echo data an ICMP error quotes after the probe's
	// ICMP header (RFC 792 routers quote none, Linux up to 576 bytes of the
	// whole packet), for checking the probe's authenticator.
	QuoteData []byte

	// Truncated: the capture holds fewer bytes than the headers claim.
	Truncated bool
	// Malformed says why decoding stopped early, if it did.
	Malformed string
}

// Decoder decodes frames of one link type. It preallocates every layer and is
// not safe for concurrent use; give each goroutine its own.
type Decoder struct {
	link LinkType

	eth   layers.Ethernet
	vlan  vlanStack
	sll   layers.LinuxSLL
	sll2  LinuxSLL2
	ip4   ipv4Layer
	ip6   ipv6Layer
	ext   ipv6Ext
	icmp4 layers.ICMPv4
	icmp6 layers.ICMPv6
	echo6 layers.ICMPv6Echo

	fromEth, fromSLL, from4, from6 *gopacket.DecodingLayerParser
	decoded                        []gopacket.LayerType

	q4 layers.IPv4
	q6 ipv6Layer
	tr truncation // a field, so passing it as DecodeFeedback does not allocate
}

// ErrLinkType is returned by NewDecoder for link types it cannot decode.
var ErrLinkType = errors.New("craft: unsupported link type")

// NewDecoder returns a decoder for frames of the given link type.
func NewDecoder(link LinkType) (*Decoder, error) {
	switch link {
	case LinkTypeEthernet, LinkTypeRaw, linkTypeRawOpenBSD, LinkTypeIPv4, LinkTypeIPv6, LinkTypeLinuxSLL, LinkTypeLinuxSLL2:
	default:
		return nil, fmt.Errorf("%w %s: pingcraft decodes EN10MB, RAW, IPV4, IPV6, LINUX_SLL and LINUX_SLL2", ErrLinkType, link)
	}
	d := &Decoder{link: link, decoded: make([]gopacket.LayerType, 0, 16)}
	d.vlan.ids = make([]uint16, 0, maxVLANs)
	// The parser walks to the upper-layer header; ICMP is decoded by
	// icmpv4/icmpv6 with the same preallocated gopacket layers, because a
	// first fragment carries an ICMP header the parser would not reach.
	dec := []gopacket.DecodingLayer{&d.eth, &d.vlan, &d.sll, &d.ip4, &d.ip6, &d.ext}
	newParser := func(first gopacket.LayerType) *gopacket.DecodingLayerParser {
		p := gopacket.NewDecodingLayerParser(first, dec...)
		p.IgnoreUnsupported = true
		return p
	}
	d.fromEth = newParser(layers.LayerTypeEthernet)
	d.fromSLL = newParser(layers.LayerTypeLinuxSLL)
	d.from4 = newParser(layers.LayerTypeIPv4)
	d.from6 = newParser(layers.LayerTypeIPv6)
	return d, nil
}

// LinkType returns the link type d decodes.
func (d *Decoder) LinkType() LinkType { return d.link }

// Decode decodes data into p, overwriting it. It returns an error only when
// not even the link-layer header is there; anything wrong above that is
// reported in p (ClassOther, Truncated, Malformed, bad checksums).
func (d *Decoder) Decode(data []byte, p *Packet) error {
	*p = Packet{Class: ClassOther}
	d.vlan.ids = d.vlan.ids[:0]
	d.decoded = d.decoded[:0]

	var parser *gopacket.DecodingLayerParser
	body := data
	switch d.link {
	case LinkTypeEthernet:
		if len(data) < 14 {
			return fmt.Errorf("craft: Ethernet frame of %d bytes: %w", len(data), io.ErrUnexpectedEOF)
		}
		parser = d.fromEth
	case LinkTypeLinuxSLL:
		if len(data) < 16 {
			return fmt.Errorf("craft: LINUX_SLL frame of %d bytes: %w", len(data), io.ErrUnexpectedEOF)
		}
		parser = d.fromSLL
	case LinkTypeLinuxSLL2:
		if err := d.sll2.DecodeFromBytes(data); err != nil {
			return err
		}
		p.EtherType = d.sll2.Protocol
		p.SrcMAC = net.HardwareAddr(d.sll2.Addr)
		body = data[LinuxSLL2Len:]
		switch d.sll2.Protocol {
		case layers.EthernetTypeIPv4:
			parser = d.from4
		case layers.EthernetTypeIPv6:
			parser = d.from6
		default:
			return nil
		}
	default: // raw IP
		if len(data) == 0 {
			return fmt.Errorf("craft: empty %s packet: %w", d.link, io.ErrUnexpectedEOF)
		}
		switch data[0] >> 4 {
		case 4:
			parser, p.EtherType = d.from4, layers.EthernetTypeIPv4
		case 6:
			parser, p.EtherType = d.from6, layers.EthernetTypeIPv6
		default:
			p.Malformed = fmt.Sprintf("IP version %d", data[0]>>4)
			return nil
		}
	}

	if err := parser.DecodeLayers(body, &d.decoded); err != nil {
		var unsupported gopacket.UnsupportedLayerType
		if !errors.As(err, &unsupported) {
			p.Malformed = err.Error()
		}
	}
	p.Truncated = parser.Truncated

	var l4 []byte // where the upper-layer header starts
	l4ok := false // l4 holds the upper-layer header (not a later fragment)
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeEthernet:
			p.SrcMAC, p.DstMAC, p.EtherType = d.eth.SrcMAC, d.eth.DstMAC, d.eth.EthernetType
		case layers.LayerTypeDot1Q:
			p.EtherType = d.vlan.Type
		case layers.LayerTypeLinuxSLL:
			p.EtherType = d.sll.EthernetType
			if d.sll.AddrLen > 0 && int(d.sll.AddrLen) <= len(d.sll.Addr) {
				p.SrcMAC = d.sll.Addr[:d.sll.AddrLen]
			}
		case layers.LayerTypeIPv4:
			l4, l4ok = d.network4(p)
		case layers.LayerTypeIPv6:
			l4, l4ok = d.network6(p, d.ip6.Payload, nextHeader(&d.ip6.IPv6))
		case layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6Destination:
			// Only after IPv6: gopacket also follows IPv4's protocol 43 or
			// 60 into them, which no IPv4 stack reads as extension headers.
			if p.IPVersion == 6 {
				l4, l4ok = d.network6(p, d.ext.Payload, d.ext.NextHeader)
			}
		}
	}
	if len(d.vlan.ids) > 0 {
		p.VLAN = d.vlan.ids
	}
	if !l4ok {
		return nil
	}
	switch {
	case p.IPVersion == 4 && p.Protocol == ipProtoICMP:
		d.icmpv4(p, l4, whole(p, l4, int(d.ip4.IHL)*4))
	case p.IPVersion == 6 && p.Protocol == ipProtoICMPv6:
		// l4 and the IPv6 header share one array: the cap difference is
		// how far l4 starts into the packet, extension headers included.
		var base uint32
		ok := whole(p, l4, cap(d.ip6.Contents)-cap(l4))
		if ok {
			base = pseudoHeader6(d.ip6.SrcIP, d.ip6.DstIP, uint32(len(l4)), ipProtoICMPv6)
		}
		d.icmpv6(p, l4, ok, base)
	}
	return nil
}

// DecodeICMP decodes an ICMP (six false) or ICMPv6 message that arrived
// without its IP header, as raw ICMPv6 and ping sockets deliver them. The
// IP fields of p stay empty. An ICMPv6 checksum needs the pseudo-header, so
// it is left unverified; the kernel has checked it before delivery.
func (d *Decoder) DecodeICMP(msg []byte, six bool, p *Packet) {
	*p = Packet{Class: ClassOther}
	if six {
		p.Protocol = ipProtoICMPv6
		d.icmpv6(p, msg, false, 0)
		return
	}
	p.Protocol = ipProtoICMP
	d.icmpv4(p, msg, true)
}

// network4 fills the IPv4 fields and returns the upper-layer bytes.
func (d *Decoder) network4(p *Packet) ([]byte, bool) {
	ip := &d.ip4
	p.IPVersion = 4
	p.Src = addrFrom(ip.SrcIP)
	p.Dst = addrFrom(ip.DstIP)
	p.TTL, p.TOS, p.IPID = ip.TTL, ip.TOS, ip.Id
	p.IPLength = int(ip.Length)
	p.DontFragment = ip.Flags&layers.IPv4DontFragment != 0
	p.MoreFragments = ip.Flags&layers.IPv4MoreFragments != 0
	p.FragOffset = int(ip.FragOffset) * 8
	p.Protocol = uint8(ip.Protocol)
	p.IPChecksum = verify(0, ip.Contents, 10)
	p.FragID = uint32(ip.Id)
	if p.MoreFragments || p.FragOffset > 0 {
		p.FragData = ip.Payload
	}
	if len(ip.Contents) > 20 {
		p.IPOptions = ip.Contents[20:]
	}
	return ip.Payload, p.FragOffset == 0
}

// network6 fills the IPv6 fields (once) and follows a fragment header, which
// the parser leaves alone so that later fragments are never read as ICMPv6.
func (d *Decoder) network6(p *Packet, payload []byte, next layers.IPProtocol) ([]byte, bool) {
	if p.IPVersion == 0 {
		ip := &d.ip6
		p.IPVersion = 6
		p.Src = addrFrom(ip.SrcIP)
		p.Dst = addrFrom(ip.DstIP)
		p.TTL, p.TOS = ip.HopLimit, ip.TrafficClass
		p.IPLength = ipv6HeaderLen + int(ip.Length)
	}
	p.Protocol = uint8(next)
	if next != layers.IPProtocolIPv6Fragment {
		return payload, true
	}
	if len(payload) < 8 {
		p.Truncated = true
		return nil, false
	}
	p.Protocol = payload[0]
	off := binary.BigEndian.Uint16(payload[2:4])
	p.FragOffset = int(off>>3) * 8
	p.MoreFragments = off&1 != 0
	p.FragID = binary.BigEndian.Uint32(payload[4:8])
	if p.MoreFragments || p.FragOffset > 0 {
		p.FragData = payload[8:]
	}
	return payload[8:], p.FragOffset == 0
}

// nextHeader is the protocol after the fixed header and hop-by-hop options,
// which gopacket's IPv6 layer absorbs.
func nextHeader(ip *layers.IPv6) layers.IPProtocol {
	if ip.HopByHop != nil {
		return ip.HopByHop.NextHeader
	}
	return ip.NextHeader
}

// whole reports whether msg is the complete upper-layer message, so that its
// checksum can be verified.
func whole(p *Packet, msg []byte, hdrLen int) bool {
	return !p.Truncated && !p.MoreFragments && p.FragOffset == 0 && len(msg) == p.IPLength-hdrLen
}

// setICMP records an ICMP(v6) header's type and code, and its checksum,
// verified when the whole message (and for ICMPv6 the pseudo-header sum
// base) is present.
func setICMP(p *Packet, typ, code uint8, sum uint16, msg []byte, verifiable bool, base uint32) {
	p.ICMPType, p.ICMPCode = typ, code
	p.ICMPChecksum = Checksum{Got: sum, Status: ChecksumUnverified}
	if verifiable {
		p.ICMPChecksum = verify(base, msg, 2)
	}
}

// icmpv4 classifies an ICMP message; verifiable says all of it is present.
func (d *Decoder) icmpv4(p *Packet, msg []byte, verifiable bool) {
	ic := &d.icmp4
	if ic.DecodeFromBytes(msg, &d.tr) != nil {
		p.Truncated = true
		return
	}
	setICMP(p, ic.TypeCode.Type(), ic.TypeCode.Code(), ic.Checksum, msg, verifiable, 0)
	if p.ICMPType == icmp4EchoReply || p.ICMPType == icmp4Echo {
		p.Class = ClassEchoReply
		if p.ICMPType == icmp4Echo {
			p.Class = ClassEchoRequest
		}
		p.ID, p.Seq, p.Payload = ic.Id, ic.Seq, ic.Payload
		return
	}
	if q, reply, ok := queryOf(p.ICMPType); ok {
		body := ic.Payload
		switch {
		case q == QueryTimestamp && len(body) < 12, q == QueryMask && len(body) < 4:
			p.Class = ClassOther
			if p.Truncated {
				return // the capture is short, not the message
			}
			p.Malformed = fmt.Sprintf("%s message with %d bytes of body, short of %d", q, len(body), map[Query]int{QueryTimestamp: 12, QueryMask: 4}[q])
			return
		case q == QueryTimestamp:
			for i := range p.Times {
				p.Times[i] = binary.BigEndian.Uint32(body[4*i:])
			}
		case q == QueryMask:
			p.Mask = binary.BigEndian.Uint32(body)
		}
		p.Class, p.Query, p.QueryReply, p.ID, p.Seq = ClassQuery, q, reply, ic.Id, ic.Seq
		return
	}
	e := &p.Error
	if e.Kind = ErrorKindOf(false, p.ICMPType); e.Kind == 0 {
		return
	}
	switch {
	case e.Kind == ErrUnreachable && p.ICMPCode == icmp4FragNeeded:
		e.MTU = uint32(ic.Seq) // RFC 1191: next-hop MTU in the low 16 bits
	case e.Kind == ErrRedirect:
		e.Gateway = netip.AddrFrom4([4]byte(ic.Contents[4:8]))
	case e.Kind == ErrParameterProblem:
		e.Pointer = uint32(ic.Id >> 8)
	}
	p.Class = ClassError
	e.Type, e.Code = p.ICMPType, p.ICMPCode
	d.quote4(ic.Payload, &e.Quote, &p.QuoteData)
}

// icmpv6 classifies an ICMPv6 message; verifiable says all of it and its
// pseudo-header sum base are present.
func (d *Decoder) icmpv6(p *Packet, msg []byte, verifiable bool, base uint32) {
	ic := &d.icmp6
	if ic.DecodeFromBytes(msg, &d.tr) != nil {
		p.Truncated = true
		return
	}
	setICMP(p, ic.TypeCode.Type(), ic.TypeCode.Code(), ic.Checksum, msg, verifiable, base)
	e := &p.Error
	switch p.ICMPType {
	case icmp6Echo, icmp6EchoReply:
		if d.echo6.DecodeFromBytes(ic.Payload, &d.tr) != nil {
			p.Truncated = true
			return
		}
		p.Class = ClassEchoReply
		if p.ICMPType == icmp6Echo {
			p.Class = ClassEchoRequest
		}
		// gopacket's ICMPv6Echo does not set its payload.
		p.ID, p.Seq, p.Payload = d.echo6.Identifier, d.echo6.SeqNumber, ic.Payload[4:]
		return
	}
	if e.Kind = ErrorKindOf(true, p.ICMPType); e.Kind == 0 {
		return
	}
	// gopacket's ICMPv6 leaves the 4-byte MTU/pointer/unused field in the
	// payload; the quote follows it.
	if len(ic.Payload) < icmpErrorFieldsLen {
		e.Kind = 0
		p.Truncated = true
		return
	}
	info := binary.BigEndian.Uint32(ic.Payload)
	switch e.Kind {
	case ErrPacketTooBig:
		e.MTU = info
	case ErrParameterProblem:
		e.Pointer = info
	}
	p.Class = ClassError
	e.Six = true
	e.Type, e.Code = p.ICMPType, p.ICMPCode
	d.quote6(ic.Payload[icmpErrorFieldsLen:], &e.Quote, &p.QuoteData)
}

// quote4 extracts what an ICMPv4 error quotes. Every length in the quote is
// the sender's word: gopacket checks IHL against the bytes present, and the
// echo header is read only when 8 bytes of it are really there.
func (d *Decoder) quote4(q []byte, out *Quote, data *[]byte) {
	d.tr = false
	if d.q4.DecodeFromBytes(q, &d.tr) != nil || d.q4.Version != 4 {
		return
	}
	out.Present = true
	out.Src, out.Dst = addrFrom(d.q4.SrcIP), addrFrom(d.q4.DstIP)
	out.Protocol, out.TTL = uint8(d.q4.Protocol), d.q4.TTL
	out.Truncated = bool(d.tr)
	l4 := d.q4.Payload
	if out.Protocol == ipProtoICMP && d.q4.FragOffset == 0 && len(l4) >= icmpHeaderLen && l4[0] == icmp4Echo {
		out.Echo = true
		out.ID = binary.BigEndian.Uint16(l4[4:6])
		out.Seq = binary.BigEndian.Uint16(l4[6:8])
		*data = l4[icmpHeaderLen:]
	}
}

func (d *Decoder) quote6(q []byte, out *Quote, data *[]byte) {
	d.tr = false
	if d.q6.DecodeFromBytes(q, &d.tr) != nil || d.q6.Version != 6 {
		return
	}
	out.Present = true
	out.Src, out.Dst = addrFrom(d.q6.SrcIP), addrFrom(d.q6.DstIP)
	next := nextHeader(&d.q6.IPv6)
	out.TTL = d.q6.HopLimit
	out.Truncated = bool(d.tr)
	l4 := d.q6.Payload
	// A quoted first fragment (reassembly timeouts quote one) still holds
	// the probe's ICMPv6 header behind its fragment header.
	if next == layers.IPProtocolIPv6Fragment && len(l4) >= 8 && binary.BigEndian.Uint16(l4[2:4])>>3 == 0 {
		next, l4 = layers.IPProtocol(l4[0]), l4[8:]
	}
	out.Protocol = uint8(next)
	if out.Protocol == ipProtoICMPv6 && len(l4) >= icmpHeaderLen && l4[0] == icmp6Echo {
		out.Echo = true
		out.ID = binary.BigEndian.Uint16(l4[4:6])
		out.Seq = binary.BigEndian.Uint16(l4[6:8])
		*data = l4[icmpHeaderLen:]
	}
}

type truncation bool

func (t *truncation) SetTruncated() { *t = true }

func addrFrom(b []byte) netip.Addr {
	a, _ := netip.AddrFromSlice(b)
	return a
}

// maxVLANs bounds how many 802.1Q tags are recorded; more are decoded and
// skipped, so a frame of stacked tags cannot grow memory.
const maxVLANs = 4

// vlanStack records the VLAN id of every tag, which a single reused Dot1Q
// layer would overwrite (QinQ).
type vlanStack struct {
	layers.Dot1Q
	ids []uint16
}

func (v *vlanStack) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if err := v.Dot1Q.DecodeFromBytes(data, df); err != nil {
		return err
	}
	if len(v.ids) < cap(v.ids) {
		v.ids = append(v.ids, v.VLANIdentifier)
	}
	return nil
}

// ipv6Ext skips routing and destination-options headers; fragment headers
// are handled by network6 and hop-by-hop by gopacket's IPv6 layer itself.
type ipv6Ext struct {
	layers.IPv6ExtensionSkipper
}

var ipv6Skipped = gopacket.NewLayerClass([]gopacket.LayerType{layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6Destination})

func (*ipv6Ext) CanDecode() gopacket.LayerClass { return ipv6Skipped }

var classNames = [...]string{ClassOther: "other", ClassEchoRequest: "echo-request", ClassEchoReply: "echo-reply", ClassError: "error", ClassQuery: "query"}

func (c Class) String() string {
	if int(c) < len(classNames) && classNames[c] != "" {
		return classNames[c]
	}
	return fmt.Sprintf("Class(%d)", uint8(c))
}
