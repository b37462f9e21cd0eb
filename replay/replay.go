// Package replay rewrites captured frames to go out again on another
// network (addresses mapped, MACs of the new next hop, TTL, lengths and
// checksums recomputed with gopacket), paces them as captured or faster, and
// tells which answer, if any, belongs to each: `pingcraft replay`.
package replay

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/pingcraft/pingcraft/craft"
)

// Map rewrites the addresses of one prefix into another of the same
// family and length, host bits kept: 198.19.0.0/16=198.18.0.0/16.
type Map struct{ From, To netip.Prefix }

// ParseMap reads A=B, each an address or a prefix.
func ParseMap(s string) (Map, error) {
	a, b, ok := strings.Cut(s, "=")
	if !ok {
		return Map{}, fmt.Errorf("--map %q: give FROM=TO, addresses or prefixes (198.19.0.0/16=198.18.0.0/16)", s)
	}
	from, err1 := parsePrefix(a)
	to, err2 := parsePrefix(b)
	switch {
	case err1 != nil || err2 != nil:
		return Map{}, fmt.Errorf("--map %q: %s is not an address or prefix", s, map[bool]string{true: a, false: b}[err1 != nil])
	case from.Addr().Is4() != to.Addr().Is4():
		return Map{}, fmt.Errorf("--map %q: %s and %s are of different families", s, a, b)
	case from.Bits() != to.Bits():
		return Map{}, fmt.Errorf("--map %q: /%d and /%d: give prefixes of the same length", s, from.Bits(), to.Bits())
	}
	return Map{from.Masked(), to.Masked()}, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Apply maps a, if m covers it.
func (m Map) Apply(a netip.Addr) (netip.Addr, bool) {
	if !m.From.Contains(a) {
		return a, false
	}
	in, to := a.As16(), m.To.Addr().As16()
	bits := m.From.Bits()
	if a.Is4() {
		bits += 96
	}
	for i := range 16 {
		keep := 0 // how many leading bits of this byte come from To
		switch {
		case (i+1)*8 <= bits:
			keep = 8
		case i*8 < bits:
			keep = bits - i*8
		}
		mask := byte(0xff << (8 - keep))
		in[i] = to[i]&mask | in[i]&^mask
	}
	out := netip.AddrFrom16(in)
	if a.Is4() {
		out = out.Unmap()
	}
	return out, true
}

// Rewrite says what changes in each frame. Every frame leaves as Ethernet,
// its lengths and checksums computed again.
type Rewrite struct {
	Maps []Map
	// TTL, if not zero, replaces the TTL or hop limit.
	TTL uint8
	// SrcMAC, if not nil, replaces the source MAC (the interface's).
	SrcMAC net.HardwareAddr
	// DstMAC, if not nil, gives the destination MAC for a (mapped)
	// destination address: the next hop's. Nil keeps the captured MAC,
	// which a frame from a file without one (raw IP, cooked) cannot do.
	DstMAC func(dst netip.Addr) (net.HardwareAddr, error)
}

// Frame is one frame as it leaves, and what is known of it for matching.
type Frame struct {
	Data     []byte
	Src, Dst netip.Addr // zero for a frame that is not IP
	Protocol uint8
	// L4 is the first 8 bytes of the transport header as sent, which an
	// ICMP error quotes.
	L4      []byte
	Summary string // e.g. "198.18.0.2 > 198.18.1.2 ICMP echo request id 1 seq 1"
}

// ErrNotIP is returned for frames that are not IP (ARP, LLDP, ...), which
// make no sense on another network: they are not replayed.
var ErrNotIP = errors.New("not an IP packet: not replayed")

// Apply rewrites one frame of the given link type.
func (rw *Rewrite) Apply(link craft.LinkType, data []byte, wire int) (*Frame, error) {
	if wire > len(data) {
		return nil, fmt.Errorf("captured %d of its %d bytes: a frame cut short cannot be sent again", len(data), wire)
	}
	var first gopacket.LayerType
	switch link {
	case craft.LinkTypeEthernet:
		first = layers.LayerTypeEthernet
	case craft.LinkTypeRaw:
		first = layers.LayerTypeIPv4
		if len(data) > 0 && data[0]>>4 == 6 {
			first = layers.LayerTypeIPv6
		}
	case craft.LinkTypeIPv4:
		first = layers.LayerTypeIPv4
	case craft.LinkTypeIPv6:
		first = layers.LayerTypeIPv6
	case craft.LinkTypeLinuxSLL:
		first = layers.LayerTypeLinuxSLL
	default:
		return nil, fmt.Errorf("link type %s: replay takes Ethernet, raw IP and Linux cooked captures", link)
	}
	pkt := gopacket.NewPacket(data, first, gopacket.DecodeOptions{NoCopy: true})
	if e := pkt.ErrorLayer(); e != nil {
		return nil, fmt.Errorf("cannot be decoded: %v", e.Error())
	}
	eth := &layers.Ethernet{}
	if l, ok := pkt.Layer(layers.LayerTypeEthernet).(*layers.Ethernet); ok {
		*eth = *l
	}
	var ls []gopacket.SerializableLayer
	f := &Frame{}
	var netLayer gopacket.NetworkLayer
	for _, l := range pkt.Layers() {
		switch l := l.(type) {
		case *layers.Ethernet, *layers.LinuxSLL, *layers.Dot1Q:
			continue // frames leave as plain Ethernet, untagged
		case *layers.IPv4:
			if f.Src.IsValid() {
				return nil, errors.New("IP inside IP: not rewritten")
			}
			f.Src, f.Dst = rw.mapAddr(addr(l.SrcIP)), rw.mapAddr(addr(l.DstIP))
			l.SrcIP, l.DstIP = f.Src.AsSlice(), f.Dst.AsSlice()
			if rw.TTL != 0 {
				l.TTL = rw.TTL
			}
			if l.Flags&layers.IPv4MoreFragments != 0 || l.FragOffset != 0 {
				return nil, errors.New("an IP fragment: replay sends whole datagrams")
			}
			f.Protocol, netLayer = uint8(l.Protocol), l
			eth.EthernetType = layers.EthernetTypeIPv4
		case *layers.IPv6:
			if f.Src.IsValid() {
				return nil, errors.New("IP inside IP: not rewritten")
			}
			f.Src, f.Dst = rw.mapAddr(addr(l.SrcIP)), rw.mapAddr(addr(l.DstIP))
			l.SrcIP, l.DstIP = f.Src.AsSlice(), f.Dst.AsSlice()
			if rw.TTL != 0 {
				l.HopLimit = rw.TTL
			}
			f.Protocol, netLayer = uint8(l.NextHeader), l
			eth.EthernetType = layers.EthernetTypeIPv6
		case *layers.ICMPv6:
			// gopacket's ICMPv6Echo (v1.1.19) drops the echo data as it
			// decodes: the message body goes on as it is.
			l.SetNetworkLayerForChecksum(netLayer)
			ls = append(ls, l, gopacket.Payload(l.LayerPayload()))
			goto built
		case *layers.TCP:
			l.SetNetworkLayerForChecksum(netLayer)
		case *layers.UDP:
			l.SetNetworkLayerForChecksum(netLayer)
		case *layers.ICMPv4, *gopacket.Payload, *layers.IPv6HopByHop, *layers.IPv6Destination:
		default:
			if f.Src.IsValid() {
				// Above IP, a layer gopacket decodes but pingcraft does
				// not rebuild (DNS, ...): its bytes go as they are.
				ls = append(ls, gopacket.Payload(l.LayerContents()), gopacket.Payload(l.LayerPayload()))
				goto built
			}
			if _, ok := l.(gopacket.SerializableLayer); !ok {
				return nil, fmt.Errorf("%s cannot be rebuilt", l.LayerType())
			}
		}
		sl, ok := l.(gopacket.SerializableLayer)
		if !ok {
			return nil, fmt.Errorf("%s cannot be rebuilt", l.LayerType())
		}
		ls = append(ls, sl)
	}
built:
	if !f.Src.IsValid() {
		return nil, ErrNotIP
	}
	if rw.SrcMAC != nil {
		eth.SrcMAC = rw.SrcMAC
	}
	if rw.DstMAC != nil {
		mac, err := rw.DstMAC(f.Dst)
		if err != nil {
			return nil, err
		}
		eth.DstMAC = mac
	} else if link != craft.LinkTypeEthernet {
		return nil, errors.New("no destination MAC in a capture without an Ethernet header: let replay resolve the next hop")
	}
	if eth.SrcMAC == nil {
		return nil, errors.New("no source MAC in a capture without an Ethernet header: give the interface")
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, append([]gopacket.SerializableLayer{eth}, ls...)...); err != nil {
		return nil, fmt.Errorf("cannot be rebuilt: %w", err)
	}
	f.Data = buf.Bytes()
	hl := 14 + ipHeaderLen(f.Data[14:])
	if hl+8 <= len(f.Data) {
		f.L4 = f.Data[hl : hl+8]
	}
	f.Summary = summary(f)
	return f, nil
}

// Destination is where a frame goes once rewritten (its mapped IP
// destination), whatever MACs rw would give it: what to resolve next hops
// for before sending.
func (rw *Rewrite) Destination(link craft.LinkType, data []byte, wire int) (netip.Addr, error) {
	placeholder := net.HardwareAddr{2, 0, 0, 0, 0, 0}
	probe := *rw
	probe.SrcMAC = placeholder
	probe.DstMAC = func(netip.Addr) (net.HardwareAddr, error) { return placeholder, nil }
	f, err := probe.Apply(link, data, wire)
	if err != nil {
		return netip.Addr{}, err
	}
	return f.Dst, nil
}

func (rw *Rewrite) mapAddr(a netip.Addr) netip.Addr {
	for _, m := range rw.Maps {
		if b, ok := m.Apply(a); ok {
			return b
		}
	}
	return a
}

func addr(ip net.IP) netip.Addr {
	a, _ := netip.AddrFromSlice(ip)
	return a.Unmap()
}

// ipHeaderLen is the length of an IPv4 header, or of the IPv6 header
// (extension headers are not counted: their frames match on addresses).
func ipHeaderLen(b []byte) int {
	if len(b) > 0 && b[0]>>4 == 4 {
		return int(b[0]&0xf) * 4
	}
	return 40
}

func summary(f *Frame) string {
	s := fmt.Sprintf("%s > %s", f.Src, f.Dst)
	l4 := f.L4
	switch {
	case len(l4) < 8:
		return s + fmt.Sprintf(" proto %d", f.Protocol)
	case f.Protocol == 1 && l4[0] == 8, f.Protocol == 58 && l4[0] == 128:
		return s + fmt.Sprintf(" ICMP echo request id %d seq %d", be16(l4[4:]), be16(l4[6:]))
	case f.Protocol == 1 && (l4[0] == 13 || l4[0] == 15 || l4[0] == 17):
		return s + fmt.Sprintf(" ICMP %s request id %d seq %d", map[uint8]string{13: "timestamp", 15: "info", 17: "address mask"}[l4[0]], be16(l4[4:]), be16(l4[6:]))
	case f.Protocol == 1, f.Protocol == 58:
		return s + fmt.Sprintf(" ICMP type %d code %d", l4[0], l4[1])
	case f.Protocol == 6:
		return s + fmt.Sprintf(" TCP %d > %d", be16(l4), be16(l4[2:]))
	case f.Protocol == 17:
		return s + fmt.Sprintf(" UDP %d > %d", be16(l4), be16(l4[2:]))
	}
	return s + fmt.Sprintf(" proto %d", f.Protocol)
}

var (
	be16 = binary.BigEndian.Uint16
	be32 = binary.BigEndian.Uint32
)

// queryReplies are the ICMPv4 query replies by the request each answers:
// timestamp, information, address mask.
var queryReplies = map[uint8]uint8{14: 13, 16: 15, 18: 17}

// Answer is what came back for a frame.
type Answer struct {
	// Kind is "reply" (echo reply), "tcp" (a segment back: SYN-ACK, RST),
	// "udp", "error" (an ICMP error quoting the frame) or "" (none).
	Kind string
	From netip.Addr
	Text string // e.g. "echo reply", "Flags [S.]", "Destination Port Unreachable"
	RTT  time.Duration
}

// Match says whether pkt, received after f was sent, answers it.
func Match(f *Frame, pkt []byte) (Answer, bool) {
	a, ok := Parse(pkt)
	if !ok {
		return Answer{}, false
	}
	return a.Answers(f)
}

// Arrival is a received Ethernet frame decoded once, to be tried against
// every frame still waiting for its answer.
type Arrival struct {
	p        gopacket.Packet
	src, dst netip.Addr
}

// Parse decodes pkt (it must stay unchanged while the Arrival is used);
// false for a frame that is not IP.
func Parse(pkt []byte) (*Arrival, bool) {
	a := &Arrival{p: gopacket.NewPacket(pkt, layers.LayerTypeEthernet, gopacket.DecodeOptions{NoCopy: true, Lazy: true})}
	switch ip := a.p.NetworkLayer().(type) {
	case *layers.IPv4:
		a.src, a.dst = addr(ip.SrcIP), addr(ip.DstIP)
	case *layers.IPv6:
		a.src, a.dst = addr(ip.SrcIP), addr(ip.DstIP)
	default:
		return nil, false
	}
	return a, true
}

// Answers says whether the arrival answers f.
func (a *Arrival) Answers(f *Frame) (Answer, bool) {
	if !f.Src.IsValid() || len(f.L4) < 8 || a.dst != f.Src {
		return Answer{}, false
	}
	p, src := a.p, a.src
	switch l := p.TransportLayer().(type) {
	case *layers.TCP:
		if f.Protocol == 6 && src == f.Dst && uint16(l.SrcPort) == be16(f.L4[2:]) && uint16(l.DstPort) == be16(f.L4) {
			return Answer{Kind: "tcp", From: src, Text: "Flags [" + tcpFlags(l) + "]"}, true
		}
		return Answer{}, false
	case *layers.UDP:
		if f.Protocol == 17 && src == f.Dst && uint16(l.SrcPort) == be16(f.L4[2:]) && uint16(l.DstPort) == be16(f.L4) {
			return Answer{Kind: "udp", From: src, Text: "UDP"}, true
		}
		return Answer{}, false
	}
	if icmp, ok := p.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4); ok {
		t := icmp.TypeCode.Type()
		if t == layers.ICMPv4TypeEchoReply {
			if f.Protocol == 1 && f.L4[0] == 8 && src == f.Dst && icmp.Id == be16(f.L4[4:]) && icmp.Seq == be16(f.L4[6:]) {
				return Answer{Kind: "reply", From: src, Text: "echo reply"}, true
			}
			return Answer{}, false
		}
		if req, ok := queryReplies[uint8(t)]; ok {
			b := icmp.LayerPayload()
			if f.Protocol == 1 && f.L4[0] == req && src == f.Dst && icmp.Id == be16(f.L4[4:]) && icmp.Seq == be16(f.L4[6:]) {
				a := Answer{Kind: "reply", From: src, Text: icmp.TypeCode.String()}
				switch {
				case t == 14 && len(b) >= 12:
					a.Text = fmt.Sprintf("timestamp reply originate %d receive %d transmit %d", be32(b), be32(b[4:]), be32(b[8:]))
				case t == 18 && len(b) >= 4:
					a.Text = fmt.Sprintf("address mask reply %d.%d.%d.%d", b[0], b[1], b[2], b[3])
				}
				return a, true
			}
			return Answer{}, false
		}
		if quotes(f, icmp.LayerPayload(), false) {
			return Answer{Kind: "error", From: src, Text: icmp.TypeCode.String()}, true
		}
		return Answer{}, false
	}
	if icmp, ok := p.Layer(layers.LayerTypeICMPv6).(*layers.ICMPv6); ok {
		t := icmp.TypeCode.Type()
		if t == layers.ICMPv6TypeEchoReply {
			b := icmp.LayerPayload()
			if f.Protocol == 58 && f.L4[0] == 128 && src == f.Dst && len(b) >= 4 && be16(b) == be16(f.L4[4:]) && be16(b[2:]) == be16(f.L4[6:]) {
				return Answer{Kind: "reply", From: src, Text: "echo reply"}, true
			}
			return Answer{}, false
		}
		if t < 128 && len(icmp.LayerPayload()) >= 4 && quotes(f, icmp.LayerPayload()[4:], true) {
			return Answer{Kind: "error", From: src, Text: icmp.TypeCode.String()}, true
		}
	}
	return Answer{}, false
}

// quotes says whether an ICMP error's quote (after its 4 unused bytes for
// ICMPv4, given here from the start of the quoted IP header) is of f.
func quotes(f *Frame, q []byte, six bool) bool {
	var src, dst netip.Addr
	var proto uint8
	var hl int
	switch {
	case !six && len(q) >= 20 && q[0]>>4 == 4:
		src, dst = netip.AddrFrom4([4]byte(q[12:16])), netip.AddrFrom4([4]byte(q[16:20]))
		proto, hl = q[9], int(q[0]&0xf)*4
	case six && len(q) >= 40 && q[0]>>4 == 6:
		src, dst = netip.AddrFrom16([16]byte(q[8:24])), netip.AddrFrom16([16]byte(q[24:40]))
		proto, hl = q[6], 40
	default:
		return false
	}
	if src != f.Src || dst != f.Dst || proto != f.Protocol || len(q) < hl+8 {
		return false
	}
	l4 := q[hl : hl+8]
	switch proto {
	case 1, 58: // type, id and seq; the checksum may be a NAT's
		return l4[0] == f.L4[0] && be16(l4[4:]) == be16(f.L4[4:]) && be16(l4[6:]) == be16(f.L4[6:])
	case 6, 17:
		return be16(l4) == be16(f.L4) && be16(l4[2:]) == be16(f.L4[2:])
	}
	return string(l4) == string(f.L4)
}

func tcpFlags(t *layers.TCP) string {
	var b strings.Builder
	for _, f := range []struct {
		on bool
		c  byte
	}{{t.FIN, 'F'}, {t.SYN, 'S'}, {t.RST, 'R'}, {t.PSH, 'P'}, {t.ACK, '.'}, {t.URG, 'U'}} {
		if f.on {
			b.WriteByte(f.c)
		}
	}
	return b.String()
}

// Pace says how long to wait before each frame.
type Pace struct {
	// Speed divides the captured gaps (--speed X); PPS, if set, sends
	// that many frames a second whatever the capture's timing (--pps N);
	// Top sends with no wait (--topspeed).
	Speed float64
	PPS   float64
	Top   bool
}

// Gap is the wait before a frame stamped at, after one stamped prev (zero
// for the first).
func (p Pace) Gap(prev, at time.Time) time.Duration {
	switch {
	case p.Top:
		return 0
	case p.PPS > 0:
		return time.Duration(float64(time.Second) / p.PPS)
	case prev.IsZero() || !at.After(prev):
		return 0
	}
	speed := p.Speed
	if speed <= 0 {
		speed = 1
	}
	return time.Duration(float64(at.Sub(prev)) / speed)
}
