package tcpdump

// The printer against tcpdump: its goldens (fixtures/tcpdump), the tcpdump
// installed here, TCP and UDP frames, and mutated fixture frames.

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/pingcraft/pingcraft/lab/labtest"
)

var updateTcpdump = flag.Bool("update-tcpdump", false,
	"rewrite fixtures/tcpdump/*.txt from what tcpdump prints now (needs tcpdump, and root for unshare -n)")

var mutants = flag.Bool("tcpdump-mutants", false, "compare the printer with tcpdump on every fixture frame cut short and with each header byte changed (slow)")

// printDiffers lists the frames where pingcraft deliberately prints what
// tcpdump does not, with why; fixtures/README.md repeats it (keep them in
// step: fixtures/gen/readme.tmpl). Empty: pingcraft matches tcpdump on
// every frame of every fixture.
var printDiffers = []struct {
	file, flags string
	frame       int
	reason      string
}{}

func goldenPath(file, flags string) string {
	return filepath.Join(goldenDir, strings.TrimSuffix(file, ".pcap")+"."+flags+".txt")
}

func TestPrinterGoldens(t *testing.T) {
	if *updateTcpdump {
		updateGoldens(t)
	}
	for _, f := range fixturePcaps(t) {
		for _, fl := range printFlagSets {
			if fl.only != "" && fl.only != f.name {
				continue
			}
			t.Run(f.name+"/"+fl.name, func(t *testing.T) {
				want, err := os.ReadFile(goldenPath(f.name, fl.name))
				if err != nil {
					t.Fatalf("%v: make it with go test ./tcpdump -run TestPrinterGoldens -update-tcpdump", err)
				}
				got := printAll(t, f, fl.opts, noInterfaces)
				compareOutput(t, f.name, fl.name, len(f.frames), string(want), got)
			})
		}
	}
}

// updateGoldens rewrites fixtures/tcpdump from tcpdump's output. tcpdump
// runs in an empty network namespace so that LINUX_SLL2 interface indexes
// name no interface of the host that happens to make the goldens.
func updateGoldens(t *testing.T) {
	tcpdump := labtest.RequireTool(t, "tcpdump", "tcpdump")
	if err := os.MkdirAll(goldenDir, 0o755); err != nil {
		t.Fatal(err)
	}
	old, _ := filepath.Glob(filepath.Join(goldenDir, "*.txt"))
	for _, p := range old {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range fixturePcaps(t) {
		for _, fl := range printFlagSets {
			if fl.only != "" && fl.only != f.name {
				continue
			}
			out := runTcpdump(t, tcpdump, true, fl.args, filepath.Join(fixtureDir, f.name))
			if err := os.WriteFile(goldenPath(f.name, fl.name), []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestPrinterTcpdump compares with the tcpdump installed here, on this
// host's interface names.
func TestPrinterTcpdump(t *testing.T) {
	tcpdump := labtest.RequireTool(t, "tcpdump", "tcpdump")
	for _, f := range fixturePcaps(t) {
		for _, fl := range printFlagSets {
			if fl.only != "" && fl.only != f.name {
				continue
			}
			t.Run(f.name+"/"+fl.name, func(t *testing.T) {
				want := runTcpdump(t, tcpdump, false, fl.args, filepath.Join(fixtureDir, f.name))
				got := printAll(t, f, fl.opts, nil)
				compareOutput(t, f.name, fl.name, len(f.frames), want, got)
			})
		}
	}
}

// TestPrinterTcpdumpTCPUDP compares the TCP and UDP summaries with the
// installed tcpdump: the fixtures hold no TCP or UDP.
func TestPrinterTcpdumpTCPUDP(t *testing.T) {
	tcpdump := labtest.RequireTool(t, "tcpdump", "tcpdump")
	frames := tcpUDPFrames(t)
	wire := make([]int, len(frames))
	for i, f := range frames {
		wire[i] = len(f)
	}
	path := filepath.Join(t.TempDir(), "tcp-udp.pcap")
	writePcap(t, path, layers.LinkTypeRaw, frames, wire)
	f := readPcap(t, path)
	for _, fl := range printFlagSets {
		if fl.only != "" {
			continue
		}
		t.Run(fl.name, func(t *testing.T) {
			compareOutput(t, "tcp-udp.pcap", fl.name, len(frames), runTcpdump(t, tcpdump, false, fl.args, path), printAll(t, f, fl.opts, nil))
		})
	}
}

// tcpUDPFrames is a TCP conversation (handshake with options, data, FIN,
// RST, URG) and two UDP datagrams, one with a bad checksum, as raw IPv4.
// The ports are ones tcpdump runs no dissector on.
func tcpUDPFrames(t *testing.T) [][]byte {
	t.Helper()
	host, target := net.IP{198, 18, 0, 2}, net.IP{198, 18, 1, 2}
	synOpts := []layers.TCPOption{
		{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0xb4}},
		{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2},
		{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: []byte{0, 0, 0x30, 0x39, 0, 0, 0, 0}},
		{OptionType: layers.TCPOptionKindNop},
		{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{7}},
	}
	type seg struct {
		back     bool
		seq, ack uint32
		flags    string
		opts     []layers.TCPOption
		data     string
	}
	segs := []seg{
		{seq: 1000, flags: "S", opts: synOpts},
		{back: true, seq: 5000, ack: 1001, flags: "SA", opts: synOpts},
		{seq: 1001, ack: 5001, flags: "A"},
		{seq: 1001, ack: 5001, flags: "PA", data: "hello world\n"},
		{back: true, seq: 5001, ack: 1013, flags: "A"},
		{seq: 1013, ack: 5001, flags: "FA"},
		{seq: 1013, ack: 5001, flags: "R"},
		{seq: 1013, ack: 5001, flags: "FPU", data: "x"},
	}
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	var frames [][]byte
	for _, s := range segs {
		ip := &layers.IPv4{Version: 4, TTL: 64, Id: 1, Flags: layers.IPv4DontFragment, Protocol: layers.IPProtocolTCP, SrcIP: host, DstIP: target}
		tcp := &layers.TCP{SrcPort: 41000, DstPort: 23456, Seq: s.seq, Ack: s.ack, Window: 64240, Options: s.opts}
		if s.back {
			ip.SrcIP, ip.DstIP = target, host
			tcp.SrcPort, tcp.DstPort = 23456, 41000
		}
		has := func(f string) bool { return strings.Contains(s.flags, f) }
		tcp.SYN, tcp.ACK, tcp.PSH = has("S"), has("A"), has("P")
		tcp.FIN, tcp.RST, tcp.URG = has("F"), has("R"), has("U")
		if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, opts, ip, tcp, gopacket.Payload(s.data)); err != nil {
			t.Fatal(err)
		}
		frames = append(frames, buf.Bytes())
	}
	for i, data := range []string{"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", "abcdefgh"} {
		ip := &layers.IPv4{Version: 4, TTL: 64, Id: 1, Flags: layers.IPv4DontFragment, Protocol: layers.IPProtocolUDP, SrcIP: host, DstIP: target}
		udp := &layers.UDP{SrcPort: 41000, DstPort: layers.UDPPort(33434 + i)}
		if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, opts, ip, udp, gopacket.Payload(data)); err != nil {
			t.Fatal(err)
		}
		b := buf.Bytes()
		if i == 1 {
			b[26] ^= 0xff // the UDP checksum
		}
		frames = append(frames, b)
	}
	return frames
}

// mutateWhole is the longest frame whose every byte the mutants test
// changes; of longer ones, the first 96 (the headers of a probe).
const mutateWhole = 512

// TestPrinterTcpdumpMutants is a differential test against tcpdump on
// frames no fixture holds: every fixture frame cut at every length, and
// with each of its first 96 bytes set to other values (every byte, for
// frames up to mutateWhole bytes: options and DNS records lie deep).
func TestPrinterTcpdumpMutants(t *testing.T) {
	if !*mutants {
		t.Skip("run with -tcpdump-mutants")
	}
	tcpdump := labtest.RequireTool(t, "tcpdump", "tcpdump")
	dir := t.TempDir()
	sources := fixturePcaps(t)
	// And frames no fixture holds: Arista headers, SSH and timed.
	apps, _ := appFrames(t)
	sources = append(sources, &pcapFile{name: "arista.pcap", link: layers.LinkTypeEthernet, frames: aristaFrames(t)},
		&pcapFile{name: "apps.pcap", link: layers.LinkTypeRaw, frames: apps})
	for _, pf := range sources {
		var frames [][]byte
		var wire []int
		for _, f := range pf.frames {
			for n := 0; n < len(f); n++ {
				frames = append(frames, f[:n])
				wire = append(wire, len(f))
			}
			for i := 0; i < len(f) && (i < 96 || len(f) <= mutateWhole); i++ {
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
					if want[i] == got[i] || notDissected.MatchString(want[i]) || undecodedPort(want[i], got[i]) {
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

// notDissected matches tcpdump's text for protocols pingcraft prints only
// as numbers or hex: 802.2 LLC and IGMP, where a changed byte can lead.
var notDissected = regexp.MustCompile(`(?i)llc|[DS]SAP|Null |Supervisory|Information, send|igmp|IGMP`)

// undecodedPort says whether tcpdump ran a printer pingcraft does not have
// for a port (a changed byte can make a port any other): pingcraft's UDP
// summary where tcpdump names another protocol, or tcpdump going on
// after pingcraft's TCP summary.
func undecodedPort(want, got string) bool {
	if strings.Contains(got, "UDP, ") && !strings.Contains(want, "UDP, ") {
		return true
	}
	// The -x dump, the same in both, follows the text.
	if w, g := strings.Index(want, "\n\t0x0000:"), strings.Index(got, "\n\t0x0000:"); w >= 0 && g >= 0 && want[w:] == got[g:] {
		want, got = want[:w+1], got[:g+1]
	}
	got = strings.TrimSuffix(got, "\n")
	last := got[strings.LastIndexByte(got, '\n')+1:]
	return strings.Contains(last, "Flags [") && len(want) > len(got)+1 && strings.HasPrefix(want, got)
}

// TestPrintDiffersDocumented keeps fixtures/README.md's list of where
// pingcraft differs from tcpdump in step with printDiffers.
func TestPrintDiffersDocumented(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(fixtureDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "## Where pingcraft watch differs from tcpdump")
	if !ok {
		t.Fatal(`fixtures/README.md has no section "Where pingcraft watch differs from tcpdump": edit fixtures/gen/readme.tmpl and run go run ./fixtures/gen -out fixtures`)
	}
	if len(printDiffers) == 0 && !strings.Contains(section, "Nowhere on these files") {
		t.Errorf("printDiffers is empty but fixtures/README.md does not say so")
	}
	for _, ex := range printDiffers {
		if want := fmt.Sprintf("%s, %s, frame %d", ex.file, ex.flags, ex.frame); !strings.Contains(section, want) {
			t.Errorf("fixtures/README.md does not list %q (%s)", want, ex.reason)
		}
	}
}
