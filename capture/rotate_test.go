package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/gopacket"

	"github.com/pingcraft/pingcraft/craft"
)

// fakeClock is the Rotator's clock in tests: it moves only when told.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// rotFrame is frame seq of a rotation test: 40 bytes, a 56-byte pcap
// record, numbered in its first two bytes.
func rotFrame(seq int) []byte {
	b := make([]byte, 40)
	binary.BigEndian.PutUint16(b, uint16(seq))
	return b
}

// runFiles lists the files in dir and the frames each holds, by number.
func runFiles(t *testing.T, dir string) map[string][]int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]int{}
	for _, e := range ents {
		_, frames := readAll(t, filepath.Join(dir, e.Name()))
		seqs := []int{}
		for _, f := range frames {
			seqs = append(seqs, int(binary.BigEndian.Uint16(f.Data)))
		}
		got[e.Name()] = seqs
	}
	return got
}

// rotStart is 2026-12-01 09:59:59.5 UTC: half a second before a second
// boundary, so that a test can tell whole seconds from time elapsed.
var rotStart = time.Date(2026, 12, 1, 9, 59, 59, 500_000_000, time.UTC)

// TestRotatorNames: which file each frame goes to and how the files are
// named, for each combination of -C (Size), -G (Seconds) and -W (Files),
// as tcpdump's dump_packet_and_trunc and MakeFilename do it. Sizes are in
// bytes here: the header is 24 and each frame 56, so a Size of 100 holds
// two frames a file (80 is not over 100; 136 is).
func TestRotatorNames(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		ro    RotateOptions
		every time.Duration // the clock's step before each frame
		n     int           // frames written
		want  map[string][]int
		// limit is the frame WritePacket refuses with ErrFileLimit; -1
		// for none.
		limit int
	}{
		{"size", "out", RotateOptions{Size: 100}, 0, 5,
			map[string][]int{"out": {0, 1}, "out1": {2, 3}, "out2": {4}}, -1},
		{"size ring of 3", "out", RotateOptions{Size: 100, Files: 3}, 0, 9,
			map[string][]int{"out0": {6, 7}, "out1": {8}, "out2": {4, 5}}, -1},
		{"size ring of 1", "out", RotateOptions{Size: 100, Files: 1}, 0, 5,
			map[string][]int{"out": {4}}, -1},
		{"size ring of 10: one digit", "out", RotateOptions{Size: 100, Files: 10}, 0, 3,
			map[string][]int{"out0": {0, 1}, "out1": {2}}, -1},
		{"size ring of 11: two digits", "out", RotateOptions{Size: 100, Files: 11}, 0, 5,
			map[string][]int{"out00": {0, 1}, "out01": {2, 3}, "out02": {4}}, -1},
		{"size exactly reached is not over", "out", RotateOptions{Size: 136}, 0, 3,
			map[string][]int{"out": {0, 1, 2}}, -1},
		{"size below the header", "out", RotateOptions{Size: 10}, 0, 2,
			map[string][]int{"out": {}, "out1": {0}, "out2": {1}}, -1},
		// The clock is read to the second: 0.6 s after 59.5 is the next
		// second, so a 1-second period ends there.
		{"seconds", "cap-%H%M%S", RotateOptions{Seconds: 1}, 600 * time.Millisecond, 4,
			map[string][]int{"cap-095959": {}, "cap-100000": {0, 1}, "cap-100001": {2, 3}}, -1},
		{"seconds not yet", "cap-%H%M%S", RotateOptions{Seconds: 2}, 600 * time.Millisecond, 3,
			map[string][]int{"cap-095959": {0, 1}, "cap-100001": {2}}, -1},
		{"seconds without conversions", "cap", RotateOptions{Seconds: 1}, time.Second, 2,
			map[string][]int{"cap": {1}}, -1},
		{"seconds, file limit", "cap-%S", RotateOptions{Seconds: 1, Files: 2}, time.Second, 4,
			map[string][]int{"cap-59": {}, "cap-00": {0}}, 1},
		{"seconds, limit of one", "cap-%S", RotateOptions{Seconds: 1, Files: 1}, time.Second, 2,
			map[string][]int{"cap-59": {}}, 0},
		{"seconds and size", "c%S.", RotateOptions{Seconds: 3, Size: 100}, time.Second, 6,
			map[string][]int{"c59.": {0, 1}, "c02.": {2, 3}, "c02.1": {4}, "c05.": {5}}, -1},
		{"seconds and size ring", "c%S.", RotateOptions{Seconds: 5, Size: 100, Files: 2}, time.Second, 9,
			map[string][]int{"c59.0": {0, 1}, "c59.1": {2, 3}, "c04.0": {8}, "c04.1": {6, 7}}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			clock := &fakeClock{rotStart}
			ro := tt.ro
			ro.Now = clock.now
			r, err := NewRotator(filepath.Join(dir, tt.file), ro, FileOptions{Link: craft.LinkTypeEthernet})
			if err != nil {
				t.Fatal(err)
			}
			written := 0
			for i := range tt.n {
				clock.t = clock.t.Add(tt.every)
				err := r.WritePacket(gopacket.CaptureInfo{Timestamp: clock.t, CaptureLength: 40, Length: 40}, rotFrame(i))
				switch {
				case i == tt.limit && !errors.Is(err, ErrFileLimit):
					t.Fatalf("frame %d: %v, want ErrFileLimit", i, err)
				case i > tt.limit && tt.limit >= 0 && !errors.Is(err, ErrFileLimit):
					t.Fatalf("frame %d after the limit: %v, want ErrFileLimit again", i, err)
				case tt.limit < 0 || i < tt.limit:
					if err != nil {
						t.Fatalf("frame %d: %v", i, err)
					}
					written++
				}
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, runFiles(t, dir)); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
			if r.Frames() != written {
				t.Errorf("Frames() = %d, want %d", r.Frames(), written)
			}
		})
	}
}

// TestRotatorSizeCountsBuffered: the size checked is the file's with what
// is still buffered, as ftell on tcpdump's stdio stream is, so files split
// alike with -U or without.
func TestRotatorSizeCountsBuffered(t *testing.T) {
	for _, buffered := range []bool{false, true} {
		dir := t.TempDir()
		r, err := NewRotator(filepath.Join(dir, "out"), RotateOptions{Size: 100}, FileOptions{Link: craft.LinkTypeEthernet, PacketBuffered: buffered})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if err := r.WritePacket(gopacket.CaptureInfo{Timestamp: rotStart, CaptureLength: 40, Length: 40}, rotFrame(i)); err != nil {
				t.Fatal(err)
			}
		}
		if buffered {
			// -U: the current file holds its frame before Close.
			if _, got := readAll(t, filepath.Join(dir, "out1")); len(got) != 1 {
				t.Errorf("-U: out1 holds %d frames before Close, want 1", len(got))
			}
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string][]int{"out": {0, 1}, "out1": {2}}, runFiles(t, dir)); diff != "" {
			t.Errorf("packet-buffered %v: files (-want +got):\n%s", buffered, diff)
		}
	}
}

// TestRotatorPcapNG: every file of the run is a whole pcapng file, with
// its own section and interface, and the frames' nanoseconds.
func TestRotatorPcapNG(t *testing.T) {
	dir := t.TempDir()
	// pcapng: a 28-byte section, a 32-byte interface and 72-byte frames.
	r, err := NewRotator(filepath.Join(dir, "ng"), RotateOptions{Size: 150, Files: 2}, FileOptions{Link: craft.LinkTypeEthernet, PcapNG: true})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1796137323, 123456789).UTC()
	for i := range 3 {
		if err := r.WritePacket(gopacket.CaptureInfo{Timestamp: at, CaptureLength: 40, Length: 60}, rotFrame(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string][]int{"ng0": {0, 1}, "ng1": {2}}, runFiles(t, dir)); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	fr, frames := readAll(t, filepath.Join(dir, "ng1"))
	if fr.Link() != craft.LinkTypeEthernet || len(frames) != 1 || !frames[0].At.Equal(at) || frames[0].Len != 60 {
		t.Errorf("ng1: link %d, frames %+v; want Ethernet, one frame at %v of 60 bytes", fr.Link(), frames, at)
	}
}

// TestRotatorKeep: the file being read is never written, not even when
// the ring comes round to its name; the run stops with ErrSameFile there.
func TestRotatorKeep(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "out1")
	if err := os.WriteFile(in, []byte("the input"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(in)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRotator(filepath.Join(dir, "out"), RotateOptions{Size: 100, Files: 2}, FileOptions{Link: craft.LinkTypeEthernet, Keep: st})
	if err != nil {
		t.Fatal(err)
	}
	var werr error
	for i := 0; i < 3 && werr == nil; i++ {
		werr = r.WritePacket(gopacket.CaptureInfo{Timestamp: rotStart, CaptureLength: 40, Length: 40}, rotFrame(i))
	}
	if !errors.Is(werr, ErrSameFile) || !strings.Contains(werr.Error(), in) {
		t.Errorf("the ring's turn to %s: %v, want ErrSameFile naming it", in, werr)
	}
	if err := r.WritePacket(gopacket.CaptureInfo{Timestamp: rotStart}, rotFrame(9)); !errors.Is(err, ErrSameFile) {
		t.Errorf("after the refusal: %v, want the same error", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if b, _ := os.ReadFile(in); string(b) != "the input" {
		t.Errorf("%s was written: %q", in, b)
	}

	// Refused at the first file too, before any frame.
	if _, err := NewRotator(filepath.Join(dir, "out"), RotateOptions{Size: 100, Files: 3}, FileOptions{Link: craft.LinkTypeEthernet, Keep: mustStat(t, filepath.Join(dir, "out0"))}); !errors.Is(err, ErrSameFile) {
		t.Errorf("first file is the input: %v, want ErrSameFile", err)
	}
}

func mustStat(t *testing.T, path string) os.FileInfo {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestRotatorErrors: options no run can follow, and files that cannot be
// made.
func TestRotatorErrors(t *testing.T) {
	dir := t.TempDir()
	fo := FileOptions{Link: craft.LinkTypeEthernet}
	tests := []struct {
		name string
		file string
		ro   RotateOptions
		want string
	}{
		{"nothing to rotate on", "out", RotateOptions{Files: 3}, "give a size or seconds"},
		{"negative size", "out", RotateOptions{Size: -1}, "must not be negative"},
		{"negative seconds", "out", RotateOptions{Seconds: -1}, "must not be negative"},
		{"no such directory", "none/out", RotateOptions{Size: 100}, "no such file or directory"},
		{"name too long", strings.Repeat("n", pathMax), RotateOptions{Size: 100, Files: 2}, "too many output files or filename is too long (> 4096)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRotator(filepath.Join(dir, tt.file), tt.ro, fo)
			if err == nil {
				r.Close()
				t.Fatalf("NewRotator: no error, want one saying %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewRotator: %v, want it to say %q", err, tt.want)
			}
		})
	}

	// A directory that goes away under the run: the next file's error is
	// WritePacket's, and every later call's.
	sub := filepath.Join(dir, "gone")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := NewRotator(filepath.Join(sub, "out"), RotateOptions{Size: 10}, fo)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.WritePacket(gopacket.CaptureInfo{Timestamp: rotStart}, rotFrame(0)); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(sub); err != nil {
		t.Fatal(err)
	}
	err1 := r.WritePacket(gopacket.CaptureInfo{Timestamp: rotStart}, rotFrame(1))
	err2 := r.WritePacket(gopacket.CaptureInfo{Timestamp: rotStart}, rotFrame(2))
	if err1 == nil || err2 == nil || !errors.Is(err1, os.ErrNotExist) {
		t.Errorf("rotating into a removed directory: %v, then %v; want ENOENT both times", err1, err2)
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close after the error: %v", err)
	}
	if err := r.WritePacket(gopacket.CaptureInfo{Timestamp: rotStart}, rotFrame(3)); err == nil {
		t.Error("WritePacket after Close: no error")
	}
}

// TestRotatorStdout: a file named "-" goes to the stream given.
func TestRotatorStdout(t *testing.T) {
	var b bytes.Buffer
	r, err := NewRotator("-", RotateOptions{Size: 1 << 20, Stdout: &b}, FileOptions{Link: craft.LinkTypeEthernet})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := r.WritePacket(gopacket.CaptureInfo{Timestamp: rotStart, CaptureLength: 40, Length: 40}, rotFrame(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	fr, err := NewFileReader(&b, "standard output")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for ; ; n++ {
		if _, _, err := fr.ReadPacket(); err != nil {
			break
		}
	}
	if n != 2 || r.Name() != "-" {
		t.Errorf("standard output holds %d frames (Name %q), want 2 (\"-\")", n, r.Name())
	}
}

// TestStrftime: file names as glibc's strftime makes them in the C
// locale (the wants are glibc's, TZ=UTC), including what it copies as it
// is.
func TestStrftime(t *testing.T) {
	tests := []struct {
		pattern string
		at      int64
		want    string
	}{
		{"%Y-%m-%d_%H:%M:%S", 1796137323, "2026-12-01_15:02:03"},
		{"%a %A %b %B %h %p %P", 1796137323, "Tue Tuesday Dec December Dec PM pm"},
		{"%c|%D|%F|%R|%r|%T|%x|%X", 1796137323, "Tue Dec  1 15:02:03 2026|12/01/26|2026-12-01|15:02|03:02:03 PM|15:02:03|12/01/26|15:02:03"},
		{"%C %y %G %g %j %U %u %V %W %w", 1104537599, "20 04 2004 04 366 52 5 53 52 5"},
		{"%e %k %l %I", 1796137323, " 1 15  3 03"},
		{"%-d %-H %-j %-m", 1796137323, "1 15 335 12"},
		{"%s %z %Z %%", 1796137323, "1796137323 +0000 UTC %"},
		{"%Ey %OH", 1796137323, "26 15"},
		{"%v %Q %-Q %E x%", 1796137323, "%v %Q %-Q %E x%"},
		{"%t%n", 0, "\t\n"},
	}
	for _, tt := range tests {
		f, err := newStrftime(tt.pattern)
		if err != nil {
			t.Errorf("%q: %v", tt.pattern, err)
			continue
		}
		if got := f.FormatString(time.Unix(tt.at, 0).UTC()); got != tt.want {
			t.Errorf("strftime(%q, %d) = %q, want %q", tt.pattern, tt.at, got, tt.want)
		}
	}
}
