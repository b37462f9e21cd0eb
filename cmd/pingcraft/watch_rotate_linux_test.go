package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
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
