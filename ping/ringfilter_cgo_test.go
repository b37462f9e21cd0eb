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
