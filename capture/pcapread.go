package capture

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/pingcraft/pingcraft/craft"
)

// FormatError is a capture file that cannot be read (further), in libpcap's
// words: Msg is what pcap_open_offline or pcap_next_ex would say of it, so
// that tcpdump's messages can be given word for word.
type FormatError struct {
	// Path is the file as it was named ("-" for standard input).
	Path string
	// Opening says that the error came before the first frame, while
	// the file header was read (tcpdump then prints no pcap_loop: prefix).
	Opening bool
	// Msg is libpcap's text.
	Msg string
	// Err is the underlying I/O error, if any.
	Err error
}

func (e *FormatError) Error() string {
	if strings.HasPrefix(e.Msg, e.Path+": ") {
		return "capture: " + e.Msg // libpcap's open errors name the file
	}
	return "capture: read " + e.Path + ": " + e.Msg
}

func (e *FormatError) Unwrap() error { return e.Err }

// libpcap's magic numbers and limits (sf-pcap.c, sf-pcapng.c, pcap-common.c).
const (
	pcapMagic          = 0xa1b2c3d4
	pcapMagicKuznetzov = 0xa1b2cd34
	pcapMagicNano      = 0xa1b23c4d

	ngBlockSHB       = 0x0a0d0d0a
	ngBlockIDB       = 0x00000001
	ngBlockPB        = 0x00000002
	ngBlockSPB       = 0x00000003
	ngBlockEPB       = 0x00000006
	ngByteOrderMagic = 0x1a2b3c4d
	ngSHBInsaneMax   = 1 << 20
	ngInitialMaxBlk  = 16 << 20
)

// maxSnaplenFor is libpcap's max_snaplen_for_dlt: the largest frame it
// accepts of a link type.
func maxSnaplenFor(link craft.LinkType) uint32 {
	switch link {
	case 231: // DBUS
		return 128 << 20
	case 279: // EBHSCR
		return 8 << 20
	case 249: // USBPCAP
		return 1 << 20
	}
	return MaxSnaplen
}

// adjustSnaplen is libpcap's pcap_adjust_snapshot: a snapshot length of 0
// (or one that does not fit an int) means the largest for the link type.
func adjustSnaplen(link craft.LinkType, snaplen uint32) uint32 {
	if snaplen == 0 || snaplen > math.MaxInt32 {
		return maxSnaplenFor(link)
	}
	return snaplen
}

// FileReader reads a pcap or pcapng file as libpcap does: the same frames,
// cut where libpcap cuts them, and the same errors where libpcap stops.
type FileReader struct {
	path   string
	f      *os.File
	closer io.Closer
	r      *bufio.Reader
	stop   func() bool // ends the context watch

	order   binary.ByteOrder
	link    craft.LinkType
	linkExt uint32
	snaplen uint32
	buf     []byte

	// pcap
	hdrSize    int
	nano       bool
	lenSwapped int // 0 no, 1 yes, 2 when caplen > len (version 2.3)

	// pcapng
	rec  [1]any // CaptureInfo.AncillaryData: &rec0
	rec0 Record

	ng       bool
	ifaces   []ngIface
	maxBlock uint32
	bufSize  uint32 // libpcap's buffer size, which decides when maxBlock applies
}

// Record is a frame's record header as libpcap hands it to tcpdump: the
// time stamp's fields as they are (a pcap file's sub-second field may be
// out of range, and tcpdump prints it so) and the lengths. FileReader puts
// one in every frame's CaptureInfo.AncillaryData, valid until the next
// ReadPacket; the tcpdump printer takes the time and lengths from it.
type Record struct {
	Sec, Frac   uint32
	Nano        bool // Frac counts nanoseconds, not microseconds
	CapLen, Len uint32
}

// PcapRecord returns the fields (the tcpdump printer's RecordHeader).
func (r *Record) PcapRecord() (sec, frac uint32, nano bool, caplen, length uint32) {
	return r.Sec, r.Frac, r.Nano, r.CapLen, r.Len
}

type ngIface struct {
	tsresol  uint64
	binary   bool
	tsoffset int64
}

// OpenFile opens a pcap or pcapng file for reading; "-" is standard input.
func OpenFile(path string) (*FileReader, error) { return OpenFileContext(context.Background(), path) }

// OpenFileContext is OpenFile, ended by ctx: a FIFO with no writer yet is
// waited for only until ctx ends, and a read that waits for a writer
// returns ctx's error once it does.
func OpenFileContext(ctx context.Context, path string) (*FileReader, error) {
	f, err := openInput(ctx, path)
	if err != nil {
		return nil, err
	}
	r := &FileReader{path: path, f: f, closer: f, r: bufio.NewReaderSize(f, 64<<10)}
	if path == "-" {
		r.closer = io.NopCloser(nil) // standard input stays open
	}
	r.stop = context.AfterFunc(ctx, func() {
		// Pipes and FIFOs are on the poller, so a read waiting for a
		// writer returns; regular files never wait.
		f.SetReadDeadline(time.Unix(1, 0))
	})
	if err := r.readHeader(); err != nil {
		r.Close()
		if ctx.Err() != nil && errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, ctx.Err()
		}
		return nil, err
	}
	return r, nil
}

// NewFileReader reads a capture file from r, named name in errors. Its
// Close does not close r, and Stat fails.
func NewFileReader(r io.Reader, name string) (*FileReader, error) {
	fr := &FileReader{path: name, r: bufio.NewReaderSize(r, 64<<10)}
	if err := fr.readHeader(); err != nil {
		return nil, err
	}
	return fr, nil
}

// openInput opens path, or standard input for "-". A FIFO blocks open(2)
// until a writer comes; the open runs aside and, if ctx ends first, is
// released by opening the FIFO for writing ourselves.
func openInput(ctx context.Context, path string) (*os.File, error) {
	if path == "-" {
		return stdin(), nil
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		f, err := os.Open(path)
		if err != nil {
			return nil, openError(path, err)
		}
		return f, nil
	}
	type result struct {
		f   *os.File
		err error
	}
	done := make(chan result, 1)
	go func() {
		f, err := os.Open(path)
		done <- result{f, err}
	}()
	select {
	case res := <-done:
		if res.err != nil {
			return nil, openError(path, res.err)
		}
		return res.f, nil
	case <-ctx.Done():
		if w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		if res := <-done; res.f != nil {
			res.f.Close()
		}
		return nil, ctx.Err()
	}
}

// openError words a failed open as libpcap does: "NAME: strerror".
func openError(path string, err error) error {
	var errno syscall.Errno
	msg := err.Error()
	if errors.As(err, &errno) {
		msg = path + ": " + strerror(errno)
	}
	return &FormatError{Path: path, Opening: true, Msg: msg, Err: err}
}

// strerror is errno's text as glibc's strerror gives it: Go's, capitalised.
func strerror(e syscall.Errno) string {
	s := e.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (r *FileReader) fail(opening bool, format string, a ...any) error {
	return &FormatError{Path: r.path, Opening: opening, Msg: fmt.Sprintf(format, a...)}
}

// readFull reads len(b) bytes; n is how many came before EOF. Other errors
// are libpcap's "error reading dump file".
func (r *FileReader) readFull(b []byte, opening bool) (int, error) {
	n, err := io.ReadFull(r.r, b)
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return n, nil
	}
	return n, r.ioError(err, opening)
}

// readGrow reads n bytes into r.buf, growing it a chunk at a time so that a
// record that claims megabytes costs memory only as its bytes come; m is how
// many came before EOF.
func (r *FileReader) readGrow(n int, opening bool) ([]byte, int, error) {
	const chunk = 1 << 20
	b := r.buf[:0]
	for len(b) < n {
		step := min(n-len(b), chunk)
		if cap(b)-len(b) < step {
			b = append(b[:cap(b)], make([]byte, step-(cap(b)-len(b)))...)[:len(b)]
		}
		m, err := r.readFull(b[len(b):len(b)+step], opening)
		b = b[:len(b)+m]
		if err != nil || m < step {
			r.buf = b
			return b, len(b), err
		}
	}
	r.buf = b
	return b, n, nil
}

// ioError is a failed read in libpcap's words.
func (r *FileReader) ioError(err error, opening bool) error {
	msg := "error reading dump file: " + err.Error()
	var errno syscall.Errno
	if errors.As(err, &errno) {
		msg = "error reading dump file: " + strerror(errno)
	}
	return &FormatError{Path: r.path, Opening: opening, Msg: msg, Err: err}
}

func (r *FileReader) readHeader() error {
	var magic [4]byte
	n, err := r.readFull(magic[:], true)
	if err != nil {
		return err
	}
	if n < 4 {
		return r.fail(true, "truncated dump file; tried to read 4 file header bytes, only got %d", n)
	}
	le := binary.LittleEndian.Uint32(magic[:])
	for _, m := range []uint32{pcapMagic, pcapMagicKuznetzov, pcapMagicNano} {
		switch m {
		case le:
			return r.pcapHeader(binary.LittleEndian, m)
		case binary.BigEndian.Uint32(magic[:]):
			return r.pcapHeader(binary.BigEndian, m)
		}
	}
	if le == ngBlockSHB {
		if ok, err := r.ngHeader(); ok || err != nil {
			return err
		}
	}
	return r.fail(true, "unknown file format")
}

// pcapHeader reads the rest of a pcap file header (pcap_check_header).
func (r *FileReader) pcapHeader(order binary.ByteOrder, magic uint32) error {
	var h [20]byte
	n, err := r.readFull(h[:], true)
	if err != nil {
		return err
	}
	if n < len(h) {
		return r.fail(true, "truncated dump file; tried to read 24 file header bytes, only got %d", n)
	}
	major, minor := order.Uint16(h[0:]), order.Uint16(h[2:])
	if major < 2 {
		return r.fail(true, "archaic pcap savefile format")
	}
	if !(major == 2 && minor <= 4 || major == 543 && minor == 0) {
		return r.fail(true, "unsupported pcap savefile version %d.%d", major, minor)
	}
	r.order = order
	lt := order.Uint32(h[16:])
	// The upper 6 bits carry other information (the FCS length).
	r.link, r.linkExt = craft.LinkType(lt&0x03ffffff), lt&0xfc000000
	r.snaplen = adjustSnaplen(r.link, order.Uint32(h[12:]))
	r.nano = magic == pcapMagicNano
	switch {
	case major == 543 || minor < 3:
		r.lenSwapped = 1
	case minor == 3:
		r.lenSwapped = 2
	}
	r.hdrSize = 16
	if magic == pcapMagicKuznetzov {
		r.hdrSize = 24
		if r.link == craft.LinkTypeEthernet {
			// libpcap assumes a cooked capture with a faked
			// Ethernet header added.
			r.snaplen = uint32(min(uint64(r.snaplen)+14, math.MaxInt32))
		}
	}
	return nil
}

// ngHeader reads a pcapng section header and blocks up to the first
// interface description (pcap_ng_check_header). ok false means the file
// is no pcapng file after all.
func (r *FileReader) ngHeader() (ok bool, err error) {
	var h [8]byte
	n, err := r.readFull(h[:], true)
	if err != nil || n < len(h) {
		return false, err // a short text file: not pcapng
	}
	order := binary.ByteOrder(binary.LittleEndian)
	switch uint32(ngByteOrderMagic) {
	case binary.LittleEndian.Uint32(h[4:]):
	case binary.BigEndian.Uint32(h[4:]):
		order = binary.BigEndian
	default:
		return false, nil
	}
	r.order, r.ng = order, true
	total := order.Uint32(h[0:])
	if total < 28 || total > ngSHBInsaneMax {
		return true, r.fail(true, "Section Header Block in pcapng dump file has invalid length %d < _%d_ < %d (BT_SHB_INSANE_MAX)", 28, total, ngSHBInsaneMax)
	}
	r.bufSize = max(2048, total)
	r.maxBlock = ngInitialMaxBlk
	rest := make([]byte, total-12)
	if err := r.ngRead(rest, true); err != nil {
		return true, err
	}
	major, minor := order.Uint16(rest[0:]), order.Uint16(rest[2:])
	if !(major == 1 && (minor == 0 || minor == 2)) {
		return true, r.fail(true, "unsupported pcapng savefile version %d.%d", major, minor)
	}
	for {
		typ, body, err := r.ngBlock(true)
		if err != nil {
			return true, err
		}
		if body == nil {
			return true, r.fail(true, "the capture file has no Interface Description Blocks")
		}
		switch typ {
		case ngBlockIDB:
			idb, err := r.ngTake(&body, 8, typ, true)
			if err != nil {
				return true, err
			}
			r.link = craft.LinkType(order.Uint16(idb[0:]))
			r.snaplen = adjustSnaplen(r.link, order.Uint32(idb[4:]))
			if err := r.ngAddIface(body, true); err != nil {
				return true, err
			}
			// libpcap raises the block limit for link types with big frames.
			r.maxBlock = max(r.maxBlock, 8+20+maxSnaplenFor(r.link)+131072+4)
			return true, nil
		case ngBlockEPB, ngBlockSPB, ngBlockPB:
			return true, r.fail(true, "the capture file has a packet block before any Interface Description Blocks")
		}
	}
}

// ngRead is libpcap's read_bytes with fail_on_eof.
func (r *FileReader) ngRead(b []byte, opening bool) error {
	n, err := r.readFull(b, opening)
	if err != nil {
		return err
	}
	if n < len(b) {
		return r.fail(opening, "truncated pcapng dump file; tried to read %d bytes, only got %d", len(b), n)
	}
	return nil
}

// ngBlock reads the next block (read_block): its type and the body between
// the length fields. A nil body with no error is the end of the file.
func (r *FileReader) ngBlock(opening bool) (uint32, []byte, error) {
	var h [8]byte
	n, err := r.readFull(h[:], opening)
	switch {
	case err != nil:
		return 0, nil, err
	case n == 0:
		return 0, nil, nil
	case n < len(h):
		return 0, nil, r.fail(opening, "truncated pcapng dump file; tried to read 8 bytes, only got %d", n)
	}
	typ, total := r.order.Uint32(h[0:]), r.order.Uint32(h[4:])
	if total < 12 {
		return 0, nil, r.fail(opening, "block in pcapng dump file has a length of %d < 12", total)
	}
	if total%4 != 0 {
		return 0, nil, r.fail(opening, "block in pcapng dump file has a length of %d that is not a multiple of 4", total)
	}
	if r.bufSize < total {
		if total > r.maxBlock {
			return 0, nil, r.fail(opening, "pcapng block size %d > maximum %d", total, r.maxBlock)
		}
		r.bufSize = total
	}
	b, n2, err := r.readGrow(int(total-8), opening)
	if err != nil {
		return 0, nil, err
	}
	if n2 < int(total-8) {
		return 0, nil, r.fail(opening, "truncated pcapng dump file; tried to read %d bytes, only got %d", total-8, n2)
	}
	if trailer := r.order.Uint32(b[len(b)-4:]); trailer != total {
		return 0, nil, r.fail(opening, "block total length in header %d and trailer %d don't match", total, trailer)
	}
	return typ, b[:len(b)-4], nil
}

// ngTake takes n bytes off the front of *body (get_from_block_data).
func (r *FileReader) ngTake(body *[]byte, n uint64, typ uint32, opening bool) ([]byte, error) {
	if uint64(len(*body)) < n {
		return nil, r.fail(opening, "block of type %d in pcapng dump file is too short", typ)
	}
	b := (*body)[:n]
	*body = (*body)[n:]
	return b, nil
}

// ngAddIface adds an interface from the options of its description block
// (add_interface, process_idb_options).
func (r *FileReader) ngAddIface(opts []byte, opening bool) error {
	ifc := ngIface{tsresol: 1e6}
	var sawResol, sawOffset bool
options:
	for len(opts) != 0 {
		oh, err := r.ngTake(&opts, 4, ngBlockIDB, opening)
		if err != nil {
			return err
		}
		code, length := r.order.Uint16(oh[0:]), r.order.Uint16(oh[2:])
		v, err := r.ngTake(&opts, (uint64(length)+3)/4*4, ngBlockIDB, opening)
		if err != nil {
			return err
		}
		switch code {
		case 0: // opt_endofopt
			if length != 0 {
				return r.fail(opening, "Interface Description Block has opt_endofopt option with length %d != 0", length)
			}
			break options
		case 9: // if_tsresol
			if length != 1 {
				return r.fail(opening, "Interface Description Block has if_tsresol option with length %d != 1", length)
			}
			if sawResol {
				return r.fail(opening, "Interface Description Block has more than one if_tsresol option")
			}
			sawResol = true
			if v[0]&0x80 != 0 {
				shift := v[0] & 0x7f
				if shift > 63 {
					return r.fail(opening, "Interface Description Block if_tsresol option resolution 2^-%d is too high", shift)
				}
				ifc.binary, ifc.tsresol = true, 1<<shift
			} else {
				if v[0] > 19 {
					return r.fail(opening, "Interface Description Block if_tsresol option resolution 10^-%d is too high", v[0])
				}
				ifc.binary, ifc.tsresol = false, 1
				for range v[0] {
					ifc.tsresol *= 10
				}
			}
		case 14: // if_tsoffset
			if length != 8 {
				return r.fail(opening, "Interface Description Block has if_tsoffset option with length %d != 8", length)
			}
			if sawOffset {
				return r.fail(opening, "Interface Description Block has more than one if_tsoffset option")
			}
			sawOffset = true
			ifc.tsoffset = int64(r.order.Uint64(v))
		}
	}
	r.ifaces = append(r.ifaces, ifc)
	return nil
}

// Link is the file's link type, all of it: LINKTYPE_ values beyond 255
// (LINUX_SLL2, 276, and others) included.
func (r *FileReader) Link() craft.LinkType { return r.link }

// LinkExt is the upper 6 bits of a pcap file's link type field (the FCS
// length, when set), which a copy of the file keeps; 0 for pcapng.
func (r *FileReader) LinkExt() uint32 { return r.linkExt }

// LinkType is the file's link type as gopacket's 8 bits hold it: LINUX_SLL2
// (276) reads as 20, which craft.LinkTypeOf restores. Use Link for the
// whole value.
func (r *FileReader) LinkType() layers.LinkType { return layers.LinkType(r.link) }

// Snaplen is the file's snapshot length as libpcap adjusts it: 0 in the
// header means the largest for the link type (262144 for most).
func (r *FileReader) Snaplen() int { return int(r.snaplen) }

// Stat describes the file read, for telling whether another name is the
// same file.
func (r *FileReader) Stat() (os.FileInfo, error) {
	if r.f == nil {
		return nil, fmt.Errorf("capture: %s: not a file", r.path)
	}
	return r.f.Stat()
}

// ReadPacket returns the next frame, valid until the next call, and io.EOF
// at the end of the file. A frame a pcap record holds beyond the file's
// snapshot length is cut to it, as libpcap does; anything else libpcap
// refuses is a *FormatError, after which the file reads no further.
func (r *FileReader) ReadPacket() ([]byte, gopacket.CaptureInfo, error) {
	var (
		data []byte
		ci   gopacket.CaptureInfo
		err  error
	)
	if r.ng {
		data, ci, err = r.ngPacket()
	} else {
		data, ci, err = r.pcapPacket()
	}
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		return nil, ci, fmt.Errorf("capture: read %s: %w", r.path, context.Canceled)
	}
	return data, ci, err
}

func (r *FileReader) pcapPacket() ([]byte, gopacket.CaptureInfo, error) {
	var ci gopacket.CaptureInfo
	var h [24]byte
	n, err := r.readFull(h[:r.hdrSize], false)
	switch {
	case err != nil:
		return nil, ci, err
	case n == 0:
		return nil, ci, io.EOF
	case n < r.hdrSize:
		return nil, ci, r.fail(false, "truncated dump file; tried to read %d header bytes, only got %d", r.hdrSize, n)
	}
	sec, frac := int32(r.order.Uint32(h[0:])), int32(r.order.Uint32(h[4:]))
	caplen, length := r.order.Uint32(h[8:]), r.order.Uint32(h[12:])
	if r.lenSwapped == 1 || r.lenSwapped == 2 && caplen > length {
		caplen, length = length, caplen
	}
	if limit := maxSnaplenFor(r.link); caplen > limit {
		if caplen > r.snaplen {
			return nil, ci, r.fail(false, "invalid packet capture length %d, bigger than snaplen of %d", caplen, r.snaplen)
		}
		return nil, ci, r.fail(false, "invalid packet capture length %d, bigger than maximum of %d", caplen, limit)
	}
	keep := min(caplen, r.snaplen)
	data, n, err := r.readGrow(int(keep), false)
	if err != nil {
		return nil, ci, err
	}
	if n < int(keep) {
		return nil, ci, r.fail(false, "truncated dump file; tried to read %d captured bytes, only got %d", keep, n)
	}
	if caplen > keep {
		// Beyond the snapshot length: read and dropped, as libpcap does.
		m, err := r.r.Discard(int(caplen - keep))
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, ci, r.ioError(err, false)
		}
		if m < int(caplen-keep) {
			return nil, ci, r.fail(false, "truncated dump file; tried to read %d captured bytes, only got %d", caplen, int(keep)+m)
		}
	}
	ns := int64(frac) * 1000
	if r.nano {
		ns = int64(frac)
	}
	ci.Timestamp = time.Unix(int64(sec), ns)
	ci.CaptureLength, ci.Length = int(keep), int(length)
	r.rec0 = Record{Sec: uint32(sec), Frac: uint32(frac), Nano: r.nano, CapLen: keep, Len: length}
	r.rec[0] = &r.rec0
	ci.AncillaryData = r.rec[:]
	return data, ci, nil
}

func (r *FileReader) ngPacket() ([]byte, gopacket.CaptureInfo, error) {
	var ci gopacket.CaptureInfo
	o := r.order
	for {
		typ, body, err := r.ngBlock(false)
		if err != nil {
			return nil, ci, err
		}
		if body == nil {
			return nil, ci, io.EOF
		}
		var ifid, caplen, length uint32
		var t uint64
		switch typ {
		case ngBlockEPB:
			b, err := r.ngTake(&body, 20, typ, false)
			if err != nil {
				return nil, ci, err
			}
			ifid, caplen, length = o.Uint32(b[0:]), o.Uint32(b[12:]), o.Uint32(b[16:])
			t = uint64(o.Uint32(b[4:]))<<32 | uint64(o.Uint32(b[8:]))
		case ngBlockSPB:
			b, err := r.ngTake(&body, 4, typ, false)
			if err != nil {
				return nil, ci, err
			}
			// No captured length: the snapshot length's worth at most.
			length = o.Uint32(b[0:])
			caplen = min(length, r.snaplen)
		case ngBlockPB:
			b, err := r.ngTake(&body, 20, typ, false)
			if err != nil {
				return nil, ci, err
			}
			ifid, caplen, length = uint32(o.Uint16(b[0:])), o.Uint32(b[12:]), o.Uint32(b[16:])
			t = uint64(o.Uint32(b[4:]))<<32 | uint64(o.Uint32(b[8:]))
		case ngBlockIDB:
			b, err := r.ngTake(&body, 8, typ, false)
			if err != nil {
				return nil, ci, err
			}
			// libpcap compares the first interface's DLT_ value with
			// this one's LINKTYPE_ value; they differ only for the
			// few link types below 104 renumbered.
			if lt := uint32(o.Uint16(b[0:])); uint32(linktypeToDLT(r.link)) != lt {
				return nil, ci, r.fail(false, "an interface has a type %d different from the type of the first interface", lt)
			}
			if s := o.Uint32(b[4:]); adjustSnaplen(r.link, s) != r.snaplen {
				return nil, ci, r.fail(false, "an interface has a snapshot length %d different from the snapshot length of the first interface", s)
			}
			if err := r.ngAddIface(body, false); err != nil {
				return nil, ci, err
			}
			continue
		case ngBlockSHB:
			b, err := r.ngTake(&body, 16, typ, false)
			if err != nil {
				return nil, ci, err
			}
			switch bom := o.Uint32(b[0:]); {
			case bom == ngByteOrderMagic:
			case bom == 0x4d3c2b1a:
				return nil, ci, r.fail(false, "the file has sections with different byte orders")
			default:
				return nil, ci, r.fail(false, "the file has a section with a bad byte order magic field")
			}
			if major := o.Uint16(b[4:]); major != 1 {
				return nil, ci, r.fail(false, "unknown pcapng savefile major version number %d", major)
			}
			r.ifaces = r.ifaces[:0]
			continue
		default:
			continue
		}
		if int(ifid) >= len(r.ifaces) {
			return nil, ci, r.fail(false, "a packet arrived on interface %d, but there's no Interface Description Block for that interface", ifid)
		}
		if caplen > r.snaplen {
			return nil, ci, r.fail(false, "invalid packet capture length %d, bigger than snaplen of %d", caplen, r.snaplen)
		}
		ifc := r.ifaces[ifid]
		sec := int64(t/ifc.tsresol) + ifc.tsoffset
		frac := t % ifc.tsresol
		// In nanoseconds; libpcap's scaling to its microseconds, then
		// divided by 1000, gives the same as this divided by 1000.
		var ns uint64
		switch {
		case ifc.tsresol == 1e9:
			ns = frac
		case !ifc.binary && ifc.tsresol > 1e9:
			ns = frac / (ifc.tsresol / 1e9)
		case !ifc.binary:
			ns = frac * (1e9 / ifc.tsresol)
		default:
			ns = frac * 1e9 / ifc.tsresol
		}
		data, err := r.ngTake(&body, uint64(caplen), typ, false)
		if err != nil {
			return nil, ci, err
		}
		ci.Timestamp = time.Unix(sec, int64(ns))
		ci.CaptureLength, ci.Length = int(caplen), int(length)
		ci.InterfaceIndex = int(ifid)
		if sec >= math.MinInt32 && sec <= math.MaxInt32 {
			// libpcap's time_t is wider; a record header is for times
			// that fit one.
			r.rec0 = Record{Sec: uint32(sec), Frac: uint32(ns / 1000), CapLen: caplen, Len: length}
			r.rec[0] = &r.rec0
			ci.AncillaryData = r.rec[:]
		}
		return data, ci, nil
	}
}

// linktypeToDLT is libpcap's linktype_to_dlt on Linux: the LINKTYPE_
// values below 104 whose DLT_ differs; all others are the same number.
func linktypeToDLT(l craft.LinkType) int {
	switch l {
	case 100: // ATM_RFC1483
		return 11
	case 101: // RAW
		return 12
	case 102: // SLIP_BSDOS
		return 15
	case 103: // PPP_BSDOS
		return 16
	}
	return int(l)
}

// DLT is the DLT_ value libpcap gives a LINKTYPE_ value on Linux: what
// pcap_datalink_val_to_name and pcap_open_dead take.
func DLT(l craft.LinkType) int { return linktypeToDLT(l) }

// Close closes the file (standard input stays open); it is idempotent.
func (r *FileReader) Close() error {
	if r.stop != nil {
		r.stop()
	}
	c := r.closer
	r.closer = nil
	if c == nil {
		return nil
	}
	return c.Close()
}
