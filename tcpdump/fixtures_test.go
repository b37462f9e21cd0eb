package tcpdump

// Test support shared by the printer's tests: the fixtures, pcap files made
// on the fly, and tcpdump's output to compare with.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"github.com/pingcraft/pingcraft/fixtures"
)

const (
	fixtureDir = "../fixtures"
	goldenDir  = "../fixtures/tcpdump"
)

// printFlags is a set of tcpdump flags and the PrintOptions that ask
// pingcraft for the same output. Goldens are made with TZ=UTC.
type printFlags struct {
	name string // in the golden's file name: NAME.<name>.txt
	args []string
	opts PrintOptions
	only string // a fixture name: this set is checked on that file alone
}

var printFlagSets = []printFlags{
	{name: "n", args: []string{"-n"}},
	{name: "n-v", args: []string{"-n", "-v"}, opts: PrintOptions{Verbose: 1}},
	{name: "n-vv", args: []string{"-n", "-vv"}, opts: PrintOptions{Verbose: 2}},
	{name: "n-e", args: []string{"-n", "-e"}, opts: PrintOptions{Ether: true}},
	{name: "n-e-v", args: []string{"-n", "-e", "-v"}, opts: PrintOptions{Ether: true, Verbose: 1}},
	{name: "n-x", args: []string{"-n", "-x"}, opts: PrintOptions{Hex: 1}},
	{name: "n-xx", args: []string{"-n", "-xx"}, opts: PrintOptions{Hex: 2}},
	// -X and -XX: named apart from -x and -xx for case-insensitive file systems.
	{name: "n-x-ascii", args: []string{"-n", "-X"}, opts: PrintOptions{Hex: 1, ASCII: true}},
	{name: "n-xx-ascii", args: []string{"-n", "-XX"}, opts: PrintOptions{Hex: 2, ASCII: true}},
	{name: "n-q", args: []string{"-n", "-q"}, opts: PrintOptions{Quiet: true}},
	{name: "n-e-q", args: []string{"-n", "-e", "-q"}, opts: PrintOptions{Ether: true, Quiet: true}},
	{name: "n-t", args: []string{"-n", "-t"}, opts: PrintOptions{Stamp: StampNone}, only: "echo.pcap"},
	{name: "n-tt", args: []string{"-n", "-tt"}, opts: PrintOptions{Stamp: StampUnix}, only: "echo.pcap"},
	{name: "n-ttt", args: []string{"-n", "-ttt"}, opts: PrintOptions{Stamp: StampDelta}, only: "echo.pcap"},
	{name: "n-tttt", args: []string{"-n", "-tttt"}, opts: PrintOptions{Stamp: StampDate}, only: "echo.pcap"},
	{name: "n-ttttt", args: []string{"-n", "-ttttt"}, opts: PrintOptions{Stamp: StampSinceFirst}, only: "echo.pcap"},
}

type pcapFile struct {
	name   string
	link   layers.LinkType // as pcapgo reports it: 20 for LINUX_SLL2
	frames [][]byte
	infos  []gopacket.CaptureInfo
}

func readPcap(tb testing.TB, path string) *pcapFile {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	r, err := pcapgo.NewReader(bytes.NewReader(b))
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	f := &pcapFile{name: filepath.Base(path), link: r.LinkType()}
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return f
		}
		if err != nil {
			tb.Fatalf("%s frame %d: %v", path, len(f.frames)+1, err)
		}
		f.frames = append(f.frames, data)
		f.infos = append(f.infos, ci)
	}
}

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

func fixturePcaps(tb testing.TB) []*pcapFile {
	tb.Helper()
	var fs []*pcapFile
	for _, p := range fixtures.Pcaps(tb) {
		fs = append(fs, readPcap(tb, p))
	}
	return fs
}

// printAll prints every frame of f as pingcraft watch would. ifName
// replaces the host's interface names (nil keeps them).
func printAll(tb testing.TB, f *pcapFile, o PrintOptions, ifName func(uint32) (string, bool)) string {
	tb.Helper()
	var out bytes.Buffer
	o.Location = time.UTC
	p, err := NewPrinter(&out, f.link, &o)
	if err != nil {
		tb.Fatalf("%s: %v", f.name, err)
	}
	if ifName != nil {
		p.ifName = ifName
	}
	for i, data := range f.frames {
		if err := p.Print(data, f.infos[i]); err != nil {
			tb.Fatalf("%s frame %d: %v", f.name, i+1, err)
		}
	}
	return out.String()
}

// noInterfaces is the host the goldens were made on: tcpdump ran in an
// empty network namespace, so no interface index has a name.
func noInterfaces(uint32) (string, bool) { return "", false }

// frameStart matches the first line of a frame under the default time
// stamp, so that outputs can be compared frame by frame.
var frameStart = regexp.MustCompile(`^\d\d:\d\d:\d\d\.\d{6} `)

// splitFrames cuts printer output into frames; nil if the stamps do not
// allow it.
func splitFrames(text string, n int) []string {
	var frames []string
	for _, line := range strings.SplitAfter(text, "\n") {
		if line == "" {
			continue
		}
		if frameStart.MatchString(line) || strings.HasPrefix(line, "[Invalid header") || len(frames) == 0 {
			frames = append(frames, "")
		}
		frames[len(frames)-1] += line
	}
	if len(frames) != n {
		return nil
	}
	return frames
}

// compareOutput reports where got differs from tcpdump's want, leaving
// out the frames printDiffers excuses.
func compareOutput(t *testing.T, file, flags string, nframes int, want, got string) {
	t.Helper()
	if want == got {
		return
	}
	w, g := splitFrames(want, nframes), splitFrames(got, nframes)
	if w != nil && g != nil {
		for _, ex := range printDiffers {
			if ex.file == file && ex.flags == flags {
				w[ex.frame-1], g[ex.frame-1] = "", ""
			}
		}
		want, got = strings.Join(w, ""), strings.Join(g, "")
	}
	if diff := cmp.Diff(strings.Split(want, "\n"), strings.Split(got, "\n")); diff != "" {
		t.Errorf("%s with tcpdump %s: output differs from tcpdump (-tcpdump +pingcraft):\n%s", file, flags, diff)
	}
}

// runTcpdump reads file with tcpdump in UTC; isolated runs it in an empty
// network namespace.
func runTcpdump(t *testing.T, tcpdump string, isolated bool, args []string, file string) string {
	t.Helper()
	args = append(append([]string{}, args...), "-r", file)
	name := tcpdump
	if isolated {
		unshare, err := exec.LookPath("unshare")
		if err != nil {
			t.Fatalf("making goldens needs unshare(1) from util-linux: %v", err)
		}
		name = unshare
		args = append([]string{"--net", "--", tcpdump}, args...)
	}
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}
