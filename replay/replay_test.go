package replay

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/pingcraft/pingcraft/craft"
)

func TestParseMap(t *testing.T) {
	for _, tt := range []struct {
		in, addr, want, err string
	}{
		{in: "198.19.0.0/16=198.18.0.0/16", addr: "198.19.7.9", want: "198.18.7.9"},
		{in: "198.19.0.5=198.18.1.2", addr: "198.19.0.5", want: "198.18.1.2"},
		{in: "198.19.0.5=198.18.1.2", addr: "198.19.0.6", want: "198.19.0.6"},
		{in: "fd00:1::/64=fd00:198:18:1::/64", addr: "fd00:1::2", want: "fd00:198:18:1::2"},
		{in: "198.19.0.0/20=198.18.16.0/20", addr: "198.19.5.1", want: "198.18.21.1"},
		{in: "198.19.0.0", err: `--map "198.19.0.0": give FROM=TO, addresses or prefixes (198.19.0.0/16=198.18.0.0/16)`},
		{in: "x=198.18.0.1", err: `--map "x=198.18.0.1": x is not an address or prefix`},
		{in: "198.19.0.1=fd00::1", err: `--map "198.19.0.1=fd00::1": 198.19.0.1 and fd00::1 are of different families`},
		{in: "198.19.0.0/16=198.18.0.0/24", err: `--map "198.19.0.0/16=198.18.0.0/24": /16 and /24: give prefixes of the same length`},
	} {
		m, err := ParseMap(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseMap(%q) = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("ParseMap(%q): %v", tt.in, err)
		}
		got, _ := m.Apply(netip.MustParseAddr(tt.addr))
		if got.String() != tt.want {
			t.Errorf("%s applied to %s = %s, want %s", tt.in, tt.addr, got, tt.want)
		}
	}
}

// echoFrame builds an Ethernet echo request as craft builds probes.
func echoFrame(t *testing.T, src, dst string, id, seq uint16) []byte {
	t.Helper()
	e := &craft.Echo{ID: id, Seq: seq, Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst),
		SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, Payload: []byte("pingcraft replay")}
	buf := gopacket.NewSerializeBuffer()
	if err := e.Serialize(buf, craft.DepthEthernet); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestRewrite: addresses mapped, MACs and TTL replaced, and the checksums
// right again for what changed, IPv4 and IPv6.
func TestRewrite(t *testing.T) {
	mac := net.HardwareAddr{0x0a, 0, 0, 0, 0, 9}
	rw := &Rewrite{TTL: 9, SrcMAC: net.HardwareAddr{0x0a, 0, 0, 0, 0, 1},
		DstMAC: func(netip.Addr) (net.HardwareAddr, error) { return mac, nil }}
	for _, tt := range []struct{ src, dst, mapping, wantSrc, wantDst string }{
		{"198.19.0.2", "198.19.1.2", "198.19.0.0/16=198.18.0.0/16", "198.18.0.2", "198.18.1.2"},
		{"fd00:1::2", "fd00:2::2", "fd00::/16=fd01::/16", "fd01:1::2", "fd01:2::2"},
	} {
		m, err := ParseMap(tt.mapping)
		if err != nil {
			t.Fatal(err)
		}
		rw.Maps = []Map{m}
		in := echoFrame(t, tt.src, tt.dst, 7, 3)
		f, err := rw.Apply(craft.LinkTypeEthernet, in, len(in))
		if err != nil {
			t.Fatal(err)
		}
		d, err := craft.NewDecoder(craft.LinkTypeEthernet)
		if err != nil {
			t.Fatal(err)
		}
		var p craft.Packet
		if err := d.Decode(f.Data, &p); err != nil {
			t.Fatal(err)
		}
		got := []string{p.Src.String(), p.Dst.String(), p.SrcMAC.String(), p.DstMAC.String(), p.Class.String()}
		want := []string{tt.wantSrc, tt.wantDst, "0a:00:00:00:00:01", mac.String(), "echo-request"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("rewritten (-want +got):\n%s", diff)
		}
		if p.TTL != 9 || p.ID != 7 || p.Seq != 3 || string(p.Payload) != "pingcraft replay" {
			t.Errorf("ttl %d id %d seq %d payload %q", p.TTL, p.ID, p.Seq, p.Payload)
		}
		if p.ICMPChecksum.Status != craft.ChecksumGood || (p.IPVersion == 4 && p.IPChecksum.Status != craft.ChecksumGood) {
			t.Errorf("checksums after the rewrite: ip %v icmp %v", p.IPChecksum, p.ICMPChecksum)
		}
		if want := tt.wantSrc + " > " + tt.wantDst + " ICMP echo request id 7 seq 3"; f.Summary != want {
			t.Errorf("summary %q, want %q", f.Summary, want)
		}
	}
}

func TestRewriteRefusals(t *testing.T) {
	rw := &Rewrite{}
	in := echoFrame(t, "198.19.0.2", "198.19.1.2", 1, 1)
	if _, err := rw.Apply(craft.LinkTypeEthernet, in[:30], len(in)); err == nil {
		t.Error("a frame cut short was rewritten")
	}
	arp := gopacket.NewSerializeBuffer()
	gopacket.SerializeLayers(arp, gopacket.SerializeOptions{FixLengths: true},
		&layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: layers.EthernetBroadcast, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4, Operation: 1,
			SourceHwAddress: []byte{2, 0, 0, 0, 0, 1}, SourceProtAddress: []byte{198, 19, 0, 2}, DstHwAddress: make([]byte, 6), DstProtAddress: []byte{198, 19, 0, 1}})
	if _, err := rw.Apply(craft.LinkTypeEthernet, arp.Bytes(), len(arp.Bytes())); err != ErrNotIP {
		t.Errorf("ARP: %v, want ErrNotIP", err)
	}
	if _, err := rw.Apply(craft.LinkTypeRaw, in[14:], len(in)-14); err == nil {
		t.Error("a raw IP frame without a way to a destination MAC was rewritten")
	}
}

// TestMatch: the reply and an ICMP error quoting the probe answer it; a
// reply with another seq, or from elsewhere, does not.
func TestMatch(t *testing.T) {
	rw := &Rewrite{}
	in := echoFrame(t, "198.18.0.2", "198.18.1.2", 5, 9)
	f, err := rw.Apply(craft.LinkTypeEthernet, in, len(in))
	if err != nil {
		t.Fatal(err)
	}
	reply := func(from string, seq uint16) []byte {
		e := &craft.Echo{Reply: true, ID: 5, Seq: seq, Src: netip.MustParseAddr(from), Dst: netip.MustParseAddr("198.18.0.2"),
			SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, Payload: []byte("x")}
		buf := gopacket.NewSerializeBuffer()
		if err := e.Serialize(buf, craft.DepthEthernet); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	if a, ok := Match(f, reply("198.18.1.2", 9)); !ok || a.Kind != "reply" {
		t.Errorf("the reply: %+v %v", a, ok)
	}
	for _, other := range [][]byte{reply("198.18.1.2", 10), reply("198.18.1.3", 9)} {
		if a, ok := Match(f, other); ok {
			t.Errorf("another reply matched: %+v", a)
		}
	}
	// A port unreachable from the router quoting the probe.
	quote := f.Data[14 : 14+20+8]
	buf := gopacket.NewSerializeBuffer()
	gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		&layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, EthernetType: layers.EthernetTypeIPv4},
		&layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolICMPv4, SrcIP: net.IP{198, 18, 0, 1}, DstIP: net.IP{198, 18, 0, 2}},
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 1)}, gopacket.Payload(quote))
	if a, ok := Match(f, buf.Bytes()); !ok || a.Kind != "error" || a.From.String() != "198.18.0.1" {
		t.Errorf("the error: %+v %v", a, ok)
	}
}

func TestPace(t *testing.T) {
	t0 := time.Unix(100, 0)
	t1 := t0.Add(200 * time.Millisecond)
	for _, tt := range []struct {
		p    Pace
		want time.Duration
	}{{Pace{}, 200 * time.Millisecond}, {Pace{Speed: 4}, 50 * time.Millisecond}, {Pace{PPS: 1000}, time.Millisecond}, {Pace{Top: true}, 0}} {
		if got := tt.p.Gap(t0, t1); got != tt.want {
			t.Errorf("%+v: %v, want %v", tt.p, got, tt.want)
		}
	}
	if got := (Pace{}).Gap(time.Time{}, t0); got != 0 {
		t.Errorf("first frame waits %v", got)
	}
}
