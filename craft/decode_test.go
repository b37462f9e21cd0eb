package craft_test

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/pingcraft/pingcraft/craft"
)

var router4 = netip.MustParseAddr("198.18.0.1")
var router6 = netip.MustParseAddr("fd00:198:18::1")

// probe4 is our echo request as an IPv4 packet: the thing errors quote.
func probe4(t testing.TB, size int) []byte {
	e := craft.Echo{ID: 0x1234, Seq: 7, Src: host4, Dst: target4, Payload: make([]byte, size)}
	return serialize(t, &e, craft.DepthIP)
}

func probe6(t testing.TB, size int) []byte {
	e := craft.Echo{ID: 0x1234, Seq: 7, Src: host6, Dst: target6, Payload: make([]byte, size)}
	return serialize(t, &e, craft.DepthIP)
}

// options40 fills a 40-byte IPv4 option area: a record-route option of 39
// bytes and an end-of-list byte, the largest header there is (IHL 15).
func options40() []layers.IPv4Option {
	return []layers.IPv4Option{
		{OptionType: 7, OptionLength: 39, OptionData: append([]byte{4}, make([]byte, 36)...)},
		{OptionType: 0, OptionLength: 1},
	}
}

func error4(t testing.TB, typ, code uint8, info uint32, quote []byte, opts []layers.IPv4Option) []byte {
	t.Helper()
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolICMPv4, SrcIP: router4.AsSlice(), DstIP: host4.AsSlice(), Options: opts}
	ic := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, code), Id: uint16(info >> 16), Seq: uint16(info)}
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, ic, gopacket.Payload(quote))
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func error6(t testing.TB, typ, code uint8, info uint32, quote []byte) []byte {
	t.Helper()
	ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolICMPv6, SrcIP: router6.AsSlice(), DstIP: host6.AsSlice()}
	ic := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(typ, code)}
	if err := ic.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	body := binary.BigEndian.AppendUint32(nil, info)
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, ic, gopacket.Payload(append(body, quote...)))
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// withIHL rewrites a quoted IPv4 header's IHL without fixing anything else.
func withIHL(b []byte, ihl uint8) []byte {
	b = bytes.Clone(b)
	b[0] = 0x40 | ihl
	return b
}

func withTotalLength(b []byte, n uint16) []byte {
	b = bytes.Clone(b)
	binary.BigEndian.PutUint16(b[2:], n)
	return b
}

func quoteWithOptions(t testing.TB) []byte {
	ip := &layers.IPv4{Version: 4, TTL: 1, Protocol: layers.IPProtocolICMPv4, SrcIP: host4.AsSlice(), DstIP: target4.AsSlice(), Options: options40()}
	ic := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 0x1234, Seq: 7}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, ic, gopacket.Payload(make([]byte, 56))); err != nil {
		t.Fatal(err)
	}
	if buf.Bytes()[0] != 0x4f {
		t.Fatalf("quote built with IHL %d, want 15", buf.Bytes()[0]&0xf)
	}
	return buf.Bytes()[:60+8]
}

func TestDecodeErrors(t *testing.T) {
	echoQuote := func(src, dst netip.Addr, trunc bool) craft.Quote {
		return craft.Quote{Present: true, Src: src, Dst: dst, Protocol: 1, TTL: 64, Echo: true, ID: 0x1234, Seq: 7, Truncated: trunc}
	}
	echoQuote6 := echoQuote(host6, target6, false)
	echoQuote6.Protocol = 58
	tests := []struct {
		name string
		pkt  []byte
		want craft.ICMPError
		text string
	}{
		{
			name: "host unreachable, RFC 792 quote of header + 8",
			pkt:  error4(t, 3, 1, 0, probe4(t, 56)[:28], nil),
			want: craft.ICMPError{Kind: craft.ErrUnreachable, Type: 3, Code: 1, Quote: echoQuote(host4, target4, true)},
			text: "Destination Host Unreachable",
		},
		{
			name: "port unreachable quoting the whole probe",
			pkt:  error4(t, 3, 3, 0, probe4(t, 56), nil),
			want: craft.ICMPError{Kind: craft.ErrUnreachable, Type: 3, Code: 3, Quote: echoQuote(host4, target4, false)},
			text: "Destination Port Unreachable",
		},
		{
			name: "frag needed carries the next-hop MTU",
			pkt:  error4(t, 3, 4, 1400, probe4(t, 1472)[:28], nil),
			want: craft.ICMPError{Kind: craft.ErrUnreachable, Type: 3, Code: 4, MTU: 1400, Quote: echoQuote(host4, target4, true)},
			text: "Frag needed and DF set (mtu = 1400)",
		},
		{
			name: "time exceeded",
			pkt:  error4(t, 11, 0, 0, probe4(t, 0), nil),
			want: craft.ICMPError{Kind: craft.ErrTimeExceeded, Type: 11, Quote: echoQuote(host4, target4, false)},
			text: "Time to live exceeded",
		},
		{
			name: "redirect host with its gateway",
			pkt:  error4(t, 5, 1, 0xc6120001, probe4(t, 0), nil),
			want: craft.ICMPError{Kind: craft.ErrRedirect, Type: 5, Code: 1, Gateway: router4, Quote: echoQuote(host4, target4, false)},
			text: "Redirect Host(New nexthop: 198.18.0.1)",
		},
		{
			name: "parameter problem points at an octet",
			pkt:  error4(t, 12, 0, 20<<24, probe4(t, 0), nil),
			want: craft.ICMPError{Kind: craft.ErrParameterProblem, Type: 12, Pointer: 20, Quote: echoQuote(host4, target4, false)},
			text: "Parameter problem: pointer = 20",
		},
		{
			name: "40 bytes of options in the reply and in the quote (CVE-2022-23093)",
			pkt:  error4(t, 11, 0, 0, quoteWithOptions(t), options40()),
			want: craft.ICMPError{Kind: craft.ErrTimeExceeded, Type: 11, Quote: craft.Quote{Present: true, Src: host4, Dst: target4, Protocol: 1, TTL: 1, Echo: true, ID: 0x1234, Seq: 7, Truncated: true}},
			text: "Time to live exceeded",
		},
		{
			name: "quoted IHL claims more than the quote holds",
			pkt:  error4(t, 11, 0, 0, withIHL(probe4(t, 56)[:28], 15), nil),
			want: craft.ICMPError{Kind: craft.ErrTimeExceeded, Type: 11},
			text: "Time to live exceeded",
		},
		{
			name: "quoted total length 65535 with 28 bytes present",
			pkt:  error4(t, 3, 1, 0, withTotalLength(probe4(t, 56)[:28], 65535), nil),
			want: craft.ICMPError{Kind: craft.ErrUnreachable, Type: 3, Code: 1, Quote: echoQuote(host4, target4, true)},
			text: "Destination Host Unreachable",
		},
		{
			name: "quote shorter than an IP header",
			pkt:  error4(t, 3, 1, 0, probe4(t, 56)[:10], nil),
			want: craft.ICMPError{Kind: craft.ErrUnreachable, Type: 3, Code: 1},
			text: "Destination Host Unreachable",
		},
		{
			name: "quote holds the IP header but only 4 bytes of ICMP",
			pkt:  error4(t, 3, 1, 0, probe4(t, 56)[:24], nil),
			want: craft.ICMPError{Kind: craft.ErrUnreachable, Type: 3, Code: 1, Quote: craft.Quote{Present: true, Src: host4, Dst: target4, Protocol: 1, TTL: 64, Truncated: true}},
			text: "Destination Host Unreachable",
		},
		{
			name: "ICMPv6 packet too big",
			pkt:  error6(t, 2, 0, 1280, probe6(t, 1452)[:1232]),
			want: craft.ICMPError{Kind: craft.ErrPacketTooBig, Six: true, Type: 2, MTU: 1280, Quote: func() craft.Quote { q := echoQuote6; q.Truncated = true; return q }()},
			text: "Packet too big: mtu=1280",
		},
		{
			name: "ICMPv6 address unreachable",
			pkt:  error6(t, 1, 3, 0, probe6(t, 56)),
			want: craft.ICMPError{Kind: craft.ErrUnreachable, Six: true, Type: 1, Code: 3, Quote: echoQuote6},
			text: "Destination unreachable: Address unreachable",
		},
		{
			name: "ICMPv6 hop limit",
			pkt:  error6(t, 3, 0, 0, probe6(t, 0)),
			want: craft.ICMPError{Kind: craft.ErrTimeExceeded, Six: true, Type: 3, Quote: echoQuote6},
			text: "Time exceeded: Hop limit",
		},
		{
			name: "ICMPv6 parameter problem",
			pkt:  error6(t, 4, 1, 6, probe6(t, 0)),
			want: craft.ICMPError{Kind: craft.ErrParameterProblem, Six: true, Type: 4, Code: 1, Pointer: 6, Quote: echoQuote6},
			text: "Parameter problem: Unknown header at 6",
		},
		{
			name: "ICMPv6 quote shorter than an IPv6 header",
			pkt:  error6(t, 1, 0, 0, probe6(t, 0)[:39]),
			want: craft.ICMPError{Kind: craft.ErrUnreachable, Six: true, Type: 1},
			text: "Destination unreachable: No route",
		},
	}
	d := newDecoder(t, craft.LinkTypeRaw)
	cmpAddr := cmp.Comparer(func(a, b netip.Addr) bool { return a == b })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p craft.Packet
			if err := d.Decode(tt.pkt, &p); err != nil {
				t.Fatal(err)
			}
			if p.Class != craft.ClassError {
				t.Fatalf("class %v, want error: %v", p.Class, &p)
			}
			if diff := cmp.Diff(tt.want, p.Error, cmpAddr); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if got := p.Error.String(); got != tt.text {
				t.Errorf("String() = %q, want %q", got, tt.text)
			}
			if p.ICMPChecksum.Status != craft.ChecksumGood {
				t.Errorf("checksum %+v, want good", p.ICMPChecksum)
			}
		})
	}
}

func TestDecodeMalformed(t *testing.T) {
	probe := probe4(t, 56)
	badOption := error4(t, 11, 0, 0, probe[:28], []layers.IPv4Option{{OptionType: 7, OptionLength: 3, OptionData: []byte{4}}})
	badOption[20+1] = 200 // option length past the header
	fixIPChecksum(badOption)
	tests := []struct {
		name      string
		link      craft.LinkType
		pkt       []byte
		wantErr   bool
		truncated bool
		malformed bool
	}{
		{name: "empty Ethernet", link: craft.LinkTypeEthernet, pkt: nil, wantErr: true},
		{name: "13-byte Ethernet", link: craft.LinkTypeEthernet, pkt: make([]byte, 13), wantErr: true},
		{name: "short SLL", link: craft.LinkTypeLinuxSLL, pkt: make([]byte, 15), wantErr: true},
		{name: "short SLL2", link: craft.LinkTypeLinuxSLL2, pkt: make([]byte, 19), wantErr: true},
		{name: "empty raw", link: craft.LinkTypeRaw, pkt: nil, wantErr: true},
		{name: "IP version 7", link: craft.LinkTypeRaw, pkt: []byte{0x70, 0, 0, 0}, malformed: true},
		{name: "cut inside the IPv4 header", link: craft.LinkTypeRaw, pkt: probe[:12], truncated: true, malformed: true},
		{name: "cut inside the ICMP header", link: craft.LinkTypeRaw, pkt: probe[:24], truncated: true},
		{name: "IHL below 5", link: craft.LinkTypeRaw, pkt: withIHL(probe, 4), malformed: true},
		{name: "option length past the header", link: craft.LinkTypeRaw, pkt: badOption, truncated: true, malformed: true},
		{name: "IPv6 cut inside the header", link: craft.LinkTypeRaw, pkt: probe6(t, 8)[:30], truncated: true, malformed: true},
		{name: "IPv6 cut inside ICMPv6", link: craft.LinkTypeRaw, pkt: probe6(t, 8)[:42], truncated: true},
		{name: "IPv6 echo cut after 4 bytes of ICMPv6", link: craft.LinkTypeRaw, pkt: probe6(t, 8)[:44], truncated: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p craft.Packet
			err := newDecoder(t, tt.link).Decode(tt.pkt, &p)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Decode error = %v, want error %v", err, tt.wantErr)
			}
			if p.Class != craft.ClassOther {
				t.Errorf("class %v, want other: %v", p.Class, &p)
			}
			if p.Truncated != tt.truncated || (p.Malformed != "") != tt.malformed {
				t.Errorf("truncated=%v malformed=%q, want truncated=%v malformed=%v", p.Truncated, p.Malformed, tt.truncated, tt.malformed)
			}
		})
	}
}

func fixIPChecksum(b []byte) {
	ihl := int(b[0]&0xf) * 4
	b[10], b[11] = 0, 0
	var s uint32
	for i := 0; i < ihl; i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	binary.BigEndian.PutUint16(b[10:], ^uint16(s))
}

func TestDecodeFirstFragment(t *testing.T) {
	// A 3000-byte echo reply cut at 1480 bytes of IP payload: the first
	// fragment has the ICMP header, its checksum cannot be checked yet.
	e := craft.Echo{Reply: true, ID: 5, Seq: 6, Src: target4, Dst: host4, Payload: make([]byte, 3000)}
	b := serialize(t, &e, craft.DepthIP)
	first := bytes.Clone(b[:1500])
	binary.BigEndian.PutUint16(first[2:], 1500)
	binary.BigEndian.PutUint16(first[6:], 0x2000) // MF
	fixIPChecksum(first)
	second := append(bytes.Clone(b[:20]), b[1500:]...)
	binary.BigEndian.PutUint16(second[2:], uint16(len(second)))
	binary.BigEndian.PutUint16(second[6:], 1480/8)
	fixIPChecksum(second)

	d := newDecoder(t, craft.LinkTypeRaw)
	var p craft.Packet
	if err := d.Decode(first, &p); err != nil {
		t.Fatal(err)
	}
	if p.Class != craft.ClassEchoReply || !p.MoreFragments || p.ICMPChecksum.Status != craft.ChecksumUnverified || p.IPChecksum.Status != craft.ChecksumGood {
		t.Errorf("first fragment decoded as %v", &p)
	}
	if err := d.Decode(second, &p); err != nil {
		t.Fatal(err)
	}
	if p.Class != craft.ClassOther || p.FragOffset != 1480 || p.ICMPChecksum.Status != 0 {
		t.Errorf("second fragment decoded as %v", &p)
	}
}

func TestDecodeLinkTypes(t *testing.T) {
	e := craft.Echo{Reply: true, ID: 9, Seq: 10, Src: target4, Dst: host4, SrcMAC: routerMAC, DstMAC: hostMAC, Payload: []byte("data")}
	ipPkt := serialize(t, &e, craft.DepthIP)
	frame := serialize(t, &e, craft.DepthEthernet)

	vlan := append(append(bytes.Clone(frame[:12]), 0x81, 0x00, 0x00, 0x64), frame[12:]...)
	qinq := append(append(bytes.Clone(frame[:12]), 0x88, 0xa8, 0x00, 0xc8, 0x81, 0x00, 0x00, 0x64), frame[12:]...)
	sll := append([]byte{0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 2, 0, 0, 0x08, 0x00}, ipPkt...)
	h := craft.LinuxSLL2{Protocol: layers.EthernetTypeIPv4, InterfaceIndex: 3, ARPHardware: 1, AddrLen: 6, Addr: routerMAC}
	sll2 := append(h.AppendTo(nil), ipPkt...)

	tests := []struct {
		name    string
		link    craft.LinkType
		data    []byte
		wantMAC string
		vlan    []uint16
	}{
		{"Ethernet", craft.LinkTypeEthernet, frame, routerMAC.String(), nil},
		{"802.1Q", craft.LinkTypeEthernet, vlan, routerMAC.String(), []uint16{100}},
		{"QinQ", craft.LinkTypeEthernet, qinq, routerMAC.String(), []uint16{200, 100}},
		{"raw", craft.LinkTypeRaw, ipPkt, "", nil},
		{"IPv4", craft.LinkTypeIPv4, ipPkt, "", nil},
		{"cooked v1", craft.LinkTypeLinuxSLL, sll, routerMAC.String(), nil},
		{"cooked v2", craft.LinkTypeLinuxSLL2, sll2, routerMAC.String(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p craft.Packet
			if err := newDecoder(t, tt.link).Decode(tt.data, &p); err != nil {
				t.Fatal(err)
			}
			if p.Class != craft.ClassEchoReply || p.ID != 9 || p.Seq != 10 || string(p.Payload) != "data" || p.ICMPChecksum.Status != craft.ChecksumGood {
				t.Errorf("decoded %v", &p)
			}
			mac := ""
			if p.SrcMAC != nil {
				mac = p.SrcMAC.String()
			}
			if mac != tt.wantMAC {
				t.Errorf("source MAC %q, want %q", mac, tt.wantMAC)
			}
			if diff := cmp.Diff(tt.vlan, p.VLAN); diff != "" {
				t.Errorf("VLAN (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := craft.NewDecoder(craft.LinkType(105)); err == nil {
		t.Error("NewDecoder accepted 802.11")
	}
}

func TestErrorText(t *testing.T) {
	// iputils' wording, which send prints after "From ADDR icmp_seq=N ".
	tests := []struct {
		e    craft.ICMPError
		want string
	}{
		{craft.ICMPError{Kind: craft.ErrUnreachable, Type: 3, Code: 0}, "Destination Net Unreachable"},
		{craft.ICMPError{Kind: craft.ErrUnreachable, Type: 3, Code: 13}, "Packet filtered"},
		{craft.ICMPError{Kind: craft.ErrUnreachable, Type: 3, Code: 15}, "Precedence Cutoff"},
		{craft.ICMPError{Kind: craft.ErrUnreachable, Type: 3, Code: 16}, "Dest Unreachable, Bad Code: 16"},
		{craft.ICMPError{Kind: craft.ErrSourceQuench, Type: 4}, "Source Quench"},
		{craft.ICMPError{Kind: craft.ErrRedirect, Type: 5, Code: 9, Gateway: router4}, "Redirect, Bad Code: 9(New nexthop: 198.18.0.1)"},
		{craft.ICMPError{Kind: craft.ErrTimeExceeded, Type: 11, Code: 1}, "Frag reassembly time exceeded"},
		{craft.ICMPError{Kind: craft.ErrTimeExceeded, Type: 11, Code: 2}, "Time exceeded, Bad Code: 2"},
		{craft.ICMPError{Kind: craft.ErrUnreachable, Six: true, Type: 1, Code: 6}, "Destination unreachable: Reject route to destination"},
		{craft.ICMPError{Kind: craft.ErrUnreachable, Six: true, Type: 1, Code: 9}, "Destination unreachable: Unknown code 9"},
		{craft.ICMPError{Kind: craft.ErrPacketTooBig, Six: true, Type: 2, Code: 1, MTU: 1400}, "Packet too big: mtu=1400, code=1"},
		{craft.ICMPError{Kind: craft.ErrTimeExceeded, Six: true, Type: 3, Code: 1}, "Time exceeded: Defragmentation failure"},
		{craft.ICMPError{Kind: craft.ErrParameterProblem, Six: true, Type: 4, Code: 0, Pointer: 7}, "Parameter problem: Wrong header field at 7"},
		{craft.ICMPError{Kind: craft.ErrParameterProblem, Six: true, Type: 4, Code: 2, Pointer: 42}, "Parameter problem: Unknown option at 42"},
	}
	for _, tt := range tests {
		if got := tt.e.String(); got != tt.want {
			t.Errorf("%+v: String() = %q, want %q", tt.e, got, tt.want)
		}
	}
}

func BenchmarkDecodeEthernet(b *testing.B) {
	e := craft.Echo{Reply: true, ID: 1, Seq: 2, Src: target4, Dst: host4, SrcMAC: routerMAC, DstMAC: hostMAC, Payload: make([]byte, 56)}
	frame := serialize(b, &e, craft.DepthEthernet)
	d := newDecoder(b, craft.LinkTypeEthernet)
	var p craft.Packet
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := d.Decode(frame, &p); err != nil {
			b.Fatal(err)
		}
	}
}

// An IP-in-IP packet is classified by its outer header alone: the inner
// header must not overwrite what the outer one said.
func TestDecodeTunnelStaysOuter(t *testing.T) {
	inner := probe4(t, 8)
	for _, tt := range []struct {
		name  string
		outer gopacket.SerializableLayer
		proto uint8
	}{
		{"IPv4 in IPv4", &layers.IPv4{Version: 4, TTL: 9, Protocol: layers.IPProtocolIPv4, SrcIP: router4.AsSlice(), DstIP: host4.AsSlice()}, 4},
		{"IPv4 in IPv6", &layers.IPv6{Version: 6, HopLimit: 9, NextHeader: layers.IPProtocolIPv4, SrcIP: router6.AsSlice(), DstIP: host6.AsSlice()}, 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			buf := gopacket.NewSerializeBuffer()
			if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, tt.outer, gopacket.Payload(inner)); err != nil {
				t.Fatal(err)
			}
			var p craft.Packet
			if err := newDecoder(t, craft.LinkTypeRaw).Decode(buf.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			if p.Class != craft.ClassOther || p.TTL != 9 || p.Protocol != tt.proto || p.Malformed != "" {
				t.Errorf("decoded %v; want other, outer TTL 9, protocol %d", &p, tt.proto)
			}
		})
	}
}
