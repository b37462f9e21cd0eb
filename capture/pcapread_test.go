package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/gopacket"

	"github.com/pingcraft/pingcraft/craft"
)

// pcapFile builds a pcap file: a header of snaplen and link, then records
// of caplen bytes each (a counting pattern) claiming length bytes.
type pcapFile struct {
	order interface {
		binary.ByteOrder
		binary.AppendByteOrder
	}
	magic   uint32
	major   uint16
	minor   uint16
	snaplen uint32
	link    uint32
	b       []byte
}

func newPcap(snaplen, link uint32) *pcapFile {
	p := &pcapFile{order: binary.LittleEndian, magic: pcapMagic, major: 2, minor: 4, snaplen: snaplen, link: link}
	return p.header()
}

func (p *pcapFile) header() *pcapFile {
	o := p.order
	p.b = o.AppendUint32(nil, p.magic)
	p.b = o.AppendUint16(p.b, p.major)
	p.b = o.AppendUint16(p.b, p.minor)
	p.b = append(p.b, make([]byte, 8)...)
	p.b = o.AppendUint32(p.b, p.snaplen)
	p.b = o.AppendUint32(p.b, p.link)
	return p
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func (p *pcapFile) rec(sec, usec, caplen, length uint32) *pcapFile {
	o := p.order
	p.b = o.AppendUint32(p.b, sec)
	p.b = o.AppendUint32(p.b, usec)
	p.b = o.AppendUint32(p.b, caplen)
	p.b = o.AppendUint32(p.b, length)
	p.b = append(p.b, pattern(int(caplen))...)
	return p
}

func (p *pcapFile) cut(n int) *pcapFile { p.b = p.b[:len(p.b)-n]; return p }

// ngFile builds a pcapng file block by block.
type ngFile struct{ b []byte }

func (f *ngFile) block(typ uint32, body []byte) *ngFile {
	body = append(body, make([]byte, (4-len(body)%4)%4)...)
	le := binary.LittleEndian
	f.b = le.AppendUint32(f.b, typ)
	f.b = le.AppendUint32(f.b, uint32(12+len(body)))
	f.b = append(f.b, body...)
	f.b = le.AppendUint32(f.b, uint32(12+len(body)))
	return f
}

func newNg(link uint16, snaplen uint32, opts ...byte) *ngFile {
	le := binary.LittleEndian
	f := &ngFile{}
	shb := le.AppendUint32(nil, ngByteOrderMagic)
	shb = le.AppendUint16(shb, 1)
	shb = le.AppendUint16(shb, 0)
	shb = le.AppendUint64(shb, ^uint64(0))
	f.block(ngBlockSHB, shb)
	idb := le.AppendUint16(nil, link)
	idb = le.AppendUint16(idb, 0)
	idb = le.AppendUint32(idb, snaplen)
	return f.block(ngBlockIDB, append(idb, opts...))
}

func (f *ngFile) epb(ifid uint32, ts uint64, caplen, length uint32) *ngFile {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, ifid)
	b = le.AppendUint32(b, uint32(ts>>32))
	b = le.AppendUint32(b, uint32(ts))
	b = le.AppendUint32(b, caplen)
	b = le.AppendUint32(b, length)
	return f.block(ngBlockEPB, append(b, pattern(int(caplen))...))
}

func (f *ngFile) raw(b ...byte) *ngFile { f.b = append(f.b, b...); return f }

func (f *ngFile) cut(n int) *ngFile { f.b = f.b[:len(f.b)-n]; return f }

func u32(v ...uint32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, x)
	}
	return b
}

type readResult struct {
	Link    craft.LinkType
	Snaplen int
	Frames  []string // "caplen/length@unix.nanos"
	Err     string
}

func readBytes(t *testing.T, b []byte) readResult {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := OpenFile(path)
	var res readResult
	var fe *FormatError
	if err != nil {
		if !errors.As(err, &fe) || !fe.Opening {
			t.Fatalf("OpenFile: %v, want a *FormatError while opening", err)
		}
		res.Err = "open: " + fe.Msg
		return res
	}
	defer r.Close()
	res.Link, res.Snaplen = r.Link(), r.Snaplen()
	for {
		data, ci, err := r.ReadPacket()
		if errors.Is(err, io.EOF) {
			return res
		}
		if err != nil {
			if !errors.As(err, &fe) || fe.Opening {
				t.Fatalf("ReadPacket: %v, want a *FormatError after opening", err)
			}
			res.Err = fe.Msg
			return res
		}
		if !bytes.Equal(data, pattern(len(data))) || len(data) != ci.CaptureLength {
			t.Errorf("frame %d: %d bytes, capture length %d, not the record's first bytes", len(res.Frames)+1, len(data), ci.CaptureLength)
		}
		res.Frames = append(res.Frames, frameText(ci))
	}
}

func frameText(ci gopacket.CaptureInfo) string {
	return fmt.Sprintf("%d/%d@%d.%d", ci.CaptureLength, ci.Length, ci.Timestamp.Unix(), ci.Timestamp.Nanosecond())
}

// TestFileReaderAsLibpcap: files libpcap reads to the end, cut, or stops
// in, read the same way, with libpcap's words (sf-pcap.c, sf-pcapng.c;
// checked against tcpdump -r by cmd/pingcraft's TestWatchFileCorpus).
func TestFileReaderAsLibpcap(t *testing.T) {
	be := &pcapFile{order: binary.BigEndian, magic: pcapMagic, major: 2, minor: 4, snaplen: 65535, link: 1}
	old := &pcapFile{order: binary.LittleEndian, magic: pcapMagic, major: 2, minor: 2, snaplen: 65535, link: 1}
	nano := &pcapFile{order: binary.LittleEndian, magic: pcapMagicNano, major: 2, minor: 4, snaplen: 65535, link: 1}
	tests := []struct {
		name string
		b    []byte
		want readResult
	}{
		{"caplen beyond snaplen is cut, and the file goes on", newPcap(64, 1).rec(1, 2, 100, 100).rec(1, 3, 100, 100).b,
			readResult{Link: 1, Snaplen: 64, Frames: []string{"64/100@1.2000", "64/100@1.3000"}}},
		{"snaplen 0 means 262144", newPcap(0, 1).rec(1, 0, 100, 100).b,
			readResult{Link: 1, Snaplen: 262144, Frames: []string{"100/100@1.0"}}},
		{"snaplen beyond INT_MAX means 262144", newPcap(0x80000000, 1).rec(1, 0, 10, 10).b,
			readResult{Link: 1, Snaplen: 262144, Frames: []string{"10/10@1.0"}}},
		{"snaplen 300000 is kept", newPcap(300000, 1).rec(1, 0, 10, 10).b,
			readResult{Link: 1, Snaplen: 300000, Frames: []string{"10/10@1.0"}}},
		{"caplen beyond the maximum", newPcap(400000, 1).rec(1, 0, 10, 10).rec(1, 1, 300000, 300000).b,
			readResult{Link: 1, Snaplen: 400000, Frames: []string{"10/10@1.0"}, Err: "invalid packet capture length 300000, bigger than maximum of 262144"}},
		{"caplen beyond the maximum and snaplen", newPcap(65535, 1).rec(1, 0, 300000, 300000).b,
			readResult{Link: 1, Snaplen: 65535, Err: "invalid packet capture length 300000, bigger than snaplen of 65535"}},
		{"DBUS frames may be big", newPcap(0, 231).rec(1, 0, 300000, 300000).b,
			readResult{Link: 231, Snaplen: 128 << 20, Frames: []string{"300000/300000@1.0"}}},
		{"record header cut short", newPcap(65535, 1).rec(1, 0, 98, 98).rec(1, 1, 98, 98).cut(98 + 13).b,
			readResult{Link: 1, Snaplen: 65535, Frames: []string{"98/98@1.0"}, Err: "truncated dump file; tried to read 16 header bytes, only got 3"}},
		{"record data cut short", newPcap(65535, 1).rec(1, 0, 98, 98).cut(58).b,
			readResult{Link: 1, Snaplen: 65535, Err: "truncated dump file; tried to read 98 captured bytes, only got 40"}},
		{"cut short beyond the snaplen", newPcap(64, 1).rec(1, 0, 100, 100).cut(20).b,
			readResult{Link: 1, Snaplen: 64, Err: "truncated dump file; tried to read 100 captured bytes, only got 80"}},
		{"cut short within the snaplen", newPcap(64, 1).rec(1, 0, 100, 100).cut(70).b,
			readResult{Link: 1, Snaplen: 64, Err: "truncated dump file; tried to read 64 captured bytes, only got 30"}},
		{"file header cut short", newPcap(65535, 1).cut(14).b, readResult{Err: "open: truncated dump file; tried to read 24 file header bytes, only got 6"}},
		{"magic cut short", []byte{0xd4, 0xc3}, readResult{Err: "open: truncated dump file; tried to read 4 file header bytes, only got 2"}},
		{"not a capture", []byte("hello world, no capture"), readResult{Err: "open: unknown file format"}},
		{"archaic", (&pcapFile{order: binary.LittleEndian, magic: pcapMagic, major: 1}).header().b, readResult{Err: "open: archaic pcap savefile format"}},
		{"version 2.5", (&pcapFile{order: binary.LittleEndian, magic: pcapMagic, major: 2, minor: 5}).header().b, readResult{Err: "open: unsupported pcap savefile version 2.5"}},
		{"link type 257 kept", newPcap(65535, 257).rec(1, 0, 10, 10).b, readResult{Link: 257, Snaplen: 65535, Frames: []string{"10/10@1.0"}}},
		{"link type 65537 kept, FCS bits apart", newPcap(65535, 0x04000000|65537).b, readResult{Link: 65537, Snaplen: 65535}},
		{"big-endian", be.header().rec(1, 5, 10, 10).b, readResult{Link: 1, Snaplen: 65535, Frames: []string{"10/10@1.5000"}}},
		{"version 2.2 swaps caplen and len", old.header().rec(1, 0, 200, 10).cut(190).b, readResult{Link: 1, Snaplen: 65535, Frames: []string{"10/200@1.0"}}},
		{"nanosecond stamps", nano.header().rec(1, 123456789, 10, 10).b, readResult{Link: 1, Snaplen: 65535, Frames: []string{"10/10@1.123456789"}}},

		{"pcapng", newNg(1, 65535).epb(0, 1_000_001, 98, 98).epb(0, 2_000_000, 10, 60).b,
			readResult{Link: 1, Snaplen: 65535, Frames: []string{"98/98@1.1000", "10/60@2.0"}}},
		{"pcapng nanosecond resolution", newNg(1, 65535, 9, 0, 1, 0, 9, 0, 0, 0).epb(0, 1_000_000_007, 10, 10).b,
			readResult{Link: 1, Snaplen: 65535, Frames: []string{"10/10@1.7"}}},
		{"pcapng binary resolution and offset", newNg(1, 65535, 9, 0, 1, 0, 0x82, 0, 0, 0, 14, 0, 8, 0, 10, 0, 0, 0, 0, 0, 0, 0).epb(0, 6, 10, 10).b,
			readResult{Link: 1, Snaplen: 65535, Frames: []string{"10/10@11.500000000"}}},
		{"pcapng snaplen 0", newNg(1, 0).epb(0, 0, 98, 98).b, readResult{Link: 1, Snaplen: 262144, Frames: []string{"98/98@0.0"}}},
		{"pcapng caplen beyond snaplen is an error", newNg(1, 64).epb(0, 0, 98, 98).b,
			readResult{Link: 1, Snaplen: 64, Err: "invalid packet capture length 98, bigger than snaplen of 64"}},
		{"pcapng block too small", newNg(1, 65535).epb(0, 0, 10, 10).raw(u32(6, 8, 8)...).epb(0, 1, 10, 10).b,
			readResult{Link: 1, Snaplen: 65535, Frames: []string{"10/10@0.0"}, Err: "block in pcapng dump file has a length of 8 < 12"}},
		{"pcapng block length not a multiple of 4", newNg(1, 65535).raw(u32(6, 13, 0, 0, 0)...).b,
			readResult{Link: 1, Snaplen: 65535, Err: "block in pcapng dump file has a length of 13 that is not a multiple of 4"}},
		{"pcapng EPB too short for its header", newNg(1, 65535).block(ngBlockEPB, make([]byte, 8)).b,
			readResult{Link: 1, Snaplen: 65535, Err: "block of type 6 in pcapng dump file is too short"}},
		{"pcapng EPB too short for its data", newNg(1, 65535).block(ngBlockEPB, append(u32(0, 0, 0, 98, 98), make([]byte, 10)...)).b,
			readResult{Link: 1, Snaplen: 65535, Err: "block of type 6 in pcapng dump file is too short"}},
		{"pcapng trailer differs", newNg(1, 65535).raw(u32(0x99, 16, 0, 20)...).b,
			readResult{Link: 1, Snaplen: 65535, Err: "block total length in header 16 and trailer 20 don't match"}},
		{"pcapng block cut short", newNg(1, 65535).epb(0, 0, 98, 98).cut(20).b,
			readResult{Link: 1, Snaplen: 65535, Err: "truncated pcapng dump file; tried to read 124 bytes, only got 104"}},
		{"pcapng block header cut short", newNg(1, 65535).raw(6, 0, 0, 0, 32).b,
			readResult{Link: 1, Snaplen: 65535, Err: "truncated pcapng dump file; tried to read 8 bytes, only got 5"}},
		{"pcapng block beyond the maximum", newNg(1, 65535).raw(u32(6, 32<<20)...).b,
			readResult{Link: 1, Snaplen: 65535, Err: "pcapng block size 33554432 > maximum 16777216"}},
		{"pcapng unknown interface", newNg(1, 65535).epb(1, 0, 10, 10).b,
			readResult{Link: 1, Snaplen: 65535, Err: "a packet arrived on interface 1, but there's no Interface Description Block for that interface"}},
		{"pcapng second interface of another type", newNg(1, 65535).block(ngBlockIDB, append(u32(101), u32(65535)...)).b,
			readResult{Link: 1, Snaplen: 65535, Err: "an interface has a type 101 different from the type of the first interface"}},
		{"pcapng link type 369 kept", newNg(369, 65535).b, readResult{Link: 369, Snaplen: 65535}},
		{"pcapng without interfaces", (&ngFile{}).block(ngBlockSHB, append(u32(ngByteOrderMagic, 1), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)).b,
			readResult{Err: "open: the capture file has no Interface Description Blocks"}},
		{"pcapng packet before its interface", (&ngFile{}).block(ngBlockSHB, append(u32(ngByteOrderMagic, 1), make([]byte, 8)...)).epb(0, 0, 10, 10).b,
			readResult{Err: "open: the capture file has a packet block before any Interface Description Blocks"}},
		{"pcapng section header too short", u32(ngBlockSHB, 16, ngByteOrderMagic, 0), readResult{Err: "open: Section Header Block in pcapng dump file has invalid length 28 < _16_ < 1048576 (BT_SHB_INSANE_MAX)"}},
		{"pcapng version 2.0", (&ngFile{}).block(ngBlockSHB, append(u32(ngByteOrderMagic, 2), make([]byte, 8)...)).b,
			readResult{Err: "open: unsupported pcapng savefile version 2.0"}},
		{"pcapng magic alone", u32(ngBlockSHB, 28), readResult{Err: "open: unknown file format"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, readBytes(t, tt.b)); diff != "" {
				t.Errorf("read (-want +got):\n%s", diff)
			}
		})
	}
}

// failAfter is a file that takes n bytes, then fails as a full disk does.
type failAfter struct {
	f *os.File
	n int
}

func (w *failAfter) Write(b []byte) (int, error) {
	if len(b) <= w.n {
		w.n -= len(b)
		return w.f.Write(b)
	}
	n, _ := w.f.Write(b[:w.n])
	w.n = 0
	return n, &os.PathError{Op: "write", Path: w.f.Name(), Err: syscall.ENOSPC}
}

// TestFileWriterFull: a disk that fills mid-record leaves a file of whole
// records that reads to its end, and the error counts them; one that
// cannot take the header leaves no file.
func TestFileWriterFull(t *testing.T) {
	for _, ng := range []bool{false, true} {
		for _, room := range []int{10, 200, 1000, 5000} {
			name := map[bool]string{false: "pcap", true: "pcapng"}[ng] + " room " + strconv.Itoa(room)
			t.Run(name, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "out")
				w, err := CreateFile(path, FileOptions{Link: craft.LinkTypeEthernet, PcapNG: ng})
				if err != nil {
					t.Fatal(err)
				}
				// The header is out; from here the disk has room bytes.
				w.w = &failAfter{f: w.f, n: room}
				ci := gopacket.CaptureInfo{Timestamp: time.Unix(1, 0), CaptureLength: 98, Length: 98}
				var werr error
				for i := 0; i < 100 && werr == nil; i++ {
					werr = w.WritePacket(ci, pattern(98))
				}
				if werr == nil {
					werr = w.Flush()
				}
				cerr := w.Close()
				if !errors.Is(werr, syscall.ENOSPC) || !errors.Is(cerr, syscall.ENOSPC) {
					t.Fatalf("write: %v, close: %v, want ENOSPC both", werr, cerr)
				}
				_, frames := readAll(t, path)
				if want := fmt.Sprintf("holds %d frames", len(frames)); !strings.Contains(werr.Error(), want) {
					t.Errorf("error %q does not say %q", werr, want)
				}
				if w.Frames() != len(frames) {
					t.Errorf("Frames() = %d, the file holds %d", w.Frames(), len(frames))
				}
			})
		}
	}
	t.Run("no room for the header", func(t *testing.T) {
		if _, err := os.Stat("/dev/full"); err != nil {
			t.Skip("no /dev/full")
		}
		_, err := CreateFile("/dev/full", FileOptions{Link: craft.LinkTypeEthernet})
		if !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("CreateFile(/dev/full): %v, want ENOSPC", err)
		}
		if _, err := os.Stat("/dev/full"); err != nil {
			t.Errorf("/dev/full is gone: %v", err)
		}
	})
}

// TestCreateFileKeep: the file being read is refused under every name, and
// is left as it was.
func TestCreateFileKeep(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pcap")
	if err := os.WriteFile(in, newPcap(65535, 1).rec(1, 0, 10, 10).b, 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("in.pcap", filepath.Join(dir, "sym")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(in, filepath.Join(dir, "hard")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	for _, name := range []string{in, "in.pcap", "./in.pcap", "../" + filepath.Base(dir) + "/in.pcap", "sym", "hard"} {
		if _, err := CreateFile(name, FileOptions{Link: craft.LinkTypeEthernet, Keep: st}); !errors.Is(err, ErrSameFile) {
			t.Errorf("CreateFile(%s): %v, want ErrSameFile", name, err)
		}
	}
	if got := readBytes(t, mustRead(t, in)); len(got.Frames) != 1 {
		t.Errorf("the input after the refusals: %+v", got)
	}
	w, err := CreateFile("other.pcap", FileOptions{Link: craft.LinkTypeEthernet, Keep: st})
	if err != nil {
		t.Fatalf("another file: %v", err)
	}
	w.Close()
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzFileReader: any bytes read without a panic, and no frame is longer
// than the snapshot length or than its claimed length allows to hand on.
func FuzzFileReader(f *testing.F) {
	f.Add(newPcap(64, 1).rec(1, 2, 100, 100).b)
	f.Add(newPcap(0, 276).rec(1, 2, 30, 30).cut(3).b)
	f.Add(newNg(1, 65535, 9, 0, 1, 0, 0x82, 0, 0, 0).epb(0, 6, 10, 10).b)
	f.Add(newNg(1, 0).block(ngBlockSPB, u32(40)).block(ngBlockPB, make([]byte, 20)).b)
	if paths, _ := filepath.Glob("../fixtures/*.pcap"); len(paths) > 0 {
		for _, p := range paths[:min(3, len(paths))] {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewFileReader(bytes.NewReader(b), "fuzz")
		if err != nil {
			return
		}
		for range 1000 {
			data, ci, err := r.ReadPacket()
			if err != nil {
				return
			}
			if len(data) > r.Snaplen() || len(data) != ci.CaptureLength {
				t.Fatalf("%d bytes, capture length %d, snaplen %d", len(data), ci.CaptureLength, r.Snaplen())
			}
		}
	})
}

// TestFileReaderRecord: every frame carries its record header as libpcap
// hands it on, fields tcpdump prints as they are (a sub-second field out of
// range, negative seconds) included.
func TestFileReaderRecord(t *testing.T) {
	nano := &pcapFile{order: binary.LittleEndian, magic: pcapMagicNano, major: 2, minor: 4, snaplen: 64, link: 1}
	tests := []struct {
		name string
		b    []byte
		want Record
	}{
		{"pcap, cut to the snaplen", newPcap(64, 1).rec(0xfffffffb, 1234567, 100, 1500).b, Record{Sec: 0xfffffffb, Frac: 1234567, CapLen: 64, Len: 1500}},
		{"pcap, nanoseconds", nano.header().rec(7, 999999999, 10, 10).b, Record{Sec: 7, Frac: 999999999, Nano: true, CapLen: 10, Len: 10}},
		{"pcapng, in microseconds", newNg(1, 65535, 9, 0, 1, 0, 9, 0, 0, 0).epb(0, 3_000_004_999, 10, 60).b, Record{Sec: 3, Frac: 4, CapLen: 10, Len: 60}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewFileReader(bytes.NewReader(tt.b), "test")
			if err != nil {
				t.Fatal(err)
			}
			_, ci, err := r.ReadPacket()
			if err != nil {
				t.Fatal(err)
			}
			if len(ci.AncillaryData) != 1 {
				t.Fatalf("AncillaryData %v, want one Record", ci.AncillaryData)
			}
			got, ok := ci.AncillaryData[0].(*Record)
			if !ok {
				t.Fatalf("AncillaryData[0] is %T, want *Record", ci.AncillaryData[0])
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
		})
	}
}
