package craft

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
)

// TestQueries: each ICMPv4 query built and decoded back, request and reply,
// with its times or mask; the refusals name what does not fit.
func TestQueries(t *testing.T) {
	src, dst := netip.MustParseAddr("198.18.0.2"), netip.MustParseAddr("198.18.1.2")
	for _, tt := range []struct {
		e    Echo
		want string
	}{
		{Echo{Query: QueryTimestamp, ID: 7, Seq: 9, Times: [3]uint32{1000, 0, 0}}, "timestamp request id 7 seq 9 originate 1000 receive 0 transmit 0"},
		{Echo{Query: QueryTimestamp, Reply: true, ID: 7, Seq: 9, Times: [3]uint32{1000, 1002, 1003}}, "timestamp reply id 7 seq 9 originate 1000 receive 1002 transmit 1003"},
		{Echo{Query: QueryMask, Reply: true, ID: 1, Seq: 2, Mask: 0xffffff00}, "mask reply id 1 seq 2 mask 255.255.255.0"},
		{Echo{Query: QueryInfo, ID: 3, Seq: 4}, "info request id 3 seq 4"},
	} {
		e := tt.e
		e.Src, e.Dst = src, dst
		buf := gopacket.NewSerializeBuffer()
		if err := e.Serialize(buf, DepthIP); err != nil {
			t.Fatal(err)
		}
		d, _ := NewDecoder(LinkTypeRaw)
		var p Packet
		if err := d.Decode(buf.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		if got := p.String(); p.Class != ClassQuery || !strings.HasSuffix(got, tt.want) || p.ICMPChecksum.Status != ChecksumGood {
			t.Errorf("%+v decodes as %s, want ... %s with a good checksum", tt.e, got, tt.want)
		}
	}
	for _, tt := range []struct {
		e    Echo
		want string
	}{
		{Echo{Query: QueryTimestamp, Src: netip.MustParseAddr("fd00::1"), Dst: netip.MustParseAddr("fd00::2")}, "ICMPv6 has no timestamp query"},
		{Echo{Query: QueryMask, Src: src, Dst: dst, Payload: []byte{1}}, "a mask message carries no data"},
		{Echo{Query: 9, Src: src, Dst: dst}, "query 9"},
	} {
		if err := tt.e.Serialize(gopacket.NewSerializeBuffer(), DepthIP); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.e, err, tt.want)
		}
	}
	if _, err := ParseQuery("nonsense"); err == nil {
		t.Error("ParseQuery took nonsense")
	}
	if got := MillisecondsToday(time.Date(2026, 12, 1, 0, 0, 1, 500e6, time.UTC)); got != 1500 {
		t.Errorf("MillisecondsToday = %d, want 1500", got)
	}
}
