package craft_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/gopacket"

	"github.com/pingcraft/pingcraft/craft"
)

// fragmented builds an echo reply of size data bytes at Ethernet depth and
// splits it for mtu.
func fragmented(t testing.TB, six bool, size, mtu int) (craft.Echo, [][]byte) {
	t.Helper()
	e := craft.Echo{Reply: true, ID: 0x7063, Seq: 3, Src: target4, Dst: host4, SrcMAC: routerMAC, DstMAC: hostMAC,
		IPID: 777, Payload: bytes.Repeat([]byte{0xa5, 0x5a, 1}, size/3+1)[:size]}
	if six {
		e.Src, e.Dst, e.IPID = target6, host6, 0
	}
	buf := gopacket.NewSerializeBuffer()
	if err := e.Serialize(buf, craft.DepthEthernet); err != nil {
		t.Fatal(err)
	}
	frags, err := craft.Fragment(bytes.Clone(buf.Bytes()), craft.DepthEthernet, mtu, 0xfeed, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e, frags
}

// TestFragmentReassemble: fragments as the kernel sends them, each within
// the MTU, put back together in any order into the datagram they came from.
func TestFragmentReassemble(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, six := range []bool{false, true} {
		for _, size := range []int{56, 1472, 1473, 2000, 8000, 65000} {
			t.Run(fmt.Sprintf("v6=%v/%d", six, size), func(t *testing.T) {
				if six && size > craft.MaxPayloadIPv6 || !six && size > craft.MaxPayloadIPv4 {
					t.Skip()
				}
				e, frags := fragmented(t, six, size, 1500)
				whole := size+8+20 <= 1500
				if six {
					whole = size+8+40 <= 1500
				}
				if whole != (len(frags) == 1) {
					t.Fatalf("%d fragments", len(frags))
				}
				dec := newDecoder(t, craft.LinkTypeEthernet)
				for i, f := range frags {
					if len(f)-14 > 1500 {
						t.Errorf("fragment %d: %d bytes of IP over a 1500 MTU", i, len(f)-14)
					}
				}
				if whole {
					return
				}
				rng.Shuffle(len(frags), func(i, j int) { frags[i], frags[j] = frags[j], frags[i] })
				var r craft.Reassembler
				var got []byte
				now := time.Unix(1700000000, 0)
				for i, f := range frags {
					var p craft.Packet
					if err := dec.Decode(f, &p); err != nil {
						t.Fatal(err)
					}
					if !p.IsFragment() || p.IPRefusal(len(f)-14) != "" {
						t.Fatalf("fragment %d: IsFragment %v, refused %q", i, p.IsFragment(), p.IPRefusal(len(f)-14))
					}
					if p.Class == craft.ClassEchoReply && len(p.Payload) == size {
						t.Fatalf("fragment %d decodes as the whole reply", i)
					}
					got = r.Add(&p, now)
					if (got != nil) != (i == len(frags)-1) {
						t.Fatalf("fragment %d of %d: datagram %v", i, len(frags), got != nil)
					}
				}
				var p craft.Packet
				if err := newDecoder(t, craft.LinkTypeRaw).Decode(got, &p); err != nil {
					t.Fatal(err)
				}
				if p.Class != craft.ClassEchoReply || p.ID != e.ID || p.Seq != e.Seq || !bytes.Equal(p.Payload, e.Payload) ||
					p.ICMPChecksum.Status != craft.ChecksumGood || p.Src != e.Src || p.Dst != e.Dst || p.IsFragment() {
					t.Errorf("reassembled: %v, checksum %v, %d data bytes", p.Class, p.ICMPChecksum.Status, len(p.Payload))
				}
				if !six && p.IPChecksum.Status != craft.ChecksumGood {
					t.Errorf("reassembled IPv4 header checksum %v", p.IPChecksum.Status)
				}
				if r.Pending() != 0 {
					t.Errorf("%d datagrams still pending", r.Pending())
				}
			})
		}
	}
}

// TestReassembleRefuses: what the kernel drops is never put together.
func TestReassembleRefuses(t *testing.T) {
	dec := newDecoder(t, craft.LinkTypeEthernet)
	decode := func(f []byte) *craft.Packet {
		var p craft.Packet
		if err := dec.Decode(f, &p); err != nil {
			t.Fatal(err)
		}
		c := p
		c.FragData = bytes.Clone(p.FragData)
		return &c
	}
	now := time.Unix(1700000000, 0)
	for _, six := range []bool{false, true} {
		_, frags := fragmented(t, six, 4000, 1500)
		t.Run(fmt.Sprintf("v6=%v/a fragment twice (overlap)", six), func(t *testing.T) {
			var r craft.Reassembler
			r.Add(decode(frags[0]), now)
			r.Add(decode(frags[0]), now)
			for _, f := range frags[1:] {
				if r.Add(decode(f), now) != nil {
					t.Error("reassembled despite an overlap")
				}
			}
		})
		t.Run(fmt.Sprintf("v6=%v/the first fragment alone", six), func(t *testing.T) {
			var r craft.Reassembler
			if r.Add(decode(frags[0]), now) != nil || r.Pending() != 1 {
				t.Error("a first fragment made a datagram")
			}
		})
		t.Run(fmt.Sprintf("v6=%v/too late", six), func(t *testing.T) {
			var r craft.Reassembler
			r.Add(decode(frags[0]), now)
			late := now.Add(craft.ReassemblyTimeout + time.Second)
			for _, f := range frags[1:] {
				if r.Add(decode(f), late) != nil {
					t.Error("reassembled after the timeout")
				}
			}
		})
	}
}

// TestIPRefusal: the header checks of the IP layer.
func TestIPRefusal(t *testing.T) {
	good := craft.Packet{IPVersion: 4, IPLength: 84, IPChecksum: craft.Checksum{Status: craft.ChecksumGood}}
	for _, tt := range []struct {
		name string
		p    craft.Packet
		wire int
		want string
	}{
		{"good", good, 84, ""},
		{"Ethernet padding", good, 100, ""},
		{"bad header checksum", craft.Packet{IPVersion: 4, IPLength: 84, IPChecksum: craft.Checksum{Status: craft.ChecksumBad}}, 84, "bad IPv4 header checksum"},
		{"total length beyond the frame", good, 83, "IPv4 total length beyond the frame"},
		{"total length under the header", craft.Packet{IPVersion: 4, IPLength: 19}, 84, "IPv4 total length shorter than its header"},
		{"IPv6 payload length beyond the frame", craft.Packet{IPVersion: 6, IPLength: 1280}, 1000, "IPv6 payload length beyond the frame"},
	} {
		if got := tt.p.IPRefusal(tt.wire); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// FuzzReassemble: fragments of any shape never panic the reassembler nor
// make a datagram beyond what IP carries.
func FuzzReassemble(f *testing.F) {
	for _, six := range []bool{false, true} {
		_, frags := fragmented(f, six, 3000, 1280)
		f.Add(bytes.Join(frags, []byte{0xff, 0xff}), uint8(len(frags)))
	}
	f.Fuzz(func(t *testing.T, data []byte, n uint8) {
		dec, _ := craft.NewDecoder(craft.LinkTypeEthernet)
		var r craft.Reassembler
		now := time.Unix(0, 0)
		for _, frame := range bytes.Split(data, []byte{0xff, 0xff}) {
			var p craft.Packet
			if dec.Decode(frame, &p) != nil {
				continue
			}
			if got := r.Add(&p, now); len(got) > 65535+60 {
				t.Fatalf("a datagram of %d bytes", len(got))
			}
			now = now.Add(time.Duration(n) * time.Second)
		}
		if r.Pending() > 16 {
			t.Fatalf("%d datagrams pending", r.Pending())
		}
	})
}
