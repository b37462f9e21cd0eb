//go:build cgo

package libpcap

import (
	"fmt"

	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcap"
	"golang.org/x/net/bpf"
)

// Compile compiles a libpcap filter expression (pcap-filter(7)) into
// classic BPF for frames of the given link type, accepting at most snaplen
// bytes of each; "" accepts every frame. The program uses no Linux
// extensions (pcap_compile on a dead handle), so golang.org/x/net/bpf can
// run it too. A bad expression returns libpcap's message.
func Compile(link layers.LinkType, snaplen int, expr string) ([]bpf.RawInstruction, error) {
	dlt := link
	if link == layers.LinkTypeRaw {
		// pcap_open_dead takes a DLT_ value, and LINKTYPE_RAW (101) is
		// the one whose DLT_RAW differs (12 on Linux).
		dlt = 12
	}
	insns, err := pcap.CompileBPFFilter(dlt, snaplen, expr)
	if err != nil {
		return nil, fmt.Errorf("libpcap: filter %q: %w", expr, err)
	}
	raw := make([]bpf.RawInstruction, len(insns))
	for i, in := range insns {
		raw[i] = bpf.RawInstruction{Op: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	return raw, nil
}

// Version names the libpcap this binary runs with.
func Version() string { return pcap.Version() }
