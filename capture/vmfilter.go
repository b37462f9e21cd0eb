package capture

import (
	"encoding/binary"
	"fmt"

	"github.com/google/gopacket/layers"
	"golang.org/x/net/bpf"

	"github.com/pingcraft/pingcraft/craft"
)

// Filter runs a libpcap filter in user space, on frames read from a file:
// the same program the kernel runs on a ring.
type Filter struct {
	vm   *bpf.VM
	sll2 bool
	buf  []byte
}

// NewFilter compiles expr for frames of link (a craft.LinkType, since
// pcapgo cannot name LINUX_SLL2); "" accepts every frame.
func NewFilter(link craft.LinkType, snaplen int, expr string) (*Filter, error) {
	if expr == "" {
		return &Filter{}, nil
	}
	f := &Filter{}
	var dlt layers.LinkType
	switch link {
	case craft.LinkTypeEthernet:
		dlt = layers.LinkTypeEthernet
	case craft.LinkTypeRaw:
		dlt = layers.LinkTypeRaw
	case craft.LinkTypeLinuxSLL:
		dlt = layers.LinkTypeLinuxSLL
	case craft.LinkTypeLinuxSLL2:
		// gopacket's pcap takes 8-bit link types: compile for cooked v1
		// and hand the program each frame's header rewritten as v1.
		dlt, f.sll2 = layers.LinkTypeLinuxSLL, true
	case craft.LinkTypeIPv4, craft.LinkTypeIPv6:
		dlt = layers.LinkType(link)
	default:
		return nil, fmt.Errorf("capture: filter %q: link type %d is not one pingcraft filters", expr, link)
	}
	prog, err := CompileFilter(dlt, snaplen, expr)
	if err != nil {
		return nil, err
	}
	insns, ok := bpf.Disassemble(prog)
	if !ok {
		return nil, fmt.Errorf("capture: filter %q: libpcap emitted instructions golang.org/x/net/bpf cannot decode", expr)
	}
	if f.vm, err = bpf.NewVM(insns); err != nil {
		return nil, fmt.Errorf("capture: filter %q: %w", expr, err)
	}
	return f, nil
}

// Match reports whether the filter accepts data.
func (f *Filter) Match(data []byte) bool {
	if f.vm == nil {
		return true
	}
	if f.sll2 {
		data = f.sll2to1(data)
	}
	n, err := f.vm.Run(data)
	return err == nil && n > 0
}

// sll2to1 rewrites a LINUX_SLL2 header (protocol, reserved, ifindex,
// hatype, pkttype, halen, address) as LINUX_SLL (pkttype, hatype, halen,
// address, protocol) ahead of the same payload.
func (f *Filter) sll2to1(b []byte) []byte {
	if len(b) < 20 {
		return b[:0]
	}
	f.buf = append(f.buf[:0], make([]byte, 16)...)
	h := f.buf
	binary.BigEndian.PutUint16(h[0:], uint16(b[10]))
	copy(h[2:4], b[8:10])
	binary.BigEndian.PutUint16(h[4:], uint16(b[11]))
	copy(h[6:14], b[12:20])
	copy(h[14:16], b[0:2])
	f.buf = append(f.buf, b[20:]...)
	return f.buf
}
