package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/gopacket"
	"github.com/urfave/cli/v2"

	"github.com/pingcraft/pingcraft/capture"
	"github.com/pingcraft/pingcraft/craft"
)

// tcpdump's -C, -G and -W against tcpdump itself: the same input read with
// -r, written by both, and the files compared by name and by the frames in
// each. tcpdump runs with -Z root: as root it otherwise becomes the user
// tcpdump after the first file and cannot make the next in a test's
// directory.

// rotationInput writes n echo frames of size bytes, a millisecond apart,
// to a pcap file in a new directory.
func rotationInput(t *testing.T, n, size int) string {
	t.Helper()
	in := filepath.Join(t.TempDir(), "in.pcap")
	w, err := capture.CreateFile(in, capture.FileOptions{Link: craft.LinkTypeEthernet, Snaplen: 262144})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1796137323, 0)
	for i := range n {
		f := echoFrame(uint16(i), size)
		ci := gopacket.CaptureInfo{Timestamp: at.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(f), Length: len(f)}
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return in
}

// rotatedFrame is what a test compares of a frame: its bytes by their
// digest, which compares fast.
type rotatedFrame struct {
	At   time.Time
	Len  int
	Seq  int
	Data [sha256.Size]byte
}

// filesIn reads every capture file in dir: name -> frames.
func filesIn(t *testing.T, dir string) map[string][]rotatedFrame {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]rotatedFrame{}
	for _, e := range ents {
		r, err := capture.OpenFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		frames := []rotatedFrame{}
		for {
			data, ci, err := r.ReadPacket()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", e.Name(), err)
			}
			frames = append(frames, rotatedFrame{ci.Timestamp.UTC(), ci.Length, int(binary.BigEndian.Uint16(data[18:])), sha256.Sum256(data)})
		}
		r.Close()
		got[e.Name()] = frames
	}
	return got
}

// summary names each file's frames by their first and last sequence
// numbers, for a readable diff.
func summary(files map[string][]rotatedFrame) map[string]string {
	s := map[string]string{}
	for name, frames := range files {
		if len(frames) == 0 {
			s[name] = "empty"
			continue
		}
		s[name] = fmt.Sprintf("%d frames, %d to %d", len(frames), frames[0].Seq, frames[len(frames)-1].Seq)
	}
	return s
}

// ourRotation runs the rotation as watch runs it with -r in -w out and
// args: options read first, then the file read through capture.Loop into
// newRotation's writer (or one file when it rotates nothing), then the
// stop. It returns what went to stderr and the exit code.
func ourRotation(t *testing.T, dir string, stdin io.Reader, now func() time.Time, args ...string) (string, int) {
	t.Helper()
	var stderr bytes.Buffer
	flags := append(rotateFlags(), &cli.StringFlag{Name: "read", Aliases: []string{"r"}}, &cli.StringFlag{Name: "write", Aliases: []string{"w"}})
	cmd := &cli.Command{Name: "watch", Flags: flags}
	rest, err := getopt(cmd, args)
	if err != nil {
		t.Fatal(err)
	}
	app := &cli.App{
		Name: "tcpdump", Flags: flags, Writer: io.Discard, ErrWriter: &stderr,
		Metadata:       map[string]any{"prog": "tcpdump", "options": optionNames(rest)},
		ExitErrHandler: func(*cli.Context, error) {},
		Action: func(c *cli.Context) error {
			name := prog(c)
			if _, err := readRotation(c, name); err != nil {
				return err
			}
			var src *capture.FileReader
			var err error
			if c.String("read") == "-" {
				src, err = capture.NewFileReader(stdin, "-")
			} else {
				src, err = capture.OpenFile(c.String("read"))
			}
			if err != nil {
				return err
			}
			defer src.Close()
			o := capture.FileOptions{Link: src.Link(), LinkExt: src.LinkExt(), Snaplen: src.Snaplen()}
			if st, err := src.Stat(); err == nil {
				o.Keep = st
			}
			out := filepath.Join(dir, c.String("write"))
			w, closeFile, err := openRotation(c, name, out, o, now)
			if err != nil {
				return err
			}
			if w == nil {
				fw, err := capture.CreateFile(out, o)
				if err != nil {
					return err
				}
				w, closeFile = fw, fw.Close
			}
			n, err := capture.Loop(c.Context, src, &capture.LoopOptions{File: w})
			if cerr := closeFile(); err == nil {
				err = cerr
			}
			return rotationStop(c, err, n.Live)
		},
	}
	err = app.Run(append([]string{"tcpdump"}, rest...))
	var wd worded
	switch {
	case errors.As(err, &wd):
		stderr.WriteString(wd.msg + "\n")
		return stderr.String(), wd.code
	case err != nil:
		t.Fatal(err)
	}
	return stderr.String(), 0
}

// theirRotation runs tcpdump -r in -w out args in dir.
func theirRotation(t *testing.T, dir string, stdin io.Reader, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command("tcpdump", append([]string{"-Z", "root"}, args...)...)
	cmd.Dir, cmd.Stdin = dir, stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return dropReading(stderr.String()), exit.ExitCode()
	case err != nil:
		t.Fatalf("tcpdump: %v", err)
	}
	return dropReading(stderr.String()), 0
}

// dropReading drops tcpdump's "reading from file" line, which watch
// prints before the rotation starts.
func dropReading(s string) string {
	if strings.HasPrefix(s, "reading from file ") {
		_, s, _ = strings.Cut(s, "\n")
	}
	return s
}

func needTcpdump(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("tcpdump is not installed: apt-get install tcpdump")
	}
}

// TestRotationAsTcpdump: the files -C, -G and -W make, named and filled
// as tcpdump's. The input is 3,500 frames of 1,000 bytes, 3.56 MB: -C 1
// cuts it in four. -G runs take an hour-long period, so they rotate only
// on size; their names go through strftime at the start.
func TestRotationAsTcpdump(t *testing.T) {
	needTcpdump(t)
	in := rotationInput(t, 3500, 1000)
	tests := []struct {
		name string
		out  string
		args []string
	}{
		{"size", "out", []string{"-C", "1"}},
		{"size attached", "out", []string{"-C1", "-W2"}},
		{"ring of 2", "out", []string{"-C", "1", "-W", "2"}},
		{"ring of 1", "out", []string{"-C", "1", "-W", "1"}},
		{"ring of 11", "out", []string{"-C", "1", "-W", "11"}},
		{"size of 2", "out", []string{"-C", "+2", "-W", "3"}},
		{"files alone", "out", []string{"-W", "3"}},
		{"seconds", "cap-%Y%m%d-%%-%v", []string{"-G", "3600"}},
		{"seconds, size and ring", "cap-%Y-", []string{"-G", "3600", "-C", "1", "-W", "3"}},
		{"seconds 0 and size", "o%Y", []string{"-G", "0", "-C", "1"}},
		{"seconds not a number and size", "o%Y", []string{"-G", "x", "-C", "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			theirs, ours := t.TempDir(), t.TempDir()
			args := append([]string{"-r", in, "-w", tt.out}, tt.args...)
			tErr, tCode := theirRotation(t, theirs, nil, args...)
			oErr, oCode := ourRotation(t, ours, nil, time.Now, args...)
			if tErr != oErr || tCode != oCode {
				t.Errorf("stderr %q exit %d, tcpdump's %q exit %d", oErr, oCode, tErr, tCode)
			}
			want, got := filesIn(t, theirs), filesIn(t, ours)
			if diff := cmp.Diff(summary(want), summary(got)); diff != "" {
				t.Fatalf("files (-tcpdump's +ours):\n%s", diff)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("frames (-tcpdump's +ours):\n%s", diff)
			}
		})
	}
}

// TestRotationOptionErrors: values tcpdump refuses, refused in its words
// and with its exit code, the first bad one given named; values it takes
// (a sign, spaces before, -G's trailing junk) taken.
func TestRotationOptionErrors(t *testing.T) {
	needTcpdump(t)
	in := rotationInput(t, 3, 100)
	for _, args := range [][]string{
		{"-C", "0"}, {"-C", "1k"}, {"-C", "1m"}, {"-C", "1x"}, {"-C", ""}, {"-C", "-5"}, {"-C", "1 "},
		{"-C", "9223372036854775807"}, {"-C", "9223372036855"}, {"-C", "99999999999999999999"},
		{"-C", "+1"}, {"-C", " 1"},
		{"-G", "-1"}, {"-G", "5x"}, {"-G", "x"}, {"-G", "-0"},
		{"-W", "0"}, {"-W", "x"}, {"-W", "-3"}, {"-W", "3x"},
		{"-C", "0", "-W", "0"}, {"-W", "0", "-C", "0"}, {"-G", "-1", "-W", "0"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			theirs, ours := t.TempDir(), t.TempDir()
			all := append([]string{"-r", in, "-w", "out"}, args...)
			tErr, tCode := theirRotation(t, theirs, nil, all...)
			oErr, oCode := ourRotation(t, ours, nil, time.Now, all...)
			if tErr != oErr || tCode != oCode {
				t.Errorf("stderr %q exit %d, tcpdump's %q exit %d", oErr, oCode, tErr, tCode)
			}
			if diff := cmp.Diff(summary(filesIn(t, theirs)), summary(filesIn(t, ours))); diff != "" {
				t.Errorf("files (-tcpdump's +ours):\n%s", diff)
			}
		})
	}
}

// TestRotationFileLimit: -G 1 -W 2 stops when the time comes for a third
// file, with tcpdump's line, no counts from a file, and exit 0; the frame
// that found the limit is written nowhere. tcpdump reads the wall clock,
// so its input comes through a pipe with pauses past two second
// boundaries; ours is told the same times by its clock.
func TestRotationFileLimit(t *testing.T) {
	needTcpdump(t)
	if testing.Short() {
		t.Skip("tcpdump's run takes 2.5 s of wall clock")
	}
	in := rotationInput(t, 6, 100)
	b, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	const rec = 16 + 100
	// Frames 0-1 at once, 2 after 1.3 s, 3-5 after 1.2 s more: a new
	// file at frame 2, the limit at frame 3.
	parts := [][]byte{b[:24+2*rec], b[24+2*rec : 24+3*rec], b[24+3*rec:]}
	pauses := []time.Duration{0, 1300 * time.Millisecond, 1200 * time.Millisecond}
	args := []string{"-r", "-", "-w", "g-%s-", "-G", "1", "-W", "2"}

	// Begin just after a second boundary, so that frames 0 and 1 come in
	// the second tcpdump read its options in: it is the wall clock's
	// passing that is tested here.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 50*time.Millisecond)))
	pr, pw := io.Pipe()
	go func() {
		for i, p := range parts {
			time.Sleep(pauses[i])
			if _, err := pw.Write(p); err != nil {
				break
			}
		}
		pw.Close()
	}()
	theirs, ours := t.TempDir(), t.TempDir()
	tErr, tCode := theirRotation(t, theirs, pr, args...)
	pr.Close()

	// Our clock: read once as the run opens, then once a frame.
	start := time.Now().Truncate(time.Second).Add(50 * time.Millisecond)
	at := []time.Duration{0, 10 * time.Millisecond, 20 * time.Millisecond, 1300 * time.Millisecond, 2500 * time.Millisecond}
	reads := 0
	clock := func() time.Time {
		d := at[min(reads, len(at)-1)]
		reads++
		return start.Add(d)
	}
	oErr, oCode := ourRotation(t, ours, bytes.NewReader(b), clock, args...)
	if want := "Maximum file limit reached: 2\npcap_stats: Statistics aren't available from savefiles\n"; tErr != want || tCode != 0 {
		t.Fatalf("tcpdump: stderr %q exit %d, want %q exit 0: the pipe's pauses went wrong", tErr, tCode, want)
	}
	if oErr != tErr || oCode != tCode {
		t.Errorf("stderr %q exit %d, tcpdump's %q exit %d", oErr, oCode, tErr, tCode)
	}
	// The names carry the second each file began: compare them in order,
	// by the frames they hold.
	byOrder := func(files map[string][]rotatedFrame) []string {
		names := slices.Sorted(maps.Keys(files))
		var s []string
		for _, n := range names {
			s = append(s, summary(map[string][]rotatedFrame{"": files[n]})[""])
		}
		return s
	}
	want, got := filesIn(t, theirs), filesIn(t, ours)
	if diff := cmp.Diff(byOrder(want), byOrder(got)); diff != "" {
		t.Errorf("files in order (-tcpdump's +ours):\n%s", diff)
	}
	if len(got) == 2 {
		names := slices.Sorted(maps.Keys(got))
		if want := fmt.Sprintf("g-%d-", start.Unix()+1); names[1] != want {
			t.Errorf("our files %v: want the second named %s", names, want)
		}
	}
}

// TestRotationThroughWatch: the same runs through watch's command line, as
// a user types them: the files tcpdump makes, the same stderr and exit.
func TestRotationThroughWatch(t *testing.T) {
	needTcpdump(t)
	in := rotationInput(t, 3500, 1000)
	for _, args := range [][]string{{"-C", "1"}, {"-C1", "-W3"}, {"-C", "2", "-W", "11", "-U"}, {"-W", "3"}, {"-C", "1k"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			theirs, ours := t.TempDir(), t.TempDir()
			tErr, tCode := theirRotation(t, theirs, nil, append([]string{"-r", in, "-w", "out"}, args...)...)
			var stdout, stderr strings.Builder
			code := run(t.Context(), append([]string{"tcpdump", "-r", in, "-w", filepath.Join(ours, "out")}, args...), &stdout, &stderr)
			if got := dropReading(stderr.String()); got != tErr || code != tCode {
				t.Errorf("stderr %q exit %d, tcpdump's %q exit %d", got, code, tErr, tCode)
			}
			want, got := filesIn(t, theirs), filesIn(t, ours)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("files (-tcpdump's +watch's):\n%s", diff)
			}
		})
	}
}
