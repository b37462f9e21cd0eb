package capture

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"syscall"

	"github.com/google/gopacket"

	"github.com/pingcraft/pingcraft/craft"
)

// ErrSameFile is returned by CreateFile for a path that names the file
// FileOptions.Keep describes: writing it would destroy what is read.
var ErrSameFile = errors.New("the file being read")

// FileWriter writes frames to a pcap or pcapng file that tcpdump, tshark and
// Wireshark read. Frames are buffered and reach the file on Flush and Close,
// or each as it comes when the file is packet-buffered. The file always
// ends on a whole record: when a write fails (a full disk), the part of a
// record that went out is cut off again.
type FileWriter struct {
	w              io.Writer
	f              *os.File // nil for a stream that is not ours (standard output)
	created        bool     // f did not exist before CreateFile
	name           string
	ng             bool
	nano           bool
	packetBuffered bool

	buf     []byte
	pending []pendingRec // what buf holds, in order
	whole   int64        // bytes of whole records in the file, header included
	frames  int          // frames in the file
	err     error        // the first write error; the file takes no more
}

type pendingRec struct {
	size  int
	frame bool
}

// FileOptions describe the file CreateFile writes.
type FileOptions struct {
	// Link is how the frames start: a LINKTYPE_ value, all of it.
	Link craft.LinkType
	// LinkExt goes in the upper 6 bits of a pcap file's link type field,
	// as libpcap keeps it from the file it reads (FileReader.LinkExt).
	LinkExt uint32
	// Snaplen is the snapshot length the file declares; 0 means
	// DefaultSnaplen.
	Snaplen int
	// PcapNG writes pcapng (nanosecond stamps) instead of pcap with
	// microsecond stamps.
	PcapNG bool
	// PacketBuffered writes each frame to the file as it comes, as
	// tcpdump -U does, instead of when the buffer fills.
	PacketBuffered bool
	// Nano writes pcap with nanosecond stamps (tcpdump --nano); pcapng
	// always has them.
	Nano bool
	// Interface and Application name the capture's interface and the
	// program that wrote it, in pcapng's if_name and shb_userappl
	// options; "" leaves an option out. pcap has no place for them.
	Interface, Application string
	// Keep, if not nil, is a file that must not be written: the one being
	// read. A path naming it however spelled (another relative path, a
	// symbolic or a hard link: the same device and inode) is refused with
	// ErrSameFile, and the file is left as it is.
	Keep os.FileInfo
}

// fileBuffer is how much CreateFile's writer holds before it writes.
const fileBuffer = 64 << 10

// CreateFile creates (or truncates) path and writes the file header; "-"
// writes to standard output.
func CreateFile(path string, o FileOptions) (*FileWriter, error) {
	if err := o.check(path); err != nil {
		return nil, err
	}
	if path == "-" {
		return NewFileWriter(os.Stdout, "standard output", o)
	}
	f, created, err := createNew(path, o.Keep)
	if err != nil {
		return nil, err
	}
	w := newFileWriter(f, path, o)
	w.f, w.created = f, created
	if err := w.start(o); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

// createNew opens path for writing without truncating it until it is known
// not to be o.Keep.
func createNew(path string, keep os.FileInfo) (*os.File, bool, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err == nil {
		return f, true, nil
	}
	if !errors.Is(err, os.ErrExist) {
		return nil, false, fmt.Errorf("capture: %w", err)
	}
	if f, err = os.OpenFile(path, os.O_WRONLY, 0); err != nil {
		return nil, false, fmt.Errorf("capture: %w", err)
	}
	st, err := f.Stat()
	if err == nil && keep != nil && os.SameFile(st, keep) {
		f.Close()
		return nil, false, fmt.Errorf("capture: write %s: %w", path, ErrSameFile)
	}
	if err == nil && st.Mode().IsRegular() {
		err = f.Truncate(0)
	}
	if err != nil {
		f.Close()
		return nil, false, fmt.Errorf("capture: write %s: %w", path, err)
	}
	return f, false, nil
}

// NewFileWriter writes the file to w, named name in errors, and writes the
// header. Its Close does not close w.
func NewFileWriter(w io.Writer, name string, o FileOptions) (*FileWriter, error) {
	if err := o.check(name); err != nil {
		return nil, err
	}
	fw := newFileWriter(w, name, o)
	if err := fw.start(o); err != nil {
		return nil, err
	}
	return fw, nil
}

func (o *FileOptions) check(name string) error {
	o.Snaplen = cmp.Or(o.Snaplen, DefaultSnaplen)
	switch {
	case o.Snaplen < 0 || o.Snaplen > math.MaxInt32:
		return fmt.Errorf("capture: write %s: snaplen %d out of range: use 1 to %d", name, o.Snaplen, math.MaxInt32)
	case o.PcapNG && o.Link > math.MaxUint16:
		return fmt.Errorf("capture: write %s: link type %d does not fit pcapng's 16 bits: write pcap", name, o.Link)
	case o.Link > 0x03ffffff || o.LinkExt&0x03ffffff != 0:
		return fmt.Errorf("capture: write %s: link type %d (extension %#x) does not fit pcap's 26 bits", name, o.Link, o.LinkExt)
	}
	return nil
}

func newFileWriter(w io.Writer, name string, o FileOptions) *FileWriter {
	return &FileWriter{w: w, name: name, ng: o.PcapNG, nano: o.Nano, packetBuffered: o.PacketBuffered, buf: make([]byte, 0, fileBuffer)}
}

// start writes the header, straight to the file: a file without a whole
// one is removed, as nothing of it is usable.
func (w *FileWriter) start(o FileOptions) error {
	le := binary.LittleEndian
	if w.ng {
		// Section header: byte-order magic, version 1.0, length unknown.
		shb := le.AppendUint32(nil, ngByteOrderMagic)
		shb = le.AppendUint16(shb, 1)
		shb = le.AppendUint16(shb, 0)
		shb = le.AppendUint64(shb, math.MaxUint64)
		shb = appendNgOption(shb, 4, []byte(o.Application)) // shb_userappl
		w.appendBlock(ngBlockSHB, appendNgOption(shb, 0, nil))
		// Interface: link type, snaplen, if_name, if_tsresol 9
		// (nanoseconds).
		idb := le.AppendUint16(nil, uint16(o.Link))
		idb = le.AppendUint16(idb, 0)
		idb = le.AppendUint32(idb, uint32(o.Snaplen))
		idb = appendNgOption(idb, 2, []byte(o.Interface)) // if_name
		idb = appendNgOption(idb, 9, []byte{9})           // if_tsresol
		w.appendBlock(ngBlockIDB, appendNgOption(idb, 0, nil))
	} else {
		magic := uint32(pcapMagic)
		if o.Nano {
			magic = pcapMagicNano
		}
		h := le.AppendUint32(nil, magic)
		h = le.AppendUint16(h, 2)
		h = le.AppendUint16(h, 4)
		h = le.AppendUint32(h, 0) // thiszone
		h = le.AppendUint32(h, 0) // sigfigs
		h = le.AppendUint32(h, uint32(o.Snaplen))
		h = le.AppendUint32(h, uint32(o.Link)|o.LinkExt)
		w.buf = append(w.buf, h...)
	}
	w.pending = append(w.pending, pendingRec{size: len(w.buf)})
	if err := w.Flush(); err != nil {
		if w.f != nil {
			w.f.Close()
		}
		return err
	}
	return nil
}

// appendNgOption appends a pcapng option, padded to 32 bits; an empty value
// is left out but for opt_endofopt (code 0), which is all there is of it.
func appendNgOption(b []byte, code uint16, value []byte) []byte {
	if len(value) == 0 && code != 0 {
		return b
	}
	b = binary.LittleEndian.AppendUint16(b, code)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(value)))
	b = append(b, value...)
	return append(b, make([]byte, (4-len(value)%4)%4)...)
}

// appendBlock appends a pcapng block of type typ around body.
func (w *FileWriter) appendBlock(typ uint32, body []byte) {
	le := binary.LittleEndian
	pad := (4 - len(body)%4) % 4
	total := uint32(12 + len(body) + pad)
	w.buf = le.AppendUint32(w.buf, typ)
	w.buf = le.AppendUint32(w.buf, total)
	w.buf = append(w.buf, body...)
	w.buf = append(w.buf, make([]byte, pad)...)
	w.buf = le.AppendUint32(w.buf, total)
}

// WritePacket appends one frame.
func (w *FileWriter) WritePacket(ci gopacket.CaptureInfo, data []byte) error {
	if w.err != nil {
		return w.err
	}
	if len(data) > math.MaxInt32 || ci.Length > math.MaxUint32 {
		return fmt.Errorf("capture: write %s: a frame of %d bytes: too long for a capture file", w.name, len(data))
	}
	length := uint32(max(ci.Length, len(data)))
	start := len(w.buf)
	le := binary.LittleEndian
	if w.ng {
		ns := uint64(ci.Timestamp.UnixNano())
		body := make([]byte, 0, 20+len(data))
		body = le.AppendUint32(body, 0) // the file's one interface
		body = le.AppendUint32(body, uint32(ns>>32))
		body = le.AppendUint32(body, uint32(ns))
		body = le.AppendUint32(body, uint32(len(data)))
		body = le.AppendUint32(body, length)
		w.appendBlock(ngBlockEPB, append(body, data...))
	} else {
		w.buf = le.AppendUint32(w.buf, uint32(ci.Timestamp.Unix()))
		frac := ci.Timestamp.Nanosecond()
		if !w.nano {
			frac /= 1000
		}
		w.buf = le.AppendUint32(w.buf, uint32(frac))
		w.buf = le.AppendUint32(w.buf, uint32(len(data)))
		w.buf = le.AppendUint32(w.buf, length)
		w.buf = append(w.buf, data...)
	}
	w.pending = append(w.pending, pendingRec{size: len(w.buf) - start, frame: true})
	if w.packetBuffered || len(w.buf) >= fileBuffer {
		return w.Flush()
	}
	return nil
}

// Frames is how many frames the file holds so far, whole: those written
// out, not those still buffered.
func (w *FileWriter) Frames() int { return w.frames }

// Flush writes the buffered frames to the file.
func (w *FileWriter) Flush() error {
	if w.err != nil {
		return w.err
	}
	if len(w.buf) == 0 {
		return nil
	}
	n, err := w.w.Write(w.buf)
	if err == nil && n < len(w.buf) {
		err = io.ErrShortWrite
	}
	// Count the whole records that went out.
	done := 0
	for len(w.pending) > 0 && done+w.pending[0].size <= n {
		done += w.pending[0].size
		w.whole += int64(w.pending[0].size)
		if w.pending[0].frame {
			w.frames++
		}
		w.pending = w.pending[1:]
	}
	if err == nil {
		w.buf, w.pending = w.buf[:0], w.pending[:0]
		return nil
	}
	w.err = w.cut(err)
	return w.err
}

// cut leaves the file ending on its last whole record after a failed
// write, or removes it if even the header did not fit, and says what the
// file holds.
func (w *FileWriter) cut(err error) error {
	holds := fmt.Sprintf("%s holds %d frames", w.name, w.frames)
	if w.f != nil {
		if st, serr := w.f.Stat(); serr == nil && st.Mode().IsRegular() {
			if w.whole == 0 {
				w.f.Close()
				w.f = nil
				os.Remove(w.name)
				holds = w.name + " removed: not even its header fit"
			} else if terr := w.f.Truncate(w.whole); terr != nil {
				holds = fmt.Sprintf("%s may end in a partial record (%v); its first %d frames are whole", w.name, terr, w.frames)
			}
		}
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err // the path is said once
	}
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("capture: write %s: %w: %s: free space, or write elsewhere", w.name, err, holds)
	}
	return fmt.Errorf("capture: write %s: %w: %s", w.name, err, holds)
}

// Close flushes and closes the file; the file is whole afterwards. A
// stream given to NewFileWriter is not closed.
func (w *FileWriter) Close() error {
	err := w.Flush()
	if w.f != nil {
		if cerr := w.f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("capture: write %s: %w", w.name, cerr)
		}
		w.f = nil
	}
	return err
}
