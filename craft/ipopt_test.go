package craft

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/gopacket"
)

func TestRecordRouteAndTimestampOptions(t *testing.T) {
	rr := RecordRouteOption()
	if len(rr) != 40 || !cmp.Equal(rr[:4], []byte{1, 7, 39, 4}) {
		t.Errorf("record route % x: want NOP, type 7, length 39, pointer 4, 40 bytes", rr)
	}
	ts := TimestampOption(TimestampOnly, nil)
	if len(ts) != 40 || !cmp.Equal(ts[:4], []byte{68, 40, 5, 0}) {
		t.Errorf("tsonly % x", ts)
	}
	if ts := TimestampOption(TimestampAndAddress, nil); ts[1] != 36 || ts[3] != 1 {
		t.Errorf("tsandaddr % x", ts)
	}
	a, b := netip.MustParseAddr("198.18.0.1"), netip.MustParseAddr("198.18.1.2")
	want := []byte{68, 20, 5, 3, 198, 18, 0, 1, 0, 0, 0, 0, 198, 18, 1, 2, 0, 0, 0, 0}
	if ts := TimestampOption(TimestampPrespecified, []netip.Addr{a, b}); !cmp.Equal(ts, want) {
		t.Errorf("tsprespec % x, want % x", ts, want)
	}
}

func TestParseIPv4Options(t *testing.T) {
	a, b := netip.MustParseAddr("198.18.0.1"), netip.MustParseAddr("198.18.1.2")
	rr := RecordRouteOption()
	rr[3] = 12 // two recorded
	copy(rr[4:], []byte{198, 18, 0, 1, 198, 18, 1, 2})
	ts := TimestampOption(TimestampAndAddress, nil)
	ts[2] = 13
	ts[3] |= 2 << 4 // two hops unrecorded
	copy(ts[4:], []byte{198, 18, 0, 1, 0, 0, 0, 42})
	tests := []struct {
		name string
		in   []byte
		want IPv4Option
		ok   bool
	}{
		{"record route", rr, IPv4Option{Type: IPOptionRecordRoute, Addrs: []netip.Addr{a, b}}, true},
		{"timestamps and addresses", ts, IPv4Option{Type: IPOptionTimestamp, Flag: TimestampAndAddress, Addrs: []netip.Addr{a}, Stamps: []uint32{42}, Overflow: 2}, true},
		{"empty record route", RecordRouteOption(), IPv4Option{Type: IPOptionRecordRoute}, true},
		{"none", nil, IPv4Option{}, false},
		{"end of options", []byte{0, 7, 39, 4}, IPv4Option{}, false},
		{"length past the end", []byte{7, 39, 4}, IPv4Option{}, false},
		{"length below 2", []byte{7, 1, 4, 0}, IPv4Option{}, false},
		{"pointer past the length", []byte{7, 7, 200, 198, 18, 0, 1}, IPv4Option{Type: IPOptionRecordRoute, Addrs: []netip.Addr{a}}, true},
		{"other option skipped", append([]byte{130, 4, 0, 0}, rr...), IPv4Option{Type: IPOptionRecordRoute, Addrs: []netip.Addr{a, b}}, true},
	}
	for _, tt := range tests {
		got, ok := ParseIPv4Options(tt.in)
		if ok != tt.ok {
			t.Errorf("%s: ok %v, want %v", tt.name, ok, tt.ok)
		}
		if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(x, y netip.Addr) bool { return x == y })); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func FuzzParseIPv4Options(f *testing.F) {
	f.Add(RecordRouteOption())
	f.Add(TimestampOption(TimestampAndAddress, nil))
	f.Add([]byte{7, 7, 200, 198, 18, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		o, ok := ParseIPv4Options(b)
		if !ok && (o.Type != 0 || len(o.Addrs) > 0) {
			t.Errorf("not ok, yet %+v", o)
		}
		if len(o.Addrs) > len(b)/4 || len(o.Stamps) > len(b)/4 {
			t.Errorf("%d addresses and %d stamps from %d bytes", len(o.Addrs), len(o.Stamps), len(b))
		}
	})
}

// TestEchoIPOptionsRoundTrip: options written at DepthIP come back from
// the decoder as they went, and the IPv6 flow label too.
func TestEchoIPOptionsRoundTrip(t *testing.T) {
	src, dst := netip.MustParseAddr("198.18.0.2"), netip.MustParseAddr("198.18.1.2")
	e := &Echo{ID: 1, Seq: 2, Src: src, Dst: dst, IPOptions: RecordRouteOption(), Payload: make([]byte, 56)}
	buf := gopacket.NewSerializeBuffer()
	if err := e.Serialize(buf, DepthIP); err != nil {
		t.Fatal(err)
	}
	if ihl := buf.Bytes()[0] & 0xf; ihl != 15 {
		t.Errorf("IHL %d, want 15", ihl)
	}
	d, err := NewDecoder(LinkTypeRaw)
	if err != nil {
		t.Fatal(err)
	}
	var p Packet
	if err := d.Decode(buf.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(p.IPOptions, RecordRouteOption()) || p.Class != ClassEchoRequest || p.IPChecksum.Status != ChecksumGood {
		t.Errorf("decoded options % x, class %v, checksum %v", p.IPOptions, p.Class, p.IPChecksum)
	}
	e6 := &Echo{ID: 1, Seq: 2, Src: netip.MustParseAddr("fd00::2"), Dst: netip.MustParseAddr("fd00::1"), FlowLabel: 0x12345}
	if err := e6.Serialize(buf, DepthIP); err != nil {
		t.Fatal(err)
	}
	if b := buf.Bytes(); uint32(b[1]&0xf)<<16|uint32(b[2])<<8|uint32(b[3]) != 0x12345 {
		t.Errorf("flow label in % x", b[:4])
	}
	for _, bad := range []*Echo{
		{Src: src, Dst: dst, IPOptions: make([]byte, 3)},
		{Src: src, Dst: dst, IPOptions: make([]byte, 44)},
		{Src: e6.Src, Dst: e6.Dst, IPOptions: RecordRouteOption()},
		{Src: e6.Src, Dst: e6.Dst, FlowLabel: 1 << 20},
	} {
		if err := bad.Serialize(buf, DepthIP); err == nil {
			t.Errorf("%d option bytes, flow %#x to %s: no error", len(bad.IPOptions), bad.FlowLabel, bad.Dst)
		}
	}
}

// TestRecordOwn: the sender's entry as the kernel writes it into a
// socket's options, and the unrecorded hop of a full timestamp option.
func TestRecordOwn(t *testing.T) {
	src, other := netip.MustParseAddr("198.18.0.2"), netip.MustParseAddr("198.18.1.2")
	now := time.Date(2026, 12, 1, 0, 0, 1, 500e6, time.UTC) // 1500 ms after midnight
	rr := RecordRouteOption()
	if got := RecordOwn(rr, src, now); !cmp.Equal(got[:8], []byte{1, 7, 39, 8, 198, 18, 0, 2}) {
		t.Errorf("record route % x", got[:8])
	}
	ts := RecordOwn(TimestampOption(TimestampOnly, nil), src, now)
	if !cmp.Equal(ts[:8], []byte{68, 40, 9, 0, 0, 0, 0x05, 0xdc}) {
		t.Errorf("tsonly % x", ts[:8])
	}
	ta := RecordOwn(TimestampOption(TimestampAndAddress, nil), src, now)
	if !cmp.Equal(ta[:12], []byte{68, 36, 13, 1, 198, 18, 0, 2, 0, 0, 0x05, 0xdc}) {
		t.Errorf("tsandaddr % x", ta[:12])
	}
	if tp := RecordOwn(TimestampOption(TimestampPrespecified, []netip.Addr{other}), src, now); tp[2] != 5 {
		t.Errorf("prespecified for another address: pointer %d, want 5 (untouched)", tp[2])
	}
	if tp := RecordOwn(TimestampOption(TimestampPrespecified, []netip.Addr{src}), src, now); tp[2] != 13 || tp[11] != 0xdc {
		t.Errorf("prespecified for src % x", tp)
	}
	full := TimestampOption(TimestampOnly, nil)
	full[2] = 41
	if got := RecordOwn(full, src, now); got[3] != 1<<4 || got[2] != 41 {
		t.Errorf("full tsonly: flags %#x pointer %d, want one unrecorded hop", got[3], got[2])
	}
	if got := RecordOwn(RecordRouteOption(), netip.MustParseAddr("fd00::1"), now); got[3] != 4 {
		t.Errorf("IPv6 source written into an IPv4 option")
	}
}
