package report

import (
	"encoding/json"
	"io"
	"net"

	"github.com/pingcraft/pingcraft/resolve"
)

// jsonPath is `pingcraft resolve --json`: the path a probe takes, in the
// scheme of the events (target as given, addr, src), as event "path".
type jsonPath struct {
	V             int     `json:"v"`
	Event         string  `json:"event"`
	Target        string  `json:"target"`
	Addr          string  `json:"addr"`
	Interface     string  `json:"interface"`
	Index         int     `json:"ifindex"`
	InterfaceKind string  `json:"interface_kind"`
	Src           string  `json:"src"`
	SrcMAC        string  `json:"src_mac,omitempty"`
	NextHop       string  `json:"next_hop"`
	Gateway       bool    `json:"gateway,omitempty"`
	NextHopMAC    string  `json:"next_hop_mac,omitempty"`
	MACSource     string  `json:"mac_source"`
	MTU           int     `json:"mtu"`
	TookMS        float64 `json:"took_ms"`
}

// PathJSON writes p as one JSON object on a line of its own.
func PathJSON(w io.Writer, p *resolve.Path) error {
	mac := func(m net.HardwareAddr) string {
		if m == nil {
			return ""
		}
		return m.String()
	}
	return json.NewEncoder(w).Encode(jsonPath{
		V: SchemaVersion, Event: "path", Target: p.Name, Addr: p.Target.String(),
		Interface: p.Interface, Index: p.Index, InterfaceKind: p.Kind.String(),
		Src: p.Source.String(), SrcMAC: mac(p.SourceMAC), NextHop: p.NextHop.String(), Gateway: p.Gateway,
		NextHopMAC: mac(p.NextHopMAC), MACSource: p.MACSource.String(), MTU: p.MTU,
		TookMS: float64(p.Took.Microseconds()) / 1000,
	})
}
