package capture

import (
	"github.com/google/gopacket"
)

// Source is where frames come from: a Ring, libpcap's cooked capture
// (capture/libpcap), a FileReader, or one of them Filtered.
type Source interface {
	// ReadPacket returns the next frame and when it was captured. The
	// data may be the source's own memory, valid until the next call. A
	// live source returns an error wrapping ErrTimeout when its poll
	// timeout passes without a frame; a file returns io.EOF at its end.
	ReadPacket() ([]byte, gopacket.CaptureInfo, error)
	// Close releases the source; it is idempotent.
	Close() error
}

// Live is a Source whose kernel counts what its filter passed and what it
// dropped: the Ring and libpcap's cooked capture. Files have no such
// counters.
type Live interface {
	Source
	// Stats returns the counters since the source was opened; after
	// Close, the final ones.
	Stats() (Stats, error)
}

// Filtered returns src passing on only the frames f accepts: a file read
// through the program a ring runs in the kernel. Closing it closes src. A
// nil f returns src itself.
func Filtered(src Source, f *Filter) Source {
	if f == nil {
		return src
	}
	return &filtered{src: src, f: f}
}

type filtered struct {
	src Source
	f   *Filter
}

func (s *filtered) ReadPacket() ([]byte, gopacket.CaptureInfo, error) {
	for {
		data, ci, err := s.src.ReadPacket()
		if err != nil || s.f.Match(data) {
			return data, ci, err
		}
	}
}

func (s *filtered) Close() error { return s.src.Close() }
