package report

import (
	"fmt"
	"io"
	"os"
	"sync"
)

// DefaultAsyncLimit is how much an AsyncWriter holds before Write waits.
const DefaultAsyncLimit = 4 << 20

// errClosed is what Write returns after Close.
var errClosed = fmt.Errorf("report: write after Close: %w", os.ErrClosed)

// AsyncWriter lets the engine's goroutines print without waiting for a slow
// output (a pipe into less, a terminal over ssh): Write queues the bytes
// and returns, and one goroutine the AsyncWriter owns writes the queue out
// as soon as there is something in it, so lines still appear at once.
// Nothing is dropped: once limit bytes are held, queued or being written,
// Write waits for the writer to catch up. It is safe for concurrent use;
// each Write's bytes reach the underlying writer together and in order.
//
// The goroutine runs until Close, which the owner must call.
type AsyncWriter struct {
	w     io.Writer
	limit int

	mu      sync.Mutex
	queued  *sync.Cond // run waits here for bytes, Close, or a Write to end
	room    *sync.Cond // Writes wait here for held bytes to drop
	queue   []byte     // not yet handed to w
	spare   []byte     // the last batch's array, for the next queue
	writing int        // bytes of the batch being written now
	waiting int        // Writes waiting for room
	closed  bool
	err     error // w's first error; after it nothing more is written
	done    chan struct{}
}

// NewAsyncWriter returns an AsyncWriter to w that holds up to
// DefaultAsyncLimit bytes.
func NewAsyncWriter(w io.Writer) *AsyncWriter {
	return NewAsyncWriterSize(w, DefaultAsyncLimit)
}

// NewAsyncWriterSize returns an AsyncWriter to w that holds up to limit
// bytes (a larger single Write is taken when nothing else is held); a limit
// below 1 means DefaultAsyncLimit, a nil w discards.
func NewAsyncWriterSize(w io.Writer, limit int) *AsyncWriter {
	if limit < 1 {
		limit = DefaultAsyncLimit
	}
	a := &AsyncWriter{w: w, limit: limit, done: make(chan struct{})}
	a.queued = sync.NewCond(&a.mu)
	a.room = sync.NewCond(&a.mu)
	go a.run()
	return a
}

// Write queues p and returns at once, unless limit bytes are held already:
// then it waits for room. After a write error it returns that error, and
// once Close was called an error wrapping os.ErrClosed; it never keeps p.
func (a *AsyncWriter) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return 0, errClosed
	}
	// However this Write ends, run may be waiting for it to exit or to
	// take the queue.
	defer a.queued.Signal()
	for a.err == nil && !a.fits(len(p)) {
		a.waiting++
		a.room.Wait()
		a.waiting--
	}
	if a.err != nil {
		return 0, a.err
	}
	a.queue = append(a.queue, p...)
	return len(p), nil
}

// fits reports whether n more bytes may be held. A Write larger than the
// limit is taken when nothing else is held, or it would never be.
func (a *AsyncWriter) fits(n int) bool {
	held := len(a.queue) + a.writing
	return held == 0 || held+n <= a.limit
}

// run hands the queue to w, a batch at a time, until Close and the queue
// is empty.
func (a *AsyncWriter) run() {
	defer close(a.done)
	a.mu.Lock()
	defer a.mu.Unlock()
	for {
		for len(a.queue) == 0 && (!a.closed || a.waiting > 0) {
			a.queued.Wait()
		}
		if len(a.queue) == 0 {
			return // closed, drained, and no Write is waiting for room
		}
		// Swap buffers: Writes fill the spare while w takes the batch.
		batch := a.queue
		a.queue, a.spare = a.spare[:0], nil
		a.writing = len(batch)
		failed := a.err != nil
		a.mu.Unlock()
		var err error
		if !failed && a.w != nil {
			err = write(a.w, batch)
		}
		a.mu.Lock()
		if err != nil && a.err == nil {
			a.err = err
		}
		a.writing = 0
		if cap(batch) <= 2*a.limit { // not an oversized Write's array
			a.spare = batch[:0]
		}
		a.room.Broadcast()
	}
}

// write writes all of b to w, as io.Writer promises or reports.
func write(w io.Writer, b []byte) error {
	n, err := w.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	return err
}

// Close writes out everything queued, and what Writes already waiting for
// room bring, stops the goroutine and returns the first error the
// underlying writer returned, if any. Later calls return the same.
func (a *AsyncWriter) Close() error {
	a.mu.Lock()
	a.closed = true
	a.queued.Signal()
	a.mu.Unlock()
	<-a.done
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

var _ io.WriteCloser = (*AsyncWriter)(nil)
