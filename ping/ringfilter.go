package ping

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// ringProgram is the ring's kernel filter, a fixed classic BPF program so
// that the pinger needs no libpcap: echo requests and replies with our id
// (our own requests leaving included) and every ICMP error, which the
// filter cannot match to us, so Receive does. A first fragment of a large
// echo passes as the echo does; later fragments of any ICMP datagram pass,
// since they hold no ICMP header to match on and Receive must put replies
// together as the IP layer does. For IPv6 a fragment header is the one
// extension header looked through: echo replies carry no other.
// raw is for frames that start at the IP header (a SOCK_DGRAM ring).
//
// It passes what libpcap's compilation of the expression in
// ringFilterExpr (a test) passes; that test holds the two against each other.
func ringProgram(six, raw bool, id uint16, snaplen int) ([]bpf.RawInstruction, error) {
	l3 := uint32(14)
	if raw {
		l3 = 0
	}
	var a asm
	if raw {
		// No EtherType to go by: the version nibble tells the families
		// apart, so an IPv6 packet is never read as IPv4.
		version := uint32(4)
		if six {
			version = 6
		}
		a.op(bpf.LoadAbsolute{Off: 0, Size: 1})
		a.op(bpf.ALUOpConstant{Op: bpf.ALUOpShiftRight, Val: 4})
		a.jeq(version, "", "reject")
	}
	if six {
		if !raw {
			a.op(bpf.LoadAbsolute{Off: 12, Size: 2})
			a.jeq(0x86dd, "", "reject")
		}
		a.op(bpf.LoadAbsolute{Off: l3 + 6, Size: 1}) // next header
		a.jeq(58, "whole", "")
		a.jeq(44, "", "reject")
		a.op(bpf.LoadAbsolute{Off: l3 + 40, Size: 1}) // the fragment's next header
		a.jeq(58, "", "reject")
		a.op(bpf.LoadAbsolute{Off: l3 + 42, Size: 2})
		a.op(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0xfff8})
		a.jeq(0, "", "accept") // a later fragment: no ICMPv6 header, for reassembly
		a.op(bpf.LoadConstant{Dst: bpf.RegX, Val: 8})
		a.jump("icmp")
		a.label("whole")
		a.op(bpf.LoadConstant{Dst: bpf.RegX, Val: 0})
		a.label("icmp")
		a.op(bpf.LoadIndirect{Off: l3 + 40, Size: 1}) // type
		a.jeq(128, "id", "")
		a.jeq(129, "id", "")
		a.jgt(4, "reject", "")
		a.jge(1, "accept", "reject") // unreachable, too big, time exceeded, parameter problem
		a.label("id")
		a.op(bpf.LoadIndirect{Off: l3 + 44, Size: 2})
	} else {
		if !raw {
			a.op(bpf.LoadAbsolute{Off: 12, Size: 2})
			a.jeq(0x0800, "", "reject")
		}
		a.op(bpf.LoadAbsolute{Off: l3 + 9, Size: 1}) // protocol
		a.jeq(1, "", "reject")
		a.op(bpf.LoadAbsolute{Off: l3 + 6, Size: 2})
		a.jset(0x1fff, "accept", "")    // a later fragment: no ICMP header, for reassembly
		a.op(bpf.LoadMemShift{Off: l3}) // X = IP header length
		a.op(bpf.LoadIndirect{Off: l3, Size: 1})
		a.jeq(0, "id", "") // echo reply
		a.jeq(8, "id", "") // echo request
		for _, typ := range []uint32{3, 4, 5, 11, 12} {
			a.jeq(typ, "accept", "")
		}
		a.jump("reject")
		a.label("id")
		a.op(bpf.LoadIndirect{Off: l3 + 4, Size: 2})
	}
	a.jeq(uint32(id), "accept", "reject")
	a.label("accept")
	a.op(bpf.RetConstant{Val: uint32(snaplen)})
	a.label("reject")
	a.op(bpf.RetConstant{Val: 0})
	return a.assemble()
}

// asm assembles a classic BPF program with named jump targets; "" is the
// next instruction.
type asm struct {
	ins    []bpf.Instruction
	labels map[string]int
	jumps  []asmJump
}

type asmJump struct {
	at          int
	true, false string
}

func (a *asm) op(in bpf.Instruction) { a.ins = append(a.ins, in) }

func (a *asm) label(name string) {
	if a.labels == nil {
		a.labels = map[string]int{}
	}
	a.labels[name] = len(a.ins)
}

func (a *asm) cond(c bpf.JumpTest, v uint32, t, f string) {
	a.jumps = append(a.jumps, asmJump{len(a.ins), t, f})
	a.op(bpf.JumpIf{Cond: c, Val: v})
}

func (a *asm) jeq(v uint32, t, f string)  { a.cond(bpf.JumpEqual, v, t, f) }
func (a *asm) jgt(v uint32, t, f string)  { a.cond(bpf.JumpGreaterThan, v, t, f) }
func (a *asm) jge(v uint32, t, f string)  { a.cond(bpf.JumpGreaterOrEqual, v, t, f) }
func (a *asm) jset(v uint32, t, f string) { a.cond(bpf.JumpBitsSet, v, t, f) }

func (a *asm) jump(to string) {
	a.jumps = append(a.jumps, asmJump{len(a.ins), to, ""})
	a.op(bpf.Jump{})
}

// assemble resolves the jumps. The programs are fixed: an error is a bug in
// this file, which the tests would show.
func (a *asm) assemble() ([]bpf.RawInstruction, error) {
	var bad error
	skip := func(at int, to string) uint32 {
		if to == "" {
			return 0
		}
		n, ok := a.labels[to]
		if !ok || n <= at || n-at-1 > 0xff {
			bad = fmt.Errorf("ping: ring filter: no jump from %d to %q", at, to)
		}
		return uint32(n - at - 1)
	}
	for _, j := range a.jumps {
		switch in := a.ins[j.at].(type) {
		case bpf.JumpIf:
			in.SkipTrue, in.SkipFalse = uint8(skip(j.at, j.true)), uint8(skip(j.at, j.false))
			a.ins[j.at] = in
		case bpf.Jump:
			a.ins[j.at] = bpf.Jump{Skip: skip(j.at, j.true)}
		}
	}
	if bad != nil {
		return nil, bad
	}
	raw, err := bpf.Assemble(a.ins)
	if err != nil {
		return nil, fmt.Errorf("ping: ring filter: %w", err)
	}
	return raw, nil
}
