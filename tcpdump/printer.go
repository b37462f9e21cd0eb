package tcpdump

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/pingcraft/pingcraft/craft"
)

// Stamp is how a line's time is printed: tcpdump's -t options.
type Stamp uint8

const (
	_ Stamp = iota
	// StampTime is tcpdump's default: 15:04:05.000000, local time of day.
	StampTime
	// StampNone is -t: no time at all.
	StampNone
	// StampUnix is -tt: seconds since the epoch, 1764000000.123456.
	StampUnix
	// StampDelta is -ttt: time since the previous packet, 00:00:00.000123
	// (the first packet gets 00:00:00.000000).
	StampDelta
	// StampDate is -tttt: 2006-01-02 15:04:05.000000, local time.
	StampDate
	// StampSinceFirst is -ttttt: time since the first packet, laid out as
	// StampDelta.
	StampSinceFirst
)

// PrintOptions are tcpdump's printing flags. A nil *PrintOptions means
// tcpdump -n defaults. Names are never resolved: the printer always behaves
// as tcpdump -n.
type PrintOptions struct {
	// Verbose is how many -v were given (0, 1 or 2).
	Verbose int
	// Ether is -e: the link-level header on each line.
	Ether bool
	// Hex is 1 for -x (the packet from the network header on) and 2 for
	// -xx (from the link header on); 0 prints no hex dump.
	Hex int
	// ASCII adds ASCII beside the hex dump: with Hex, -X or -XX.
	ASCII bool
	// Quiet is -q: less protocol information.
	Quiet bool
	// Stamp is the time format; zero means StampTime.
	Stamp Stamp
	// Location is the time zone of StampTime and StampDate; nil means
	// time.Local.
	Location *time.Location
	// Text is -A (1: the packet from the network header on as ASCII) or
	// -AA (2: from the link header on); a hex dump takes precedence.
	Text int
	// Number is -#: each line starts with the frame's number.
	Number bool
	// Nano is --nano: time stamps in nanoseconds, as libpcap gives them
	// when asked for that precision (a file of microseconds scaled up).
	Nano bool
	// NoChecksums is -K: IP, TCP and UDP checksums are not verified.
	NoChecksums bool
	// AbsoluteSeq is -S: TCP sequence numbers as they are, not relative.
	AbsoluteSeq bool
}

// Printer writes tcpdump's text for each frame it is given: one line, plus
// the continuation lines of -v and the hex dump of -x. It keeps the state
// tcpdump keeps (the previous and first time stamps), so give each capture
// its own Printer; it is not safe for concurrent use.
type Printer struct {
	w    io.Writer
	link craft.LinkType
	o    PrintOptions

	ref timeval // tcpdump's tv_ref: the first or previous time stamp

	d dissector

	// ifName names an interface index for LINUX_SLL2 headers, as
	// tcpdump does with if_indextoname(3) on the host that prints.
	ifName  func(index uint32) (string, bool)
	ifNames map[uint32]string

	tcpConns map[tcpKey]tcpConn // relative TCP sequence numbers

	frames uint32 // printed so far, for -#
}

// NewPrinter returns a Printer of frames of the given link type, writing to
// w: EN10MB, RAW, IPV4, IPV6, LINUX_SLL and LINUX_SLL2 (which pcapgo
// reports as 20; that is accepted). Like tcpdump, it names the interface
// index of a LINUX_SLL2 header after the interface of this host that has
// it, "?" if none does. Other link types are refused: gopacket's 8 bits
// cannot tell them apart (257 reads as 1); NewLinkPrinter takes them all.
func NewPrinter(w io.Writer, link layers.LinkType, o *PrintOptions) (*Printer, error) {
	lt := craft.LinkTypeOf(link)
	if !Decodes(lt) {
		return nil, fmt.Errorf("tcpdump: cannot print link type %s: pingcraft prints EN10MB, RAW, IPV4, IPV6, LINUX_SLL and LINUX_SLL2", lt)
	}
	return NewLinkPrinter(w, lt, o)
}

// NewLinkPrinter returns a Printer of frames of link type link, the whole
// LINKTYPE_ value (LINUX_SLL2 is 276), writing to w. Frames of a link type
// Decodes reports are decoded as NewPrinter's are; any other is printed as
// tcpdump prints a link type it has no printer for: the time stamp,
// "UNSUPPORTED" and the frame in hex and ASCII (and again under -x, which
// then has no link header to leave out).
func NewLinkPrinter(w io.Writer, link craft.LinkType, o *PrintOptions) (*Printer, error) {
	p := &Printer{w: w, link: link}
	if o != nil {
		p.o = *o
	}
	switch {
	case p.o.Stamp == 0:
		p.o.Stamp = StampTime
	case p.o.Stamp > StampSinceFirst:
		return nil, fmt.Errorf("tcpdump: time stamp format %d out of range: use StampTime to StampSinceFirst", p.o.Stamp)
	}
	if p.o.Hex < 0 || p.o.Hex > 2 {
		return nil, fmt.Errorf("tcpdump: hex dump level %d out of range: use 0, 1 (-x) or 2 (-xx)", p.o.Hex)
	}
	if p.o.Location == nil {
		p.o.Location = time.Local
	}
	p.ifName = lookupInterface
	p.d.out = make([]byte, 0, 512)
	p.d.o = &p.o
	p.d.pr = p
	return p, nil
}

// Decodes reports whether the printers decode frames of link: EN10MB,
// RAW, IPV4, IPV6, LINUX_SLL and LINUX_SLL2. NewLinkPrinter dumps the
// frames of any other link type in hex, and JSONWriter writes them as
// undecoded.
func Decodes(link craft.LinkType) bool {
	switch link {
	case craft.LinkTypeEthernet, craft.LinkTypeRaw, linkTypeRawOpenBSD, craft.LinkTypeIPv4, craft.LinkTypeIPv6, craft.LinkTypeLinuxSLL, craft.LinkTypeLinuxSLL2:
		return true
	}
	return false
}

// lookupInterface names an interface of this host by index.
func lookupInterface(index uint32) (string, bool) {
	ifi, err := net.InterfaceByIndex(int(index))
	if err != nil {
		return "", false
	}
	return ifi.Name, true
}

// interfaceName returns what tcpdump prints for an interface index: its
// name on this host or "?". Lookups are cached: they are system calls.
func (p *Printer) interfaceName(index uint32) string {
	if name, ok := p.ifNames[index]; ok {
		return name
	}
	name, ok := p.ifName(index)
	if !ok {
		name = "?"
	}
	if p.ifNames == nil {
		p.ifNames = make(map[uint32]string)
	}
	if len(p.ifNames) < 1024 { // bounded: indexes come from the capture
		p.ifNames[index] = name
	}
	return name
}

// RecordHeader is implemented by what a capture file reader may put in
// CaptureInfo.AncillaryData: the record header as the file holds it. A
// time.Time cannot hold what tcpdump prints for a sub-second field out of
// range (it prints the field as it is, "12:00:00.1234567"), nor can
// CaptureInfo tell a zero length from an unknown one; with a
// RecordHeader, Print takes the time and lengths from it, as tcpdump
// does. Capture files only: live captures have neither corner case.
type RecordHeader interface {
	// PcapRecord returns the seconds and sub-second fields, whether the
	// latter counts nanoseconds, and the captured and original lengths.
	PcapRecord() (sec, frac uint32, nano bool, caplen, length uint32)
}

// Record is a RecordHeader with its fields.
type Record struct {
	Sec, Frac   uint32
	Nano        bool
	CapLen, Len uint32
}

// PcapRecord implements RecordHeader.
func (r Record) PcapRecord() (sec, frac uint32, nano bool, caplen, length uint32) {
	return r.Sec, r.Frac, r.Nano, r.CapLen, r.Len
}

// maxSnaplen is tcpdump's MAXIMUM_SNAPLEN.
const maxSnaplen = 262144

// Print prints one frame: data as captured, ci.Length its length on the
// wire (0 means len(data)), or the header of a RecordHeader among
// ci.AncillaryData. It does not keep data. The only errors are the
// writer's.
func (p *Printer) Print(data []byte, ci gopacket.CaptureInfo) error {
	d := &p.d
	d.out = d.out[:0]
	wire := ci.Length
	if wire < len(data) {
		wire = len(data)
	}
	p.frames++
	if p.o.Number {
		// "%5u  ", before the header checks, as tcpdump.
		for n := p.frames; n < 10000; n = n*10 + 1 {
			d.out = append(d.out, ' ')
		}
		d.out = strconv.AppendUint(d.out, uint64(p.frames), 10)
		d.out = append(d.out, "  "...)
	}
	ts := ci.Timestamp
	tv := timeval{ts.Unix(), int64(ts.Nanosecond())}
	if !p.o.Nano {
		tv.frac /= 1000 // tcpdump reads with microsecond precision
	}
	var rec RecordHeader
	for _, a := range ci.AncillaryData {
		if r, ok := a.(RecordHeader); ok {
			rec = r
		}
	}
	if rec != nil {
		sec, frac, nano, caplen, length := rec.PcapRecord()
		switch {
		case nano && !p.o.Nano:
			frac /= 1000 // libpcap scales to the precision asked, as it reads
		case !nano && p.o.Nano:
			frac *= 1000
		}
		// libpcap reads both fields as signed 32-bit numbers.
		tv = timeval{int64(int32(sec)), int64(int32(frac))}
		if d.invalidHeader(caplen, length) {
			_, err := p.w.Write(d.out)
			return err
		}
		wire = int(length)
	} else if len(data) == 0 {
		// tcpdump checks the record header before it prints the time.
		d.out = append(d.out, "[Invalid header: caplen==0]\n"...)
		_, err := p.w.Write(d.out)
		return err
	}
	d.out = p.appendStamp(d.out, tv)
	hdrlen := d.frame(p.link, data, wire)
	d.out = d.appendHex(d.out, data, hdrlen)
	if p.o.Hex == 0 {
		d.out = appendText(d.out, data, hdrlen, p.o.Text)
	}
	d.out = append(d.out, '\n')
	_, err := p.w.Write(d.out)
	if cap(d.out) > 1<<20 { // do not keep the memory of one huge frame
		d.out = make([]byte, 0, 512)
	}
	return err
}

// invalidHeader is pretty_print_packet's checks of a record header: true,
// and the line printed, if tcpdump prints nothing else for it.
func (d *dissector) invalidHeader(caplen, length uint32) bool {
	bad := false
	say := func(s string) {
		if bad {
			d.c(',')
		} else {
			d.s("[Invalid header:")
		}
		bad = true
		d.s(s)
	}
	if caplen == 0 {
		d.s("[Invalid header: caplen==0")
		bad = true
	}
	switch {
	case length == 0:
		say(" len==0")
	case length < caplen:
		say(" len(" + strconv.FormatUint(uint64(length), 10) + ") < caplen(" + strconv.FormatUint(uint64(caplen), 10) + ")")
	}
	if caplen > maxSnaplen {
		say(" caplen(" + strconv.FormatUint(uint64(caplen), 10) + ") > 262144")
	}
	if length > maxSnaplen {
		say(" len(" + strconv.FormatUint(uint64(length), 10) + ") > 262144")
	}
	if bad {
		d.s("]\n")
	}
	return bad
}

// timeval is a struct timeval as tcpdump handles it: the fraction, in
// microseconds or with Nano nanoseconds, may be out of range, and
// arithmetic on it is tcpdump's.
type timeval struct{ sec, frac int64 }

func (t timeval) isSet() bool { return t.sec != 0 || t.frac != 0 }

func (t timeval) less(u timeval) bool {
	if t.sec != u.sec {
		return t.sec < u.sec
	}
	return t.frac < u.frac
}

// sub is netdissect_timevalsub: t - u, borrowing one second at most.
func (t timeval) sub(u timeval, nano bool) timeval {
	r := timeval{t.sec - u.sec, t.frac - u.frac}
	if r.frac < 0 {
		r.sec--
		r.frac += 1000000
		if nano {
			r.frac += 999000000
		}
	}
	return r
}

// appendStamp is ts_print.
func (p *Printer) appendStamp(b []byte, tv timeval) []byte {
	switch p.o.Stamp {
	case StampNone:
		return b
	case StampUnix:
		if uint32(tv.sec)&0x80000000 != 0 {
			return append(b, "[Error converting time] "...)
		}
		b = strconv.AppendUint(b, uint64(uint32(tv.sec)), 10)
		return append(appendFrac(b, tv.frac, p.o.Nano), ' ')
	case StampDelta, StampSinceFirst:
		if !p.ref.isSet() {
			p.ref = tv
		}
		var delta timeval
		if tv.less(p.ref) {
			b = append(b, '-')
			delta = p.ref.sub(tv, p.o.Nano)
		} else {
			b = append(b, ' ')
			delta = tv.sub(p.ref, p.o.Nano)
		}
		b = appendClock(b, delta, time.UTC, false, p.o.Nano)
		if p.o.Stamp == StampDelta {
			p.ref = tv
		}
		return append(b, ' ')
	case StampDate:
		return append(appendClock(b, tv, p.o.Location, true, p.o.Nano), ' ')
	}
	return append(appendClock(b, tv, p.o.Location, false, p.o.Nano), ' ')
}

// appendClock is ts_date_hmsfrac_print: [date] time of day in loc, and
// the fraction as it is.
func appendClock(b []byte, tv timeval, loc *time.Location, date, nano bool) []byte {
	if uint32(tv.sec)&0x80000000 != 0 {
		return append(b, "[Error converting time]"...)
	}
	t := time.Unix(tv.sec, 0).In(loc)
	if date {
		b = t.AppendFormat(b, "2006-01-02 15:04:05")
	} else {
		b = t.AppendFormat(b, "15:04:05")
	}
	return appendFrac(b, tv.frac, nano)
}

// appendFrac is ts_frac_print: ".%06u", or ".%09u" in nanoseconds.
func appendFrac(b []byte, frac int64, nano bool) []byte {
	if nano {
		return appendPad(append(b, '.'), uint64(uint32(frac)), 10, 9)
	}
	return appendPad(append(b, '.'), uint64(uint32(frac)), 10, 6)
}

// appendText is -A's ascii_print of the packet from the network header on
// (-AA: from the link header): a newline, then the bytes, unprintable
// ones as '.', a CR dropped before a newline or at the end.
func appendText(b, data []byte, hdrlen, level int) []byte {
	switch {
	case level == 0:
		return b
	case level == 1 && len(data) <= hdrlen:
		return b
	case level == 1:
		data = data[hdrlen:]
	}
	b = append(b, '\n')
	for i, c := range data {
		switch {
		case c == '\r':
			if i+2 < len(data) && data[i+1] != '\n' {
				b = append(b, '.')
			}
		case c == '\t' || c == ' ' || c == '\n' || c > ' ' && c < 0x7f:
			b = append(b, c)
		default:
			b = append(b, '.')
		}
	}
	return b
}

// appendPad appends v in base (10 or 16, lower case), zero-padded to
// width digits.
func appendPad(b []byte, v uint64, base, width int) []byte {
	var tmp [64]byte
	s := strconv.AppendUint(tmp[:0], v, base)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}
