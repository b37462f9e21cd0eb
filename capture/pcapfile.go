package capture

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// FileWriter writes frames to a pcap or pcapng file that tcpdump, tshark and
// Wireshark read. Frames are buffered and reach the file on Flush and Close,
// or each as it comes when the file is packet-buffered.
type FileWriter struct {
	f              *os.File
	bw             *bufio.Writer
	pcap           *pcapgo.Writer
	ng             *pcapgo.NgWriter
	packetBuffered bool
	name           string
}

// FileOptions describe the file CreateFile writes.
type FileOptions struct {
	// Link is how the frames start, as the source reports it; it is
	// required (0 is LINKTYPE_NULL).
	Link layers.LinkType
	// Snaplen is the snapshot length the file declares; 0 means
	// DefaultSnaplen.
	Snaplen int
	// PcapNG writes pcapng instead of pcap with microsecond stamps.
	PcapNG bool
	// PacketBuffered writes each frame to the file as it comes, as
	// tcpdump -U does, instead of when the buffer fills.
	PacketBuffered bool
}

// CreateFile creates (or truncates) path and writes the file header.
func CreateFile(path string, o FileOptions) (*FileWriter, error) {
	o.Snaplen = cmp.Or(o.Snaplen, DefaultSnaplen)
	if o.Snaplen < 0 || o.Snaplen > MaxSnaplen {
		return nil, fmt.Errorf("capture: write %s: snaplen %d out of range: use 1 to %d", path, o.Snaplen, MaxSnaplen)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	w := &FileWriter{f: f, bw: bufio.NewWriterSize(f, 64<<10), packetBuffered: o.PacketBuffered, name: path}
	if o.PcapNG {
		intf := pcapgo.DefaultNgInterface
		intf.LinkType, intf.SnapLength = o.Link, uint32(o.Snaplen)
		w.ng, err = pcapgo.NewNgWriterInterface(w.bw, intf, pcapgo.DefaultNgWriterOptions)
	} else {
		w.pcap = pcapgo.NewWriter(w.bw)
		err = w.pcap.WriteFileHeader(uint32(o.Snaplen), o.Link)
	}
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		f.Close()
		os.Remove(path) // nothing of it is usable
		return nil, fmt.Errorf("capture: write %s: %w", path, err)
	}
	return w, nil
}

// WritePacket appends one frame.
func (w *FileWriter) WritePacket(ci gopacket.CaptureInfo, data []byte) error {
	var err error
	if w.ng != nil {
		ci.InterfaceIndex = 0 // the file's one interface, not the capture's ifindex
		err = w.ng.WritePacket(ci, data)
	} else {
		err = w.pcap.WritePacket(ci, data)
	}
	if err == nil && w.packetBuffered {
		err = w.Flush()
	}
	if err != nil {
		return fmt.Errorf("capture: write %s: %w", w.name, err)
	}
	return nil
}

// Flush writes the buffered frames to the file.
func (w *FileWriter) Flush() error {
	if w.ng != nil {
		if err := w.ng.Flush(); err != nil {
			return err
		}
	}
	return w.bw.Flush()
}

// Close flushes and closes the file; the file is whole afterwards.
func (w *FileWriter) Close() error {
	err := w.Flush()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("capture: write %s: %w", w.name, err)
	}
	return nil
}

// FileReader reads a pcap or pcapng file, whichever it is.
type FileReader struct {
	f   *os.File
	src interface {
		ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
		LinkType() layers.LinkType
	}
	snaplen int
}

// pcapngMagic starts every pcapng file: a section header block.
var pcapngMagic = []byte{0x0a, 0x0d, 0x0d, 0x0a}

// OpenFile opens a pcap or pcapng file for reading.
func OpenFile(path string) (*FileReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	br := bufio.NewReaderSize(f, 64<<10)
	magic, err := br.Peek(4)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("capture: read %s: not a pcap or pcapng file (%d bytes)", path, len(magic))
	}
	r := &FileReader{f: f, snaplen: DefaultSnaplen}
	if bytes.Equal(magic, pcapngMagic) {
		ng, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("capture: read %s as pcapng: %w", path, err)
		}
		r.src = ng
		if intf, err := ng.Interface(0); err == nil && intf.SnapLength > 0 {
			r.snaplen = int(intf.SnapLength)
		}
	} else {
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("capture: read %s as pcap: %w", path, err)
		}
		r.src = pr
		if s := pr.Snaplen(); s > 0 {
			r.snaplen = int(s)
		}
	}
	return r, nil
}

// LinkType is the link type the file declares, as pcapgo reports it (it
// keeps the low 8 bits: LINUX_SLL2, 276, reads as 20).
func (r *FileReader) LinkType() layers.LinkType { return r.src.LinkType() }

// Snaplen is the file's snapshot length.
func (r *FileReader) Snaplen() int { return r.snaplen }

// ReadPacket returns the next frame, valid until the next call, and io.EOF
// at the end of the file.
func (r *FileReader) ReadPacket() ([]byte, gopacket.CaptureInfo, error) {
	data, ci, err := r.src.ZeroCopyReadPacketData()
	if errors.Is(err, io.ErrUnexpectedEOF) {
		// tcpdump says the same of a file cut short mid-frame.
		return nil, ci, fmt.Errorf("capture: truncated dump file: %w", err)
	}
	return data, ci, err
}

// Close closes the file.
func (r *FileReader) Close() error { return r.f.Close() }
