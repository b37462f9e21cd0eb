//go:build cgo

package libpcap

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/gopacket/layers"
	"golang.org/x/net/bpf"

	"github.com/pingcraft/pingcraft/lab/labtest"
)

func TestCompile(t *testing.T) {
	tests := []struct {
		name, expr string
		snaplen    int
		want       []bpf.Instruction
	}{
		{"everything", "", 65535, []bpf.Instruction{bpf.RetConstant{Val: 65535}}},
		{"icmp", "icmp", 96, []bpf.Instruction{
			bpf.LoadAbsolute{Off: 12, Size: 2},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x800, SkipFalse: 3},
			bpf.LoadAbsolute{Off: 23, Size: 1},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: 1, SkipFalse: 1},
			bpf.RetConstant{Val: 96},
			bpf.RetConstant{Val: 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := Compile(layers.LinkTypeEthernet, tt.snaplen, tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			want, err := bpf.Assemble(tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, raw); diff != "" {
				t.Errorf("Compile(%q) (-want +got):\n%s", tt.expr, diff)
			}
		})
	}
}

// TestCompileErrors checks that a bad expression fails with
// libpcap's own message (libpcap 1.10's wording), the one tcpdump prints.
func TestCompileErrors(t *testing.T) {
	tests := []struct{ expr, libpcap string }{
		{"icmp and", "can't parse filter expression: syntax error"},
		{"nosuchproto", "can't parse filter expression: syntax error"},
		{"ip6[40] == 128 and", "can't parse filter expression: syntax error"},
		{"port 99999", "illegal port number 99999 > 65535"},
		// libpcap quotes the address without its last character.
		{"ether host 1:2:3:4:5", "bogus ethernet address 1:2:3:4:"},
	}
	tcpdump, _ := exec.LookPath("tcpdump")
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			_, err := Compile(layers.LinkTypeEthernet, 65535, tt.expr)
			want := fmt.Sprintf("libpcap: filter %q: %s", tt.expr, tt.libpcap)
			if err == nil || err.Error() != want {
				t.Errorf("Compile(%q) error = %v, want %s", tt.expr, err, want)
			}
			if tcpdump == "" {
				return
			}
			out, _ := exec.Command(tcpdump, "-y", "EN10MB", "-d", tt.expr).CombinedOutput()
			if got := strings.TrimSpace(string(out)); got != "tcpdump: "+tt.libpcap {
				t.Errorf("tcpdump -d %q says %q, want tcpdump: %s", tt.expr, got, tt.libpcap)
			}
		})
	}
}

// TestCompileAsTcpdump checks every program against tcpdump -dd, for each
// link type a ring or a file filters: the same libpcap must emit the same
// instructions, and refuse the same expressions.
func TestCompileAsTcpdump(t *testing.T) {
	tcpdump := labtest.RequireTool(t, "tcpdump", "tcpdump")
	links := []struct {
		link layers.LinkType
		name string // tcpdump -y
	}{
		{layers.LinkTypeEthernet, "EN10MB"},
		{layers.LinkTypeRaw, "RAW"},
		{layers.LinkTypeLinuxSLL, "LINUX_SLL"},
	}
	for _, l := range links {
		for _, expr := range []string{
			"",
			"icmp",
			"icmp6",
			"arp or icmp or (udp and port 53)",
			"vlan and icmp",
			"icmp[icmptype] == icmp-echoreply and icmp[4:2] == 4660",
			"ip6[40] >= 1 and ip6[40] <= 4",
		} {
			t.Run(l.name+"/"+expr, func(t *testing.T) {
				got, err := Compile(l.link, 1500, expr)
				want, derr := tcpdumpDD(tcpdump, l.name, 1500, expr)
				switch {
				case derr != nil && err == nil:
					t.Fatalf("Compile(%q) succeeded; tcpdump -dd: %v", expr, derr)
				case derr != nil:
					return // refused by both
				case err != nil:
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("Compile(%q) against tcpdump -dd (-want +got):\n%s", expr, diff)
				}
			})
		}
	}
}

// tcpdumpDD compiles expr for the link type tcpdump -y names with tcpdump
// -dd, which prints one "{ code, jt, jf, k }," line per instruction.
func tcpdumpDD(tcpdump, link string, snaplen int, expr string) ([]bpf.RawInstruction, error) {
	cmd := exec.Command(tcpdump, "-y", link, "-s", strconv.Itoa(snaplen), "-dd", expr)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	var prog []bpf.RawInstruction
	for line := range strings.Lines(string(out)) {
		f := strings.FieldsFunc(line, func(r rune) bool { return strings.ContainsRune("{}, \n", r) })
		if len(f) != 4 {
			return nil, fmt.Errorf("unexpected line %q", line)
		}
		var n [4]uint64
		for i, s := range f {
			v, err := strconv.ParseUint(s, 0, 32)
			if err != nil {
				return nil, fmt.Errorf("line %q: %v", line, err)
			}
			n[i] = v
		}
		prog = append(prog, bpf.RawInstruction{Op: uint16(n[0]), Jt: uint8(n[1]), Jf: uint8(n[2]), K: uint32(n[3])})
	}
	if len(prog) == 0 {
		return nil, errors.New("no instructions")
	}
	return prog, nil
}
