package capture

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/net/bpf"

	"github.com/pingcraft/pingcraft/craft"
)

// Filter runs a classic BPF program in user space, with golang.org/x/net/bpf:
// for frames read from a file, the program a ring runs in the kernel.
type Filter struct {
	vm   *bpf.VM
	sll2 bool
	buf  []byte
}

// NewFilter returns a filter that runs prog on frames of link (a
// craft.LinkType, since pcapgo cannot name LINUX_SLL2); a nil prog accepts
// every frame. prog must use no Linux BPF extensions, as libpcap's programs
// for a dead handle do not.
//
// For LINUX_SLL2 frames prog is a program for LINUX_SLL: gopacket's libpcap
// binding takes 8-bit link types and so cannot compile for LINUX_SLL2
// (276). The filter hands prog each frame with its header rewritten as
// LINUX_SLL's.
func NewFilter(link craft.LinkType, prog []bpf.RawInstruction) (*Filter, error) {
	f := &Filter{sll2: link == craft.LinkTypeLinuxSLL2}
	if prog == nil {
		return f, nil
	}
	insns, ok := bpf.Disassemble(prog)
	if !ok {
		return nil, fmt.Errorf("capture: filter for %s: the program holds instructions golang.org/x/net/bpf cannot decode: compile it without Linux extensions", link)
	}
	vm, err := bpf.NewVM(insns)
	if err != nil {
		return nil, fmt.Errorf("capture: filter for %s: %w", link, err)
	}
	f.vm = vm
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
