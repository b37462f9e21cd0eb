package report_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pingcraft/pingcraft/report"
)

// gate is an output that takes one Write each time it is released, and
// keeps what each Write got.
type gate struct {
	release chan struct{}
	mu      sync.Mutex
	got     []string
}

func newGate() *gate { return &gate{release: make(chan struct{})} }

func (g *gate) Write(b []byte) (int, error) {
	<-g.release
	g.mu.Lock()
	g.got = append(g.got, string(b))
	g.mu.Unlock()
	return len(b), nil
}

func (g *gate) writes() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.got)
}

// write starts a Write and returns a channel closed once it has returned.
func write(t *testing.T, a *report.AsyncWriter, s string) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if n, err := a.Write([]byte(s)); n != len(s) || err != nil {
			t.Errorf("Write(%q) = %d, %v", s, n, err)
		}
	}()
	return done
}

func returned(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// TestAsyncWriterLimit: a stalled output does not hold Write up until the
// limit is held; past it Write waits for room, and nothing is lost.
func TestAsyncWriterLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGate()
		a := report.NewAsyncWriterSize(g, 10)
		w1 := write(t, a, "aaaa")
		synctest.Wait() // the writer holds "aaaa", stalled in g
		w2 := write(t, a, "bbbb")
		synctest.Wait()
		if !returned(w1) || !returned(w2) {
			t.Fatal("Write waited with 8 of 10 bytes held")
		}
		w3 := write(t, a, "cccc")
		synctest.Wait()
		if returned(w3) {
			t.Fatal("Write did not wait with 12 of 10 bytes held")
		}
		g.release <- struct{}{} // "aaaa" is out: room for "cccc"
		synctest.Wait()
		if !returned(w3) {
			t.Fatal("Write still waits with room")
		}
		close(g.release) // the output catches up
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(g.writes(), ""); got != "aaaabbbbcccc" {
			t.Errorf("written %q, want aaaabbbbcccc", got)
		}
	})
}

// TestAsyncWriterOversized: one Write larger than the limit is taken
// whole when nothing else is held, and the next one waits for it.
func TestAsyncWriterOversized(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGate()
		a := report.NewAsyncWriterSize(g, 4)
		big := write(t, a, strings.Repeat("x", 25))
		synctest.Wait()
		if !returned(big) {
			t.Fatal("a Write over the limit waits with nothing else held")
		}
		next := write(t, a, "y")
		synctest.Wait()
		if returned(next) {
			t.Fatal("a Write did not wait with 25 of 4 bytes held")
		}
		g.release <- struct{}{}
		synctest.Wait()
		if !returned(next) {
			t.Fatal("a Write still waits with nothing held")
		}
		close(g.release)
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{strings.Repeat("x", 25), "y"}, g.writes()); diff != "" {
			t.Errorf("writes (-want +got):\n%s", diff)
		}
	})
}

// TestAsyncWriterCloseWhileWaiting: a Write already waiting for room when
// Close is called still gets its bytes out; Close waits for them.
func TestAsyncWriterCloseWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGate()
		a := report.NewAsyncWriterSize(g, 1)
		write(t, a, "a")
		synctest.Wait()
		w2 := write(t, a, "b")
		synctest.Wait()
		closed := make(chan error, 1)
		go func() { closed <- a.Close() }()
		synctest.Wait()
		if returned(w2) || len(closed) > 0 {
			t.Fatal("Write or Close returned with the output stalled")
		}
		close(g.release)
		if err := <-closed; err != nil {
			t.Fatal(err)
		}
		<-w2
		if got := strings.Join(g.writes(), ""); got != "ab" {
			t.Errorf("written %q, want ab", got)
		}
	})
}

// TestAsyncWriterAtOnce: what is written goes out without waiting for more
// or for Close, so interactive output appears line by line.
func TestAsyncWriterAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var b syncBuffer
		a := report.NewAsyncWriter(&b)
		for _, line := range []string{"PING 198.18.1.2\n", "64 bytes from 198.18.1.2\n"} {
			a.Write([]byte(line))
			synctest.Wait()
			if got := b.String(); !strings.HasSuffix(got, line) {
				t.Fatalf("output %q lacks %q before Close", got, line)
			}
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// syncBuffer is a bytes.Buffer that the test may read while the
// AsyncWriter writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// slowWriter takes a millisecond of the bubble's clock per Write.
type slowWriter struct{ syncBuffer }

func (s *slowWriter) Write(p []byte) (int, error) {
	time.Sleep(time.Millisecond)
	return s.syncBuffer.Write(p)
}

// TestAsyncWriterConcurrent: Writes from many goroutines, faster than the
// output, each arrive whole and in each goroutine's order; Close flushes
// them all.
func TestAsyncWriterConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out slowWriter
		a := report.NewAsyncWriterSize(&out, 1<<10) // small, so that Writes also wait for room
		const writers, lines = 8, 500
		var wg sync.WaitGroup
		for g := range writers {
			wg.Go(func() {
				for i := range lines {
					if _, err := fmt.Fprintf(a, "writer %d line %d\n", g, i); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		next := make([]int, writers)
		got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		for _, l := range got {
			var g, i int
			if _, err := fmt.Sscanf(l, "writer %d line %d", &g, &i); err != nil || g < 0 || g >= writers {
				t.Fatalf("line %q: %v", l, err)
			}
			if i != next[g] {
				t.Fatalf("writer %d: line %d after %d", g, i, next[g]-1)
			}
			next[g]++
		}
		if len(got) != writers*lines {
			t.Errorf("%d lines, want %d", len(got), writers*lines)
		}
	})
}

// failing fails its nth Write, or writes short there.
type failing struct {
	n     int
	short bool
	calls int
}

var errBroken = errors.New("write |1: broken pipe")

func (f *failing) Write(p []byte) (int, error) {
	f.calls++
	switch {
	case f.calls < f.n:
		return len(p), nil
	case f.short:
		return len(p) - 1, nil
	}
	return 0, errBroken
}

// TestAsyncWriterErrors: the output's first error comes back from the
// Writes after it and from Close; nothing more is written once it failed.
func TestAsyncWriterErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		out  *failing
		want error
	}{
		{"error", &failing{n: 2}, errBroken},
		{"short write", &failing{n: 2, short: true}, io.ErrShortWrite},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a := report.NewAsyncWriter(tc.out)
				for _, s := range []string{"one\n", "two\n"} {
					if _, err := a.Write([]byte(s)); err != nil {
						t.Fatalf("Write(%q): %v", s, err)
					}
					synctest.Wait()
				}
				if _, err := a.Write([]byte("three\n")); !errors.Is(err, tc.want) {
					t.Errorf("Write after the failure: %v, want %v", err, tc.want)
				}
				if err := a.Close(); !errors.Is(err, tc.want) {
					t.Errorf("Close: %v, want %v", err, tc.want)
				}
				if tc.out.calls != 2 {
					t.Errorf("%d writes to the output, want 2", tc.out.calls)
				}
			})
		})
	}
}

// TestAsyncWriterClosed: Write after Close fails with os.ErrClosed; Close
// again reports the same as the first.
func TestAsyncWriterClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := report.NewAsyncWriter(&failing{n: 1})
		a.Write([]byte("x"))
		if err := a.Close(); !errors.Is(err, errBroken) {
			t.Errorf("Close: %v, want %v", err, errBroken)
		}
		if _, err := a.Write([]byte("y")); !errors.Is(err, os.ErrClosed) {
			t.Errorf("Write after Close: %v, want os.ErrClosed", err)
		}
		if err := a.Close(); !errors.Is(err, errBroken) {
			t.Errorf("second Close: %v, want %v", err, errBroken)
		}
		b := report.NewAsyncWriter(io.Discard)
		if err := b.Close(); err != nil {
			t.Errorf("Close with nothing written: %v", err)
		}
	})
}

// TestAsyncWriterPipe: on a real pipe nobody reads yet, a megabyte of lines
// is queued without waiting for the reader, and all of it arrives.
func TestAsyncWriterPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	a := report.NewAsyncWriter(w)
	line := strings.Repeat("x", 63) + "\n"
	const n = 1 << 14 // 1 MiB, sixteen times a pipe's buffer
	queued := make(chan struct{})
	go func() {
		defer close(queued)
		for range n {
			a.Write([]byte(line))
		}
	}()
	select {
	case <-queued:
	case <-time.After(10 * time.Second):
		t.Fatal("Write waited for the pipe's reader")
	}
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(r)
		got <- b
	}()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if b := <-got; !bytes.Equal(b, bytes.Repeat([]byte(line), n)) {
		t.Errorf("read %d bytes, want %d of lines", len(b), n*len(line))
	}
}
