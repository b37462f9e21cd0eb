package capture

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/gopacket"
)

// DefaultDrain bounds the final read of a live source behind a slow
// consumer: see LoopOptions.Drain.
const DefaultDrain = 10 * time.Second

// LoopOptions say when Loop stops and where each frame goes. A nil
// *LoopOptions reads to the end and hands the frames to nobody.
type LoopOptions struct {
	// Count stops the loop after that many frames; 0 means no limit.
	Count int
	// File, if not nil, gets every frame first (tcpdump -w): a
	// FileWriter, or what writes a run of files.
	File PacketWriter
	// Frame, if not nil, gets every frame after File: a tcpdump printer,
	// say. data is valid only during the call.
	Frame func(data []byte, ci gopacket.CaptureInfo) error
	// Drain bounds how long a live source is still read once the context
	// ends; 0 means DefaultDrain.
	Drain time.Duration
}

// PacketWriter writes the frames Loop reads.
type PacketWriter interface {
	WritePacket(ci gopacket.CaptureInfo, data []byte) error
}

// Counts are what Loop read, and a live source's counters: tcpdump's three
// lines on exit.
type Counts struct {
	// Captured is how many frames Loop read and handed on.
	Captured uint64
	// Live says that the source is Live, so Received and Dropped are set.
	Live bool
	// Received is how many frames the filter passed, dropped ones
	// included: "received by filter".
	Received uint64
	// Dropped is how many of them the kernel had no room for: "dropped by
	// kernel".
	Dropped uint64
}

// Loop reads src until o.Count frames, the end of a file, an error or the
// end of ctx, and hands each frame to o.File and o.Frame; the first error
// of either stops it. The end of a file is no error.
//
// When ctx ends, a Live source is first read for what it held at that
// moment, at most o.Drain long, and the counters reported are those of that
// moment: so Captured + Dropped = Received, every frame the filter passed
// accounted for.
func Loop(ctx context.Context, src Source, o *LoopOptions) (Counts, error) {
	var opt LoopOptions
	if o != nil {
		opt = *o
	}
	if opt.Count < 0 {
		return Counts{}, fmt.Errorf("capture: loop count %d: use 0 (no limit) or more", opt.Count)
	}
	opt.Drain = cmp.Or(opt.Drain, DefaultDrain)
	live, _ := src.(Live)
	n := Counts{Live: live != nil}
	var final *Stats // the counters when ctx ended
	var drainEnd time.Time
	var err error
read:
	for err == nil && (opt.Count == 0 || n.Captured < uint64(opt.Count)) {
		if ctx.Err() != nil {
			if live == nil {
				break
			}
			if final == nil {
				st, serr := live.Stats()
				if serr != nil {
					return n, serr
				}
				final, drainEnd = &st, time.Now().Add(opt.Drain)
			}
			if n.Captured+final.Drops >= final.Packets || time.Now().After(drainEnd) {
				break
			}
		}
		data, ci, rerr := src.ReadPacket()
		switch {
		case errors.Is(rerr, ErrTimeout) && final != nil:
			// A whole poll timeout without a frame: the ring is
			// empty, whatever the counters said.
			break read
		case errors.Is(rerr, ErrTimeout):
			continue
		case errors.Is(rerr, io.EOF):
			break read
		case live == nil && ctx.Err() != nil && errors.Is(rerr, context.Canceled):
			// A file read waiting for a writer (a pipe, a FIFO),
			// ended by ctx: the end, as for a live source.
			break read
		case rerr != nil:
			err = rerr
			continue
		}
		n.Captured++
		if opt.File != nil {
			err = opt.File.WritePacket(ci, data)
		}
		if err == nil && opt.Frame != nil {
			err = opt.Frame(data, ci)
		}
	}
	var st Stats
	switch {
	case final != nil:
		st = *final
	case live != nil:
		var serr error
		if st, serr = live.Stats(); err == nil {
			err = serr
		}
	}
	n.Received, n.Dropped = st.Packets, st.Drops
	return n, err
}
