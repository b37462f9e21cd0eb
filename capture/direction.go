package capture

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// packetOutgoing is PACKET_OUTGOING, the packet type of a frame the host
// sent (linux/if_packet.h).
const packetOutgoing = 4

// withDirection prefixes prog with a test of the frame's packet type, so
// that the kernel drops what dir excludes. On loopback every frame passes
// twice, going out and coming in: the outgoing copy is dropped, as libpcap
// does, which leaves nothing for DirectionOut.
func withDirection(prog []bpf.RawInstruction, dir Direction, loopback bool) ([]bpf.RawInstruction, error) {
	var head []bpf.Instruction
	switch {
	case dir == DirectionOut && loopback:
		return []bpf.RawInstruction{{Op: 0x06}}, nil // ret #0
	case dir == DirectionOut:
		head = []bpf.Instruction{
			bpf.LoadExtension{Num: bpf.ExtType},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: packetOutgoing, SkipTrue: 1},
			bpf.RetConstant{Val: 0},
		}
	case dir == DirectionIn || loopback:
		head = []bpf.Instruction{
			bpf.LoadExtension{Num: bpf.ExtType},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: packetOutgoing, SkipFalse: 1},
			bpf.RetConstant{Val: 0},
		}
	default:
		return prog, nil
	}
	raw, err := bpf.Assemble(head)
	if err != nil {
		return nil, fmt.Errorf("capture: direction filter: %w", err)
	}
	// The program's jumps are relative, so it runs unchanged after the head.
	return append(raw, prog...), nil
}
