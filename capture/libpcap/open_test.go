//go:build cgo

package libpcap

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/gopacket/layers"

	"github.com/pingcraft/pingcraft/capture"
	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/lab/labtest"
)

// frameStamp is the time tcpdump -tt puts before each frame: the fixtures
// stamp every frame differently, so it names the frame.
var frameStamp = regexp.MustCompile(`^(\d+\.\d{6}) `)

// TestOpenFileMatchesTcpdump: on every fixture, a file opened with a filter
// passes exactly the frames tcpdump picks with the same expression, cooked
// v2 files included.
func TestOpenFileMatchesTcpdump(t *testing.T) {
	tcpdump := labtest.RequireTool(t, "tcpdump", "tcpdump")
	files, _ := filepath.Glob("../../fixtures/*.pcap")
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, expr := range []string{"icmp", "icmp6", "arp", "vlan and icmp", "ip6 and ip6[6] == 58", "host 198.18.1.2", "icmp[icmptype] == icmp-unreach"} {
		for _, path := range files {
			t.Run(expr+"/"+filepath.Base(path), func(t *testing.T) {
				src, _, err := Open(Options{File: path, Filter: expr})
				if err != nil {
					// Refused for this link type: so must tcpdump refuse it.
					if out, terr := exec.Command(tcpdump, "-n", "-r", path, expr).CombinedOutput(); terr == nil {
						t.Errorf("pingcraft: %v; tcpdump accepted it:\n%s", err, out)
					}
					return
				}
				defer src.Close()
				var got []string
				for {
					_, ci, err := src.ReadPacket()
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, fmt.Sprintf("%d.%06d", ci.Timestamp.Unix(), ci.Timestamp.Nanosecond()/1000))
				}
				out, err := exec.Command(tcpdump, "-tt", "-n", "-q", "-r", path, expr).Output()
				if err != nil {
					t.Fatalf("tcpdump: %v", err)
				}
				var want []string
				for _, line := range strings.Split(string(out), "\n") {
					if m := frameStamp.FindStringSubmatch(line); m != nil {
						want = append(want, m[1])
					}
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("frames passed (-tcpdump +pingcraft):\n%s", diff)
				}
			})
		}
	}
}

// TestOpenHeader: what tcpdump's first line says of a file.
func TestOpenHeader(t *testing.T) {
	tests := []struct {
		name, file, filter string
		want               Header
	}{
		{"ethernet", "echo.pcap", "", Header{Link: craft.LinkTypeEthernet, Snaplen: 65535}},
		{"raw, filtered", "link-raw.pcap", "icmp", Header{Link: craft.LinkTypeRaw, Snaplen: 65535}},
		{"cooked v2, all 16 bits", "link-sll2.pcap", "icmp6", Header{Link: craft.LinkTypeLinuxSLL2, Snaplen: 65535}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, h, err := Open(Options{File: filepath.Join("../../fixtures", tt.file), Filter: tt.filter})
			if err != nil {
				t.Fatal(err)
			}
			src.Close()
			if h.File == nil {
				t.Errorf("Open() header names no file")
			}
			h.File = nil
			if diff := cmp.Diff(tt.want, h); diff != "" {
				t.Errorf("Open() header (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOpenErrors: input Open refuses before it opens anything, each with an
// error that names the object.
func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"nothing", Options{}, "libpcap: nothing to open"},
		{"both", Options{Interface: "lo", File: "x.pcap"}, "give one, not both"},
		{"no interface", Options{Interface: "pingcraft-none0"}, "libpcap: interface pingcraft-none0: "},
		{"bad filter on a live capture", Options{Interface: "lo", Filter: "icmp and nonsense"}, `libpcap: filter "icmp and nonsense": `},
		{"snaplen too big on any", Options{Interface: "any", Snaplen: capture.MaxSnaplen + 1}, "libpcap: snaplen 262145 out of range"},
		{"negative snaplen on any", Options{Interface: "any", Snaplen: -1}, "libpcap: snaplen -1 out of range"},
		{"missing file", Options{File: "../../fixtures/missing.pcap"}, "No such file"},
		{"bad filter on a file", Options{File: "../../fixtures/echo.pcap", Filter: "icmp["}, `libpcap: filter "icmp[": `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, _, err := Open(tt.o)
			if err == nil {
				src.Close()
				t.Fatalf("Open(%+v) succeeded", tt.o)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open(%+v): %v, want an error containing %q", tt.o, err, tt.want)
			}
		})
	}
}

// TestRingLink: a ring captures whole frames where the link has Ethernet
// addresses, or is loopback, and IP packets elsewhere.
func TestRingLink(t *testing.T) {
	tests := []struct {
		name string
		ifi  net.Interface
		want layers.LinkType
	}{
		{"ethernet", net.Interface{HardwareAddr: net.HardwareAddr{2, 0, 0, 0, 0, 1}}, layers.LinkTypeEthernet},
		{"loopback", net.Interface{HardwareAddr: net.HardwareAddr{0, 0, 0, 0, 0, 0}, Flags: net.FlagLoopback}, layers.LinkTypeEthernet},
		{"loopback without an address", net.Interface{Flags: net.FlagLoopback}, layers.LinkTypeEthernet},
		{"tun", net.Interface{Flags: net.FlagPointToPoint}, layers.LinkTypeRaw},
		{"infiniband", net.Interface{HardwareAddr: make(net.HardwareAddr, 20)}, layers.LinkTypeRaw},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ringLink(&tt.ifi); got != tt.want {
				t.Errorf("ringLink() = %v, want %v", got, tt.want)
			}
		})
	}
}
