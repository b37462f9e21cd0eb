package report_test

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pingcraft/pingcraft/report"
	"github.com/pingcraft/pingcraft/resolve"
)

func TestPathJSON(t *testing.T) {
	a := netip.MustParseAddr
	host, router := net.HardwareAddr{2, 0, 0, 0, 0, 2}, net.HardwareAddr{2, 0, 0, 0, 0, 1}
	for _, tc := range []struct {
		name string
		p    resolve.Path
		want string
	}{
		{"via a gateway", resolve.Path{Name: "target.lab", Target: a("198.18.1.2"), Interface: "eth0", Index: 2, Kind: resolve.KindEthernet,
			Source: a("198.18.0.2"), SourceMAC: host, NextHop: a("198.18.0.1"), Gateway: true, NextHopMAC: router,
			MACSource: resolve.MACFromNeighbourTable, MTU: 1500, Took: 1500 * time.Microsecond},
			`{"v":1,"event":"path","target":"target.lab","addr":"198.18.1.2","interface":"eth0","ifindex":2,"interface_kind":"ethernet","src":"198.18.0.2","src_mac":"02:00:00:00:00:02","next_hop":"198.18.0.1","gateway":true,"next_hop_mac":"02:00:00:00:00:01","mac_source":"neighbour table","mtu":1500,"took_ms":1.5}`},
		// On-link and on loopback: no gateway, no MACs; absent, not null.
		{"loopback", resolve.Path{Name: "127.0.0.1", Target: a("127.0.0.1"), Interface: "lo", Index: 1, Kind: resolve.KindLoopback,
			Source: a("127.0.0.1"), NextHop: a("127.0.0.1"), MACSource: resolve.MACNotNeeded, MTU: 65536},
			`{"v":1,"event":"path","target":"127.0.0.1","addr":"127.0.0.1","interface":"lo","ifindex":1,"interface_kind":"loopback","src":"127.0.0.1","next_hop":"127.0.0.1","mac_source":"not needed","mtu":65536,"took_ms":0}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := report.PathJSON(&b, &tc.p); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want+"\n", b.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
