package main

import (
	"context"
	"errors"
	"io"
	"os"
	"time"
)

// outputGrace is how long a write to standard output may still take once
// the capture is asked to stop before it is given up: longer than a reader
// that reads takes, short enough that a stop is seen within 100 ms.
const outputGrace = 20 * time.Millisecond

// stoppableOutput writes to a pipe or socket through a goroutine, so that
// a write blocked because nobody reads (watch | sleep 30) cannot hold up
// the stop: once ctx ends, a write that does not finish within outputGrace
// is abandoned, and so is every later one. The process is about to exit
// and nobody reads those lines anyway.
type stoppableOutput struct {
	ctx   context.Context
	w     io.Writer
	buf   []byte
	req   chan []byte
	done  chan error
	stuck bool
}

// watchOutput is w, made stoppable when it is a pipe or socket; a
// terminal or a file always takes a write.
func watchOutput(ctx context.Context, w io.Writer) io.Writer {
	f, ok := w.(*os.File)
	if !ok {
		return w
	}
	st, err := f.Stat()
	if err != nil || st.Mode()&(os.ModeNamedPipe|os.ModeSocket) == 0 {
		return w
	}
	o := &stoppableOutput{ctx: ctx, w: w, req: make(chan []byte), done: make(chan error)}
	go func() {
		for b := range o.req {
			_, err := o.w.Write(b)
			o.done <- err
		}
	}()
	return o
}

func (o *stoppableOutput) Write(p []byte) (int, error) {
	if o.stuck {
		return len(p), nil
	}
	o.buf = append(o.buf[:0], p...) // the caller reuses p
	o.req <- o.buf
	select {
	case err := <-o.done:
		return o.result(p, err)
	case <-o.ctx.Done():
	}
	t := time.NewTimer(outputGrace)
	defer t.Stop()
	select {
	case err := <-o.done:
		return o.result(p, err)
	case <-t.C:
		o.stuck = true // the goroutine keeps o.buf until the exit
		return len(p), nil
	}
}

func (o *stoppableOutput) result(p []byte, err error) (int, error) {
	if err != nil {
		return 0, &outputError{err}
	}
	return len(p), nil
}

// outputError is a failed write of the printed lines: tcpdump's "Unable to
// write output".
type outputError struct{ err error }

func (e *outputError) Error() string { return "write standard output: " + e.err.Error() }
func (e *outputError) Unwrap() error { return e.err }

// linesOutput marks the errors of writes to w as outputErrors.
type linesOutput struct{ w io.Writer }

func (l linesOutput) Write(p []byte) (int, error) {
	n, err := l.w.Write(p)
	var oe *outputError
	if err != nil && !errors.As(err, &oe) {
		err = &outputError{err}
	}
	return n, err
}
