package tcpdump

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
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

	"github.com/pingcraft/pingcraft/lab/labtest"
)

var updateTcpdump = flag.Bool("update-tcpdump", false,
	"rewrite fixtures/tcpdump/*.txt from what tcpdump prints now (needs tcpdump, and root for unshare -n)")

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

// printDiffers lists the frames where pingcraft deliberately prints what
// tcpdump does not, with why; fixtures/README.md repeats it (keep them in
// step: fixtures/gen/readme.tmpl). Empty: pingcraft matches tcpdump on
// every frame of every fixture.
var printDiffers = []struct {
	file, flags string
	frame       int
	reason      string
}{}

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

// isSLL2 says whether the pcap file header at b names LINUX_SLL2, which
// pcapgo cannot report whole.
func isSLL2(b []byte) bool {
	if len(b) < 24 {
		return false
	}
	var order binary.ByteOrder = binary.LittleEndian
	if b[0] == 0xa1 {
		order = binary.BigEndian
	}
	return order.Uint32(b[20:24]) == 276
}

func fixturePcaps(tb testing.TB) []*pcapFile {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(fixtureDir, "*.pcap"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(paths) == 0 {
		tb.Fatalf("no pcap files in %s: run go run ./fixtures/gen -out fixtures", fixtureDir)
	}
	var fs []*pcapFile
	for _, p := range paths {
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

func goldenPath(file, flags string) string {
	return filepath.Join(goldenDir, strings.TrimSuffix(file, ".pcap")+"."+flags+".txt")
}

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
