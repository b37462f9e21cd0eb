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
}

// Printer writes tcpdump's text for each frame it is given: one line, plus
// the continuation lines of -v and the hex dump of -x. It keeps the state
// tcpdump keeps (the previous and first time stamps), so give each capture
// its own Printer; it is not safe for concurrent use.
type Printer struct {
	w    io.Writer
	link craft.LinkType
	o    PrintOptions

	first, prev time.Time // for StampDelta and StampSinceFirst
	seen        bool

	d dissector

	// ifName names an interface index for LINUX_SLL2 headers, as
	// tcpdump does with if_indextoname(3) on the host that prints.
	ifName  func(index uint32) (string, bool)
	ifNames map[uint32]string

	tcpConns map[tcpKey]tcpConn // relative TCP sequence numbers
}

// NewPrinter returns a Printer of frames of the given link type, writing to
// w: EN10MB, RAW, IPV4, IPV6, LINUX_SLL and LINUX_SLL2 (which pcapgo
// reports as 20; that is accepted). Like tcpdump, it names the interface
// index of a LINUX_SLL2 header after the interface of this host that has
// it, "?" if none does.
func NewPrinter(w io.Writer, link layers.LinkType, o *PrintOptions) (*Printer, error) {
	lt := craft.LinkTypeOf(link)
	switch lt {
	case craft.LinkTypeEthernet, craft.LinkTypeRaw, craft.LinkTypeIPv4, craft.LinkTypeIPv6, craft.LinkTypeLinuxSLL, craft.LinkTypeLinuxSLL2, 12:
	default:
		return nil, fmt.Errorf("tcpdump: cannot print link type %s: pingcraft prints EN10MB, RAW, IPV4, IPV6, LINUX_SLL and LINUX_SLL2", lt)
	}
	p := &Printer{w: w, link: lt}
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

// Print prints one frame: data as captured, ci.Length its length on the
// wire (0 means len(data)). It does not keep data. The only errors are the
// writer's.
func (p *Printer) Print(data []byte, ci gopacket.CaptureInfo) error {
	d := &p.d
	d.out = d.out[:0]
	if len(data) == 0 {
		// tcpdump checks the record header before it prints the time.
		d.out = append(d.out, "[Invalid header: caplen==0]\n"...)
		_, err := p.w.Write(d.out)
		return err
	}
	d.out = p.appendStamp(d.out, ci.Timestamp)
	wire := ci.Length
	if wire < len(data) {
		wire = len(data)
	}
	hdrlen := d.frame(p.link, data, wire)
	d.out = d.appendHex(d.out, data, hdrlen)
	d.out = append(d.out, '\n')
	_, err := p.w.Write(d.out)
	if cap(d.out) > 1<<20 { // do not keep the memory of one huge frame
		d.out = make([]byte, 0, 512)
	}
	return err
}

func (p *Printer) appendStamp(b []byte, ts time.Time) []byte {
	// tcpdump reads captures with microsecond precision; libpcap truncates.
	ts = ts.Truncate(time.Microsecond)
	switch p.o.Stamp {
	case StampNone:
		return b
	case StampUnix:
		sec := ts.Unix()
		usec := ts.Nanosecond() / 1000
		b = strconv.AppendUint(b, uint64(uint32(sec)), 10)
		b = append(b, '.')
		b = appendPad(b, uint64(usec), 10, 6)
		return append(b, ' ')
	case StampDelta, StampSinceFirst:
		if !p.seen {
			p.first, p.prev, p.seen = ts, ts, true
		}
		ref := p.prev
		if p.o.Stamp == StampSinceFirst {
			ref = p.first
		}
		delta := ts.Sub(ref)
		if delta < 0 {
			b = append(b, '-')
			delta = -delta
		} else {
			b = append(b, ' ')
		}
		usec := uint64(delta / time.Microsecond)
		sec := usec / 1e6
		b = appendPad(b, sec/3600, 10, 2)
		b = append(b, ':')
		b = appendPad(b, sec%3600/60, 10, 2)
		b = append(b, ':')
		b = appendPad(b, sec%60, 10, 2)
		b = append(b, '.')
		b = appendPad(b, usec%1e6, 10, 6)
		if p.o.Stamp == StampDelta {
			p.prev = ts
		}
		return append(b, ' ')
	case StampDate:
		b = ts.In(p.o.Location).AppendFormat(b, "2006-01-02 15:04:05.000000")
		return append(b, ' ')
	}
	b = ts.In(p.o.Location).AppendFormat(b, "15:04:05.000000")
	return append(b, ' ')
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
