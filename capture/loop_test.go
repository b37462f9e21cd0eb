package capture

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/gopacket"
	"github.com/pingcraft/pingcraft/craft"
)

// fakeFile hands out frames "1", "2", ... then io.EOF, or err if set.
type fakeFile struct {
	frames int
	err    error
	read   int
}

func (f *fakeFile) ReadPacket() ([]byte, gopacket.CaptureInfo, error) {
	if f.read == f.frames {
		if f.err != nil {
			return nil, gopacket.CaptureInfo{}, f.err
		}
		return nil, gopacket.CaptureInfo{}, io.EOF
	}
	f.read++
	data := []byte{byte('0' + f.read)}
	return data, gopacket.CaptureInfo{Timestamp: time.Now(), CaptureLength: 1, Length: 1}, nil
}

func (f *fakeFile) Close() error { return nil }

// fakeRing is a live source: its frames, then a timeout every poll
// interval. ctx ends (cancel) once stopAfter frames were read; stats are
// what Stats returns on each call in turn, the last one repeated.
type fakeRing struct {
	fakeFile
	stats     []Stats
	stopAfter int
	cancel    context.CancelFunc
}

func (r *fakeRing) ReadPacket() ([]byte, gopacket.CaptureInfo, error) {
	if r.read == r.stopAfter {
		r.cancel()
	}
	if r.read == r.frames && r.err == nil {
		time.Sleep(DefaultPollTimeout)
		return nil, gopacket.CaptureInfo{}, ErrTimeout
	}
	return r.fakeFile.ReadPacket()
}

func (r *fakeRing) Stats() (Stats, error) {
	st := r.stats[0]
	if len(r.stats) > 1 {
		r.stats = r.stats[1:]
	}
	return st, nil
}

func TestLoop(t *testing.T) {
	errRead := errors.New("read: network is down")
	tests := []struct {
		name    string
		frames  int
		err     error       // after the frames
		live    []Stats     // nil: a file
		stop    int         // live: ctx ends after that many frames; -1 never
		o       LoopOptions // Frame is set by the test
		want    Counts      // Captured is also how many frames Frame saw
		wantErr error
		took    time.Duration // how long the loop ran, on the fake clock
	}{
		{name: "file to its end", frames: 3, want: Counts{Captured: 3}},
		{name: "file up to the count", frames: 3, o: LoopOptions{Count: 2}, want: Counts{Captured: 2}},
		{name: "file read error", frames: 2, err: errRead, want: Counts{Captured: 2}, wantErr: errRead},
		{name: "live up to the count", frames: 5, live: []Stats{{Packets: 7, Drops: 1}}, stop: -1, o: LoopOptions{Count: 4},
			want: Counts{Captured: 4, Live: true, Received: 7, Dropped: 1}},
		// Asked to stop after 2 frames while the ring holds 2 more and the
		// kernel dropped 1: the 2 are read, the counters are those of the
		// moment it was asked, though they grew since.
		{name: "live drains what the ring held", frames: 4, live: []Stats{{Packets: 5, Drops: 1}, {Packets: 9, Drops: 1}}, stop: 2,
			want: Counts{Captured: 4, Live: true, Received: 5, Dropped: 1}},
		// The counters promise 10 frames, only 3 ever come: the drain
		// ends at the first poll timeout, an empty ring.
		{name: "live drain ends when the ring is empty", frames: 3, live: []Stats{{Packets: 10}}, stop: 0, o: LoopOptions{Drain: time.Second},
			want: Counts{Captured: 3, Live: true, Received: 10}, took: DefaultPollTimeout},
		{name: "live read error", frames: 1, err: errRead, live: []Stats{{Packets: 1}}, stop: -1,
			want: Counts{Captured: 1, Live: true, Received: 1}, wantErr: errRead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				var src Source = &fakeFile{frames: tt.frames, err: tt.err}
				if tt.live != nil {
					src = &fakeRing{fakeFile: fakeFile{frames: tt.frames, err: tt.err}, stats: tt.live, stopAfter: tt.stop, cancel: cancel}
				}
				var seen uint64
				o := tt.o
				o.Frame = func(data []byte, _ gopacket.CaptureInfo) error {
					seen++
					if want := byte('0' + seen); len(data) != 1 || data[0] != want {
						t.Errorf("frame %d is %q", seen, data)
					}
					return nil
				}
				start := time.Now()
				got, err := Loop(ctx, src, &o)
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("Loop() error = %v, want %v", err, tt.wantErr)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("Loop() counts (-want +got):\n%s", diff)
				}
				if seen != got.Captured {
					t.Errorf("Frame saw %d frames, Loop captured %d", seen, got.Captured)
				}
				if took := time.Since(start); tt.took != 0 && took != tt.took {
					t.Errorf("Loop() took %v, want %v", took, tt.took)
				}
			})
		})
	}
}

// TestLoopStops: a file stops at once when ctx ends, and the first error of
// the file writer or of Frame stops the loop.
func TestLoopStops(t *testing.T) {
	errFrame := errors.New("stdout: broken pipe")
	ended, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name     string
		ctx      context.Context
		frame    func([]byte, gopacket.CaptureInfo) error
		writeErr bool // the file writer fails
		want     uint64
		wantErr  error
	}{
		{name: "file at the end of ctx", ctx: ended},
		{name: "frame error", ctx: t.Context(), frame: func([]byte, gopacket.CaptureInfo) error { return errFrame }, want: 1, wantErr: errFrame},
		{name: "writer error", ctx: t.Context(), writeErr: true, want: 1, wantErr: os.ErrClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &LoopOptions{Frame: tt.frame}
			if tt.writeErr {
				w, err := CreateFile(filepath.Join(t.TempDir(), "out"), FileOptions{Link: craft.LinkTypeEthernet, PacketBuffered: true})
				if err != nil {
					t.Fatal(err)
				}
				w.f.Close() // the next write fails
				o.File = w
			}
			got, err := Loop(tt.ctx, &fakeFile{frames: 3}, o)
			if got.Captured != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("Loop() = %d captured, %v; want %d, %v", got.Captured, err, tt.want, tt.wantErr)
			}
		})
	}
	if _, err := Loop(t.Context(), &fakeFile{}, &LoopOptions{Count: -1}); err == nil || !strings.Contains(err.Error(), "loop count -1") {
		t.Errorf("Loop() with count -1: %v, want an error naming the count", err)
	}
}

// TestLoopFile: every frame reaches the file, then Frame.
func TestLoopFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.pcap")
	w, err := CreateFile(path, FileOptions{Link: craft.LinkTypeEthernet})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Loop(t.Context(), &fakeFile{frames: 3}, &LoopOptions{File: w})
	if err != nil || got.Captured != 3 {
		t.Fatalf("Loop() = %+v, %v; want 3 captured", got, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, frames := readAll(t, path)
	var data []string
	for _, f := range frames {
		data = append(data, string(f.Data))
	}
	if diff := cmp.Diff([]string{"1", "2", "3"}, data); diff != "" {
		t.Errorf("frames in the file (-want +got):\n%s", diff)
	}
}
