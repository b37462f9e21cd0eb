package craft_test

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/gopacket"

	"github.com/pingcraft/pingcraft/craft"
)

var (
	hostMAC   = net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	routerMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 2}
	host4     = netip.MustParseAddr("198.18.0.2")
	target4   = netip.MustParseAddr("198.18.1.2")
	host6     = netip.MustParseAddr("fd00:198:18::2")
	target6   = netip.MustParseAddr("fd00:198:18:1::2")
)

func serialize(t testing.TB, e *craft.Echo, d craft.Depth) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := e.Serialize(buf, d); err != nil {
		t.Fatalf("Serialize(%v): %v", d, err)
	}
	return buf.Bytes()
}

// The known answer from the seed's bug report: the header-only sum is what
// a checksum computed before the payload was attached gives.
func TestKnownAnswer(t *testing.T) {
	e := craft.Echo{
		ID: 69, Seq: 420, Payload: []byte{1, 2, 3, 4},
		Src: netip.MustParseAddr("192.168.50.161"), Dst: netip.MustParseAddr("1.1.1.1"),
		TTL: 64,
	}
	b := serialize(t, &e, craft.DepthIP)
	// 45 00 00 20 00 00 00 00 40 01 85 92 c0 a8 32 a1 01 01 01 01
	// 08 00 f2 10 00 45 01 a4 01 02 03 04
	if got := binary.BigEndian.Uint16(b[10:]); got != 0x8592 {
		t.Errorf("IPv4 header checksum = %#04x, want 0x8592", got)
	}
	if got := binary.BigEndian.Uint16(b[22:]); got != 0xf210 {
		t.Errorf("ICMP checksum = %#04x, want 0xf210", got)
	}
	icmpOnly := serialize(t, &e, craft.DepthICMP)
	if got := binary.BigEndian.Uint16(icmpOnly[2:]); got != 0xf210 {
		t.Errorf("ICMP-depth checksum = %#04x, want 0xf210", got)
	}

	e.Faults = craft.FaultICMPHeaderChecksum
	bad := serialize(t, &e, craft.DepthIP)
	if got := binary.BigEndian.Uint16(bad[22:]); got != 0xf616 {
		t.Fatalf("header-only ICMP checksum = %#04x, want 0xf616", got)
	}
	d := newDecoder(t, craft.LinkTypeRaw)
	var p craft.Packet
	if err := d.Decode(bad, &p); err != nil {
		t.Fatal(err)
	}
	want := craft.Checksum{Got: 0xf616, Want: 0xf210, Status: craft.ChecksumBad}
	if diff := cmp.Diff(want, p.ICMPChecksum); diff != "" {
		t.Errorf("decoded ICMP checksum (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(craft.Checksum{Got: 0x8592, Want: 0x8592, Status: craft.ChecksumGood}, p.IPChecksum); diff != "" {
		t.Errorf("decoded IP checksum (-want +got):\n%s", diff)
	}
}

func TestFaultIPChecksum(t *testing.T) {
	e := craft.Echo{ID: 1, Seq: 1, Src: host4, Dst: target4, SrcMAC: hostMAC, DstMAC: routerMAC, Faults: craft.FaultIPChecksum}
	b := serialize(t, &e, craft.DepthEthernet)
	var p craft.Packet
	if err := newDecoder(t, craft.LinkTypeEthernet).Decode(b, &p); err != nil {
		t.Fatal(err)
	}
	if p.IPChecksum.Status != craft.ChecksumBad || p.IPChecksum.Got != p.IPChecksum.Want^0x5555 {
		t.Errorf("IP checksum %+v: want bad, got = want^0x5555", p.IPChecksum)
	}
	if p.ICMPChecksum.Status != craft.ChecksumGood {
		t.Errorf("ICMP checksum %+v: want good", p.ICMPChecksum)
	}
}

func TestFaultICMPHeaderChecksumIPv6(t *testing.T) {
	e := craft.Echo{ID: 7, Seq: 9, Src: host6, Dst: target6, Payload: []byte("abcdefgh"), Faults: craft.FaultICMPHeaderChecksum}
	var p craft.Packet
	if err := newDecoder(t, craft.LinkTypeRaw).Decode(serialize(t, &e, craft.DepthIP), &p); err != nil {
		t.Fatal(err)
	}
	if p.ICMPChecksum.Status != craft.ChecksumBad {
		t.Fatalf("ICMPv6 checksum %+v: want bad", p.ICMPChecksum)
	}
	e.Faults = 0
	if err := newDecoder(t, craft.LinkTypeRaw).Decode(serialize(t, &e, craft.DepthIP), &p); err != nil {
		t.Fatal(err)
	}
	if p.ICMPChecksum.Status != craft.ChecksumGood {
		t.Fatalf("ICMPv6 checksum without fault %+v: want good", p.ICMPChecksum)
	}
}

// view is what a round trip must preserve.
type view struct {
	Class          craft.Class
	SrcMAC, DstMAC string
	Src, Dst       netip.Addr
	TTL, TOS       uint8
	IPID           uint16
	DontFragment   bool
	ID, Seq        uint16
	Payload        []byte
	IPSum, ICMPSum craft.ChecksumStatus
}

func TestRoundTrip(t *testing.T) {
	sent := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	for _, six := range []bool{false, true} {
		for _, depth := range []craft.Depth{craft.DepthICMP, craft.DepthIP, craft.DepthEthernet} {
			for _, size := range []int{0, 1, 7, 56, 1472} {
				for _, reply := range []bool{false, true} {
					name := fmt.Sprintf("v6=%v/%v/size=%d/reply=%v", six, depth, size, reply)
					t.Run(name, func(t *testing.T) {
						roundTrip(t, six, depth, size, reply, sent)
					})
				}
			}
		}
	}
}

func roundTrip(t *testing.T, six bool, depth craft.Depth, size int, reply bool, sent time.Time) {
	pl := craft.Payload{Size: size, Auth: craft.NewAuthenticator(craft.Key{1, 2, 3, 4, 5, 6, 7, 8}), Pattern: []byte{0xab, 0xcd}}
	pr := &craft.Probe{ID: 0xbeef, N: 65535, Dst: target4, Sent: sent}
	e := craft.Echo{
		Reply: reply, ID: 0xbeef, Seq: 65535, Src: host4, Dst: target4,
		SrcMAC: hostMAC, DstMAC: routerMAC, TTL: 17, TOS: 0xb8, DontFragment: true, IPID: 4242,
		Payload: pl.Append(nil, pr),
	}
	if six {
		e.Src, e.Dst, e.DontFragment, e.IPID = host6, target6, false, 0
	}
	b := serialize(t, &e, depth)

	var p craft.Packet
	switch depth {
	case craft.DepthICMP:
		newDecoder(t, craft.LinkTypeRaw).DecodeICMP(b, six, &p)
	case craft.DepthIP:
		if err := newDecoder(t, craft.LinkTypeRaw).Decode(b, &p); err != nil {
			t.Fatal(err)
		}
	case craft.DepthEthernet:
		if err := newDecoder(t, craft.LinkTypeEthernet).Decode(b, &p); err != nil {
			t.Fatal(err)
		}
	}

	want := view{
		Class: craft.ClassEchoRequest, ID: e.ID, Seq: e.Seq, Payload: e.Payload,
		ICMPSum: craft.ChecksumGood,
	}
	if reply {
		want.Class = craft.ClassEchoReply
	}
	if depth != craft.DepthICMP {
		want.Src, want.Dst, want.TTL, want.TOS, want.IPID, want.DontFragment = e.Src, e.Dst, e.TTL, e.TOS, e.IPID, e.DontFragment
		if !six {
			want.IPSum = craft.ChecksumGood
		}
	} else if six {
		// Without an IP header there is no pseudo-header to check against.
		want.ICMPSum = craft.ChecksumUnverified
	}
	if depth == craft.DepthEthernet {
		want.SrcMAC, want.DstMAC = hostMAC.String(), routerMAC.String()
	}
	got := view{
		Class: p.Class, Src: p.Src, Dst: p.Dst, TTL: p.TTL, TOS: p.TOS, IPID: p.IPID,
		DontFragment: p.DontFragment, ID: p.ID, Seq: p.Seq, Payload: p.Payload,
		IPSum: p.IPChecksum.Status, ICMPSum: p.ICMPChecksum.Status,
	}
	if p.SrcMAC != nil {
		got.SrcMAC, got.DstMAC = p.SrcMAC.String(), p.DstMAC.String()
	}
	opts := cmp.Options{cmp.Comparer(func(a, b netip.Addr) bool { return a == b }), cmpopts.EquateEmpty()}
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("round trip (-want +got):\n%s\npacket: %v", diff, &p)
	}
	if i := pl.Check(p.Payload, pr); i != -1 {
		t.Errorf("payload check: first difference at byte %d", i)
	}
	if p.Truncated || p.Malformed != "" {
		t.Errorf("clean probe decoded as truncated=%v malformed=%q", p.Truncated, p.Malformed)
	}
}

func TestEthernetPadding(t *testing.T) {
	e := craft.Echo{Src: host4, Dst: target4, SrcMAC: hostMAC, DstMAC: routerMAC}
	b := serialize(t, &e, craft.DepthEthernet)
	if len(b) != 60 {
		t.Fatalf("minimum frame is %d bytes, want 60 (padded)", len(b))
	}
	var p craft.Packet
	if err := newDecoder(t, craft.LinkTypeEthernet).Decode(b, &p); err != nil {
		t.Fatal(err)
	}
	if p.IPLength != 28 || len(p.Payload) != 0 || p.ICMPChecksum.Status != craft.ChecksumGood {
		t.Errorf("padded frame decoded as %v; want IP length 28, no data, good checksum", &p)
	}
}

func TestSerializeErrors(t *testing.T) {
	big := make([]byte, craft.MaxPayloadIPv4+1)
	tests := []struct {
		name  string
		e     craft.Echo
		depth craft.Depth
		want  string
	}{
		{"no destination", craft.Echo{Src: host4}, craft.DepthIP, "no destination"},
		{"mixed families", craft.Echo{Src: host6, Dst: target4}, craft.DepthIP, "different families"},
		{"no source at IP depth", craft.Echo{Dst: target4}, craft.DepthIP, "needs a source"},
		{"no MACs at Ethernet depth", craft.Echo{Src: host4, Dst: target4}, craft.DepthEthernet, "MACs"},
		{"zero depth", craft.Echo{Src: host4, Dst: target4}, 0, "invalid depth"},
		{"IPv4 payload too big", craft.Echo{Src: host4, Dst: target4, Payload: big}, craft.DepthIP, "exceeds the 65507-byte maximum"},
		{"IPv6 header checksum fault", craft.Echo{Src: host6, Dst: target6, Faults: craft.FaultIPChecksum}, craft.DepthIP, "no header checksum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.e.Serialize(gopacket.NewSerializeBuffer(), tt.depth)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Serialize error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestMaxPayload(t *testing.T) {
	for _, tt := range []struct {
		src, dst netip.Addr
		size     int
	}{{host4, target4, craft.MaxPayloadIPv4}, {host6, target6, craft.MaxPayloadIPv6}} {
		e := craft.Echo{Src: tt.src, Dst: tt.dst, Payload: make([]byte, tt.size)}
		b := serialize(t, &e, craft.DepthIP)
		if len(b) != 65535+map[bool]int{false: 0, true: 40}[tt.dst.Is6()] {
			t.Errorf("%v: packet of %d bytes", tt.dst, len(b))
		}
		var p craft.Packet
		if err := newDecoder(t, craft.LinkTypeRaw).Decode(b, &p); err != nil {
			t.Fatal(err)
		}
		if len(p.Payload) != tt.size || p.ICMPChecksum.Status != craft.ChecksumGood {
			t.Errorf("%v: decoded %d bytes of data, checksum %v", tt.dst, len(p.Payload), p.ICMPChecksum.Status)
		}
	}
}

func newDecoder(t testing.TB, l craft.LinkType) *craft.Decoder {
	t.Helper()
	d, err := craft.NewDecoder(l)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestBuilderReuse: one Builder serializing echoes of every family, depth,
// option and fault in turn gives what a fresh one gives each time: nothing
// of one probe leaks into the next.
func TestBuilderReuse(t *testing.T) {
	var echoes []craft.Echo
	for _, six := range []bool{false, true} {
		src, dst := host4, target4
		if six {
			src, dst = host6, target6
		}
		for i, size := range []int{0, 1, 56, 1400} {
			e := craft.Echo{Src: src, Dst: dst, SrcMAC: hostMAC, DstMAC: routerMAC, ID: uint16(0x100 + i), Seq: uint16(i),
				TTL: uint8(i), TOS: uint8(i * 8), DontFragment: i%2 == 1, IPID: uint16(i), Reply: i == 2,
				Payload: []byte(strings.Repeat(string(rune('a'+i)), size))}
			if i == 3 {
				e.Faults = craft.FaultICMPHeaderChecksum
				if !six {
					e.Faults |= craft.FaultIPChecksum
				}
			}
			echoes = append(echoes, e)
			if i == 1 {
				e.Src = netip.Addr{} // a raw socket's: no pseudo-header for ICMPv6
				echoes = append(echoes, e)
			}
		}
	}
	var b craft.Builder
	buf := gopacket.NewSerializeBuffer()
	for round := range 2 {
		for i := range echoes {
			e := &echoes[i]
			for _, d := range []craft.Depth{craft.DepthEthernet, craft.DepthICMP, craft.DepthIP} {
				if !e.Src.IsValid() && d != craft.DepthICMP {
					continue
				}
				if err := b.Serialize(e, buf, d); err != nil {
					t.Fatalf("round %d, echo %d at %v: %v", round, i, d, err)
				}
				if diff := cmp.Diff(serialize(t, e, d), buf.Bytes()); diff != "" {
					t.Errorf("round %d, echo %d at %v: reused builder differs (-fresh +reused):\n%s", round, i, d, diff)
				}
			}
		}
	}
}

func BenchmarkBuilderEthernet(b *testing.B) {
	pl := craft.Payload{Size: 56, Auth: craft.NewAuthenticator(craft.Key{1})}
	e := craft.Echo{Src: host4, Dst: target4, SrcMAC: hostMAC, DstMAC: routerMAC}
	buf := gopacket.NewSerializeBuffer()
	data := make([]byte, 0, 64)
	pr := &craft.Probe{Dst: target4, Sent: time.Now()}
	var bld craft.Builder
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		e.Seq = uint16(i)
		pr.N = uint64(i)
		data = pl.Append(data[:0], pr)
		e.Payload = data
		if err := bld.Serialize(&e, buf, craft.DepthEthernet); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSerializeEthernet(b *testing.B) {
	pl := craft.Payload{Size: 56, Auth: craft.NewAuthenticator(craft.Key{1})}
	e := craft.Echo{Src: host4, Dst: target4, SrcMAC: hostMAC, DstMAC: routerMAC}
	buf := gopacket.NewSerializeBuffer()
	data := make([]byte, 0, 64)
	pr := &craft.Probe{Dst: target4, Sent: time.Now()}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		e.Seq = uint16(i)
		pr.N = uint64(i)
		data = pl.Append(data[:0], pr)
		e.Payload = data
		if err := e.Serialize(buf, craft.DepthEthernet); err != nil {
			b.Fatal(err)
		}
	}
}
