//go:build linux && cgo

package ping

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcap"
	"golang.org/x/net/bpf"

	"github.com/pingcraft/pingcraft/capture"
)

// TestRingFilterAsLibpcap holds the fixed ring filter against libpcap's
// compilation of the expression it stands for: the same verdict on every
// test frame and on thousands of mutations of them (bytes flipped, frames
// cut short), which reach the corners of both programs.
func TestRingFilterAsLibpcap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, six := range []bool{false, true} {
		for _, link := range []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeRaw} {
			raw := link == layers.LinkTypeRaw
			t.Run(fmt.Sprintf("v6=%v/%s", six, link), func(t *testing.T) {
				ours, err := ringProgram(six, raw, ringTestID, capture.DefaultSnaplen)
				if err != nil {
					t.Fatal(err)
				}
				dlt := link
				if raw {
					dlt = 12 // pcap_open_dead takes DLT_RAW, not LINKTYPE_RAW
				}
				theirs, err := pcap.CompileBPFFilter(dlt, capture.DefaultSnaplen, ringFilterExpr(six, ringTestID))
				if err != nil {
					t.Fatal(err)
				}
				lib := make([]bpf.RawInstruction, len(theirs))
				for i, in := range theirs {
					lib[i] = bpf.RawInstruction{Op: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
				}
				vmOurs, vmLib := newVM(t, ours), newVM(t, lib)
				for _, tt := range ringFilterCases(t, six) {
					frame := ringFrame(t, raw, tt.ip)
					for i := range 2000 {
						f := append([]byte(nil), frame...)
						if i > 0 {
							for range 1 + rng.IntN(3) {
								f[rng.IntN(min(len(f), 90))] = byte(rng.Uint32())
							}
							if rng.IntN(8) == 0 {
								f = f[:rng.IntN(len(f))]
							}
						}
						a, errA := vmOurs.Run(f)
						b, errB := vmLib.Run(f)
						if (a > 0) != (b > 0) || (errA == nil) != (errB == nil) {
							t.Fatalf("%s, mutation %d: ours passes %v (%v), libpcap's %v (%v): %x", tt.name, i, a > 0, errA, b > 0, errB, f)
						}
					}
				}
			})
		}
	}
}

// ringFilterExpr is ringProgram's filter as a libpcap expression, the
// test compares the two. libpcap's "and" and "or" bind equally tightly: hence the parentheses.
func ringFilterExpr(six bool, id uint16) string {
	if !six {
		return fmt.Sprintf("icmp and (ip[6:2] & 0x1fff != 0 or (((icmp[icmptype] == icmp-echoreply or icmp[icmptype] == icmp-echo) and icmp[4:2] == %d)"+
			" or icmp[icmptype] == icmp-unreach or icmp[icmptype] == icmp-timxceed or icmp[icmptype] == icmp-paramprob"+
			" or icmp[icmptype] == icmp-redirect or icmp[icmptype] == icmp-sourcequench))", id)
	}
	icmp6 := func(at int) string {
		return fmt.Sprintf("(((ip6[%d] == 128 or ip6[%d] == 129) and ip6[%d:2] == %d) or (ip6[%d] >= 1 and ip6[%d] <= 4))",
			at, at, at+4, id, at, at)
	}
	return fmt.Sprintf("icmp6 and ((ip6[6] == 58 and %s) or (ip6[6] == 44 and ip6[42:2] & 0xfff8 == 0 and %s)"+
		" or (ip6[6] == 44 and ip6[40] == 58 and ip6[42:2] & 0xfff8 != 0))", icmp6(40), icmp6(48))
}

func newVM(t *testing.T, prog []bpf.RawInstruction) *bpf.VM {
	t.Helper()
	insns, ok := bpf.Disassemble(prog)
	if !ok {
		t.Fatal("program does not disassemble")
	}
	vm, err := bpf.NewVM(insns)
	if err != nil {
		t.Fatal(err)
	}
	return vm
}
