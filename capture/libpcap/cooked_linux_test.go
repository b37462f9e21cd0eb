//go:build linux && cgo

package libpcap

import (
	stdcmp "cmp"
	"encoding/binary"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/gopacket/layers"

	"github.com/pingcraft/pingcraft/capture"
	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/lab/labtest"
)

// TestCookedPing: -i any's capture sees iputils' requests leave and the
// replies come in on the host link, each with its direction in the cooked
// header (and in SLL2 its interface), and counts them: SLL by default, as
// libpcap, and SLL2 when asked, as tcpdump 4.99 asks.
func TestCookedPing(t *testing.T) {
	labtest.RequireTool(t, "ping", "iputils-ping")
	l := labtest.New(t)
	for _, link := range []craft.LinkType{0, craft.LinkTypeLinuxSLL2} {
		t.Run(stdcmp.Or(link, craft.LinkTypeLinuxSLL).String(), func(t *testing.T) {
			want := stdcmp.Or(link, craft.LinkTypeLinuxSLL)
			prog, err := CompileLink(want, capture.DefaultSnaplen, "icmp")
			if err != nil {
				t.Fatal(err)
			}
			var c *Cooked
			var host *net.Interface
			if err := l.Host.Do(func() error {
				var err error
				if host, err = net.InterfaceByName(l.HostLink); err != nil {
					return err
				}
				c, err = OpenCooked(&CookedConfig{PollTimeout: 20 * time.Millisecond, Program: prog, Link: link})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if c.Link() != want {
				t.Fatalf("link type %v, want %v", c.Link(), want)
			}
			if out, err := l.Host.Command(t.Context(), "ping", "-c", "2", "-i", "0.2", l.Target4.String()).CombinedOutput(); err != nil {
				t.Fatalf("ping: %v\n%s", err, out)
			}
			// Packet types: 0 to us, 4 outgoing.
			var types []uint16
			for deadline := time.Now().Add(3 * time.Second); len(types) < 4 && time.Now().Before(deadline); {
				data, _, err := c.ReadPacket()
				if errors.Is(err, capture.ErrTimeout) {
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case want == craft.LinkTypeLinuxSLL && len(data) >= 16 && binary.BigEndian.Uint16(data[14:]) == uint16(layers.EthernetTypeIPv4):
					types = append(types, binary.BigEndian.Uint16(data))
				case want == craft.LinkTypeLinuxSLL2 && len(data) >= 20 && binary.BigEndian.Uint16(data) == uint16(layers.EthernetTypeIPv4):
					if idx := binary.BigEndian.Uint32(data[4:]); idx != uint32(host.Index) {
						t.Errorf("frame on interface %d, want %s's %d", idx, l.HostLink, host.Index)
					}
					types = append(types, uint16(data[10]))
				default:
					t.Fatalf("frame % x: not a cooked IPv4 frame", data)
				}
			}
			if diff := cmp.Diff([]uint16{4, 0, 4, 0}, types); diff != "" {
				t.Errorf("packet types (-want +got):\n%s", diff)
			}
			st, err := c.Stats()
			if err != nil || st.Packets != 4 || st.Drops != 0 {
				t.Errorf("Stats() = %+v, %v; want 4 packets, no drops", st, err)
			}
			c.Close()
			if _, _, err := c.ReadPacket(); err == nil {
				t.Error("ReadPacket after Close succeeded")
			}
			if err := c.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
		})
	}
}
