package tcpdump

import (
	"bytes"
	"encoding/hex"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/pingcraft/pingcraft/craft"
)

// TestJSONWriter: one object a line in the v1 scheme, for fixture frames
// of every kind; what does not apply is left out, a zero that applies is
// written.
func TestJSONWriter(t *testing.T) {
	echo := readPcap(t, fixtureDir+"/echo.pcap")
	// Frame 1 of echo.pcap with TTL 0 and its header checksum made good.
	ttl0 := bytes.Clone(echo.frames[0])
	ttl0[22], ttl0[24], ttl0[25] = 0, 0, 0
	sum := ^craft.Fold(craft.Sum16(0, ttl0[14:34]))
	ttl0[24], ttl0[25] = byte(sum>>8), byte(sum)
	tests := []struct {
		name string
		file string // a fixture, and the number of the frame in it
		n    int
		link layers.LinkType // else the frame itself
		full craft.LinkType  // beyond 8 bits: NewLinkJSONWriter
		data []byte
		ci   gopacket.CaptureInfo
		want string
	}{
		{name: "echo request", file: "echo.pcap", n: 1, want: `{"v":1,"event":"frame","time":"2026-01-01T00:00:00.000000000Z","bytes":60,"captured_bytes":60,"class":"echo-request","src":"198.18.0.2","dst":"198.18.1.2","ttl":64,"id":28771,"seq":1,"ip_checksum":{"got":"0xadb7","want":"0xadb7","status":"good"},"icmp_checksum":{"got":"0x879b","want":"0x879b","status":"good"}}`},
		{name: "ipv6 echo reply has no ip checksum", file: "echo.pcap", n: 12, want: `{"v":1,"event":"frame","time":"2026-01-01T00:00:00.011000000Z","bytes":62,"captured_bytes":62,"class":"echo-reply","src":"fd00:198:18:1::2","dst":"fd00:198:18::2","ttl":63,"id":28771,"seq":1,"icmp_checksum":{"got":"0x10f2","want":"0x10f2","status":"good"}}`},
		{name: "ttl 0 is written", link: layers.LinkTypeEthernet, data: ttl0, ci: echo.infos[0], want: `{"v":1,"event":"frame","time":"2026-01-01T00:00:00.000000000Z","bytes":60,"captured_bytes":60,"class":"echo-request","src":"198.18.0.2","dst":"198.18.1.2","ttl":0,"id":28771,"seq":1,"ip_checksum":{"got":"0xedb7","want":"0xedb7","status":"good"},"icmp_checksum":{"got":"0x879b","want":"0x879b","status":"good"}}`},
		{name: "bad icmp checksum", file: "checksums.pcap", n: 2, want: `{"v":1,"event":"frame","time":"2026-01-01T00:00:00.001000000Z","bytes":60,"captured_bytes":60,"class":"echo-request","src":"192.168.50.161","dst":"1.1.1.1","ttl":64,"id":69,"seq":420,"ip_checksum":{"got":"0x8592","want":"0x8592","status":"good"},"icmp_checksum":{"got":"0xf616","want":"0xf210","status":"bad"}}`},
		{name: "icmp error", file: "icmp4-errors.pcap", n: 4, want: `{"v":1,"event":"frame","time":"2026-01-01T00:00:00.003000000Z","bytes":70,"captured_bytes":70,"class":"error","src":"198.18.1.2","dst":"198.18.0.2","ttl":63,"ip_checksum":{"got":"0xeddc","want":"0xeddc","status":"good"},"icmp_checksum":{"got":"0xa447","want":"0xa447","status":"good"},"error":"Destination Port Unreachable"}`},
		{name: "cut by the capture", file: "truncated.pcap", n: 1, want: `{"v":1,"event":"frame","time":"2026-01-01T00:00:00.000000000Z","bytes":98,"captured_bytes":65,"class":"echo-request","src":"198.18.0.2","dst":"198.18.1.2","ttl":64,"id":28771,"seq":1,"ip_checksum":{"got":"0xad7f","want":"0xad7f","status":"good"},"icmp_checksum":{"got":"0xa73e","status":"unverified"},"truncated":true}`},
		{name: "malformed", file: "truncated.pcap", n: 6, want: `{"v":1,"event":"frame","time":"2026-01-01T00:00:00.005000000Z","bytes":98,"captured_bytes":10,"class":"other","malformed":"craft: Ethernet frame of 10 bytes: unexpected EOF"}`},
		{name: "arp has no ip fields", file: "arp-ndp.pcap", n: 1, want: `{"v":1,"event":"frame","time":"2026-01-01T00:00:00.000000000Z","bytes":60,"captured_bytes":60,"class":"other"}`},
		{name: "linux cooked v2", file: "link-sll2.pcap", n: 2, want: `{"v":1,"event":"frame","time":"2026-01-01T00:00:00.001000000Z","bytes":104,"captured_bytes":104,"class":"echo-reply","src":"198.18.1.2","dst":"198.18.0.2","ttl":63,"id":28771,"seq":1,"ip_checksum":{"got":"0xae7f","want":"0xae7f","status":"good"},"icmp_checksum":{"got":"0xaf3e","want":"0xaf3e","status":"good"}}`},
		{name: "time in utc, nine digits", link: layers.LinkTypeNull, data: []byte{2, 0, 0, 0},
			ci:   gopacket.CaptureInfo{Timestamp: time.Date(2026, 12, 1, 10, 51, 2, 123456789, time.FixedZone("", 3600)), CaptureLength: 4, Length: 84},
			want: `{"v":1,"event":"frame","time":"2026-12-01T09:51:02.123456789Z","bytes":84,"captured_bytes":4,"class":"undecoded","hex":"02000000"}`},
		// 257 (PROFIBUS_DL) is 1, EN10MB, in 8 bits: an echo request
		// that must not be decoded as one.
		{name: "link type beyond 8 bits", full: 257, data: echo.frames[0][:20], ci: gopacket.CaptureInfo{Timestamp: time.Unix(1767225600, 0), Length: 60},
			want: `{"v":1,"event":"frame","time":"2026-01-01T00:00:00.000000000Z","bytes":60,"captured_bytes":20,"class":"undecoded","hex":"` + hex.EncodeToString(echo.frames[0][:20]) + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.file != "" {
				pf := readPcap(t, fixtureDir+"/"+tt.file)
				tt.link, tt.data, tt.ci = pf.link, pf.frames[tt.n-1], pf.infos[tt.n-1]
			}
			var out bytes.Buffer
			j := NewJSONWriter(&out, tt.link)
			if tt.full != 0 {
				j = NewLinkJSONWriter(&out, tt.full)
			}
			if err := j.Print(tt.data, tt.ci); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want+"\n", out.String()); diff != "" {
				t.Errorf("Print() (-want +got):\n%s", diff)
			}
		})
	}
}
