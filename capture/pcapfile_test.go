package capture

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/gopacket"
	"github.com/pingcraft/pingcraft/craft"
)

type frameRec struct {
	At   time.Time
	Len  int
	Data []byte
}

func readAll(t *testing.T, path string) (*FileReader, []frameRec) {
	t.Helper()
	r, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	var got []frameRec
	for {
		data, ci, err := r.ReadPacket()
		if errors.Is(err, io.EOF) {
			return r, got
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, frameRec{ci.Timestamp.UTC(), ci.Length, append([]byte(nil), data...)})
	}
}

// TestFileRoundTrip: what FileWriter writes, as pcap and as pcapng, reads
// back whole through FileReader, truncated frames' lengths included.
func TestFileRoundTrip(t *testing.T) {
	frames := []frameRec{
		{time.Unix(1764000000, 123456000).UTC(), 98, bytes.Repeat([]byte("frame "), 17)[:98]},
		{time.Unix(1764000001, 0).UTC(), 1500, []byte("snapped")},
	}
	tests := []struct {
		name string
		o    FileOptions
	}{
		{"pcap", FileOptions{Link: craft.LinkTypeEthernet, Snaplen: 262144}},
		{"pcap packet-buffered", FileOptions{Link: craft.LinkTypeEthernet, Snaplen: 262144, PacketBuffered: true}},
		{"pcapng", FileOptions{Link: craft.LinkTypeEthernet, Snaplen: 262144, PcapNG: true}},
		{"pcapng packet-buffered", FileOptions{Link: craft.LinkTypeEthernet, Snaplen: 262144, PcapNG: true, PacketBuffered: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out")
			w, err := CreateFile(path, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range frames {
				ci := gopacket.CaptureInfo{Timestamp: f.At, CaptureLength: len(f.Data), Length: f.Len}
				if err := w.WritePacket(ci, f.Data); err != nil {
					t.Fatal(err)
				}
			}
			if tt.o.PacketBuffered {
				// Every frame is in the file before Close.
				if _, got := readAll(t, path); len(got) != len(frames) {
					t.Errorf("before Close: %d frames in the file, want %d", len(got), len(frames))
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			r, got := readAll(t, path)
			if diff := cmp.Diff(frames, got); diff != "" {
				t.Errorf("frames (-written +read):\n%s", diff)
			}
			if r.Link() != craft.LinkTypeEthernet || r.Snaplen() != 262144 {
				t.Errorf("link %v snaplen %d, want Ethernet 262144", r.Link(), r.Snaplen())
			}
		})
	}
}

func TestOpenFileErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	junk := filepath.Join(dir, "junk")
	os.WriteFile(empty, nil, 0o644)
	os.WriteFile(junk, []byte("this is not a capture file at all"), 0o644)
	for _, tc := range []struct{ name, path, want string }{
		{"missing", filepath.Join(dir, "missing"), "missing: No such file or directory"},
		{"empty", empty, "truncated dump file; tried to read 4 file header bytes, only got 0"},
		{"junk", junk, "unknown file format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := OpenFile(tc.path); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("OpenFile: %v, want an error containing %q", err, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name, path string
		o          FileOptions
		want       string
	}{
		{"missing directory", filepath.Join(dir, "no", "such", "dir"), FileOptions{Link: craft.LinkTypeEthernet}, "no such file"},
		{"snaplen out of range", filepath.Join(dir, "big"), FileOptions{Snaplen: -1}, "snaplen -1 out of range"},
		{"link type beyond pcapng's 16 bits", filepath.Join(dir, "wide"), FileOptions{Link: 0x10000, PcapNG: true}, "does not fit pcapng's 16 bits"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := CreateFile(tc.path, tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("CreateFile: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
