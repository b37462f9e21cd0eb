package craft_test

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/google/gopacket"

	"github.com/pingcraft/pingcraft/craft"
)

// FuzzDecodeICMP feeds bare ICMP and ICMPv6 messages, as ping and raw ICMPv6
// sockets deliver them, to the decoder.
func FuzzDecodeICMP(f *testing.F) {
	for _, six := range []bool{false, true} {
		src, dst := host4, target4
		if six {
			src, dst = host6, target6
		}
		for _, size := range []int{0, 1, 56} {
			e := craft.Echo{ID: 1, Seq: 2, Src: src, Dst: dst, Payload: make([]byte, size)}
			f.Add(serialize(f, &e, craft.DepthICMP), six)
		}
	}
	f.Add(error4(f, 3, 1, 0, probe4(f, 56)[:28], nil)[20:], false)
	f.Add(error4(f, 11, 0, 0, quoteWithOptions(f), nil)[20:], false)
	f.Add(error6(f, 2, 0, 1280, probe6(f, 56))[40:], true)
	f.Add([]byte{3, 4, 0, 0, 0, 0, 5, 0x78, 0x4f}, false)
	d := newDecoder(f, craft.LinkTypeRaw)
	f.Fuzz(func(t *testing.T, msg []byte, six bool) {
		var p craft.Packet
		d.DecodeICMP(msg, six, &p)
		checkInvariants(t, msg, &p)
	})
}

// checkInvariants holds for any decode of any input.
func checkInvariants(t *testing.T, in []byte, p *craft.Packet) {
	t.Helper()
	if p.Class < craft.ClassOther || p.Class > craft.ClassQuery {
		t.Fatalf("class %d out of range", p.Class)
	}
	if len(p.Payload) > 0 && !within(in, p.Payload) {
		t.Fatalf("payload is not a part of the input")
	}
	switch p.Class {
	case craft.ClassError:
		if p.Error.Kind == 0 {
			t.Fatalf("error without a kind: %v", p)
		}
		_ = p.Error.String()
	case craft.ClassEchoRequest, craft.ClassEchoReply:
		if p.ICMPChecksum.Status == 0 {
			t.Fatalf("echo without a checksum status: %v", p)
		}
	case craft.ClassQuery:
		if p.Query == craft.QueryEcho || p.Query > craft.QueryInfo || p.ICMPChecksum.Status == 0 {
			t.Fatalf("query %v with checksum status %v", p.Query, p.ICMPChecksum.Status)
		}
	}
	_ = p.String()
}

func within(outer, inner []byte) bool {
	if len(inner) == 0 {
		return true
	}
	for i := 0; i+len(inner) <= len(outer); i++ {
		if &outer[i] == &inner[0] {
			return true
		}
	}
	return false
}

// FuzzRoundTrip: whatever the fields, what is built decodes to the same
// fields with good checksums.
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint16(69), uint16(420), uint8(64), uint8(0), []byte{1, 2, 3, 4}, false, uint8(2), false)
	f.Add(uint16(0), uint16(65535), uint8(1), uint8(0xb8), []byte{}, true, uint8(3), true)
	f.Fuzz(func(t *testing.T, id, seq uint16, ttl, tos uint8, payload []byte, six bool, depth uint8, reply bool) {
		d := craft.Depth(depth%2 + 2) // IP or Ethernet: both carry addresses
		e := craft.Echo{Reply: reply, ID: id, Seq: seq, TTL: ttl, TOS: tos, Payload: payload,
			Src: host4, Dst: target4, SrcMAC: hostMAC, DstMAC: routerMAC}
		if six {
			e.Src, e.Dst = host6, target6
		}
		buf := gopacket.NewSerializeBuffer()
		if err := e.Serialize(buf, d); err != nil {
			if len(payload) > craft.MaxPayloadIPv4 {
				return
			}
			t.Fatal(err)
		}
		link := craft.LinkTypeRaw
		if d == craft.DepthEthernet {
			link = craft.LinkTypeEthernet
		}
		var p craft.Packet
		if err := newDecoder(t, link).Decode(buf.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		wantTTL := ttl
		if ttl == 0 {
			wantTTL = craft.DefaultTTL
		}
		if p.ID != id || p.Seq != seq || p.TTL != wantTTL || p.TOS != tos || !bytes.Equal(p.Payload, payload) ||
			p.Src != e.Src || p.Dst != e.Dst || p.ICMPChecksum.Status != craft.ChecksumGood {
			t.Fatalf("built %+v, decoded %v", e, &p)
		}
	})
}

func FuzzParsePattern(f *testing.F) {
	for _, s := range []string{"ff", "0x00ff", "f", "", "zz", "00112233445566778899aabbccddeeff00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := craft.ParsePattern(s)
		if err != nil {
			return
		}
		if len(b) == 0 || len(b) > craft.MaxPatternLen {
			t.Fatalf("ParsePattern(%q) = %d bytes", s, len(b))
		}
		again, err := craft.ParsePattern(hex.EncodeToString(b))
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("ParsePattern(%q) = %x, which does not round-trip: %x, %v", s, b, again, err)
		}
	})
}
