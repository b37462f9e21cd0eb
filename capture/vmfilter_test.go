package capture

import (
	"strings"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/pingcraft/pingcraft/craft"
)

// isIPv4At is "ether proto 0x800" for a header whose EtherType is at off:
// 12 in Ethernet, 14 in LINUX_SLL.
func isIPv4At(t *testing.T, off uint32) []bpf.RawInstruction {
	t.Helper()
	prog, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: off, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x800, SkipFalse: 1},
		bpf.RetConstant{Val: 65535},
		bpf.RetConstant{Val: 0},
	})
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

func TestFilter(t *testing.T) {
	ether := func(etherType byte) []byte {
		return append(make([]byte, 12), 0x08, etherType, 0x45, 0)
	}
	// LINUX_SLL2: protocol, reserved, ifindex 2, ARPHRD_ETHER, outgoing,
	// a 6-byte address and its padding.
	sll2 := func(etherType byte) []byte {
		return []byte{0x08, etherType, 0, 0, 0, 0, 0, 2, 0, 1, 4, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x45, 0}
	}
	tests := []struct {
		name string
		link craft.LinkType
		prog []bpf.RawInstruction
		data []byte
		want bool
	}{
		{"no program", craft.LinkTypeEthernet, nil, ether(0x06), true},
		{"ethernet ipv4", craft.LinkTypeEthernet, isIPv4At(t, 12), ether(0x00), true},
		{"ethernet arp", craft.LinkTypeEthernet, isIPv4At(t, 12), ether(0x06), false},
		{"short frame", craft.LinkTypeEthernet, isIPv4At(t, 12), []byte{1, 2}, false},
		// The program is one for LINUX_SLL: the protocol at 14, not 0.
		{"sll2 ipv4", craft.LinkTypeLinuxSLL2, isIPv4At(t, 14), sll2(0x00), true},
		{"sll2 arp", craft.LinkTypeLinuxSLL2, isIPv4At(t, 14), sll2(0x06), false},
		{"sll2 cut inside the header", craft.LinkTypeLinuxSLL2, isIPv4At(t, 14), sll2(0x00)[:19], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := NewFilter(tt.link, tt.prog)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Match(tt.data); got != tt.want {
				t.Errorf("Match(% x) = %v, want %v", tt.data, got, tt.want)
			}
		})
	}
}

func TestNewFilterErrors(t *testing.T) {
	tests := []struct {
		name string
		prog []bpf.RawInstruction
		want string
	}{
		{"jump beyond the end", []bpf.RawInstruction{{Op: 0x05, K: 7}}, "capture: filter for EN10MB: "},
		// ld proto: a Linux extension (SKF_AD_OFF + SKF_AD_PROTOCOL),
		// which golang.org/x/net/bpf decodes but cannot run.
		{"linux extension", []bpf.RawInstruction{{Op: 0x20, K: 0xfffff000}, {Op: 0x06, K: 1}}, "capture: filter for EN10MB: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewFilter(craft.LinkTypeEthernet, tt.prog); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("NewFilter: %v, want an error starting %q", err, tt.want)
			}
		})
	}
}
