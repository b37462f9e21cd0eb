package tcpdump

import (
	"bytes"
	"encoding/binary"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/pingcraft/pingcraft/lab/labtest"
)

var mutants = flag.Bool("tcpdump-mutants", false, "compare the printer with tcpdump on every fixture frame cut short and with each header byte changed (slow)")

// writePcap writes frames as a pcap file of link type lt (276 for
// LINUX_SLL2, which pcapgo cannot write).
func writePcap(t *testing.T, path string, lt layers.LinkType, frames [][]byte, wire []int) {
	t.Helper()
	var b bytes.Buffer
	w := pcapgo.NewWriter(&b)
	hdrLink := lt
	if lt == 20 {
		hdrLink = layers.LinkTypeEthernet
	}
	if err := w.WriteFileHeader(65535, hdrLink); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: base.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(f), Length: wire[i]}
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	out := b.Bytes()
	if lt == 20 {
		binary.LittleEndian.PutUint32(out[20:24], 276)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// notDissected matches tcpdump's text for protocols pingcraft prints only
// as numbers or hex: 802.2 LLC and IGMP, where a changed byte can lead.
var notDissected = regexp.MustCompile(`(?i)llc|[DS]SAP|Null |Supervisory|Information, send|igmp|IGMP`)

// TestPrinterTcpdumpMutants is a differential test against tcpdump on
// frames no fixture holds: every fixture frame cut at every length, and
// with each of its first 96 bytes set to other values.
func TestPrinterTcpdumpMutants(t *testing.T) {
	if !*mutants {
		t.Skip("run with -tcpdump-mutants")
	}
	tcpdump := labtest.RequireTool(t, "tcpdump", "tcpdump")
	dir := t.TempDir()
	for _, pf := range fixturePcaps(t) {
		var frames [][]byte
		var wire []int
		for _, f := range pf.frames {
			for n := 0; n < len(f); n++ {
				frames = append(frames, f[:n])
				wire = append(wire, len(f))
			}
			for i := 0; i < len(f) && i < 96; i++ {
				for _, v := range []byte{0, 1, 0x45, 0x60, 0x7f, 0x80, 0xff, f[i] + 1, f[i] - 1} {
					if v == f[i] {
						continue
					}
					g := bytes.Clone(f)
					g[i] = v
					frames = append(frames, g)
					wire = append(wire, len(g))
				}
			}
		}
		path := filepath.Join(dir, pf.name)
		writePcap(t, path, pf.link, frames, wire)
		m := readPcap(t, path)
		for _, fl := range printFlagSets[:11] {
			t.Run(pf.name+"/"+fl.name, func(t *testing.T) {
				wantText := runTcpdump(t, tcpdump, false, fl.args, path)
				gotText := printAll(t, m, fl.opts, nil)
				want, got := splitFrames(wantText, len(frames)), splitFrames(gotText, len(frames))
				if want == nil || got == nil {
					t.Fatalf("cannot split the outputs into %d frames", len(frames))
				}
				bad := 0
				for i := range want {
					if want[i] == got[i] || notDissected.MatchString(want[i]) {
						continue
					}
					bad++
					if bad <= 8 {
						t.Errorf("frame %d % x:\n%s", i+1, frames[i][:min(len(frames[i]), 64)], cmp.Diff(strings.Split(want[i], "\n"), strings.Split(got[i], "\n")))
					}
				}
				if bad > 0 {
					t.Errorf("%d of %d frames differ", bad, len(frames))
					if dir := os.Getenv("PINGCRAFT_MUTANTS_DIR"); dir != "" { // for a closer look
						os.WriteFile(filepath.Join(dir, "want.txt"), []byte(wantText), 0o644)
						os.WriteFile(filepath.Join(dir, "got.txt"), []byte(gotText), 0o644)
					}
				}
			})
		}
	}
}
