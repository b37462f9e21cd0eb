package tcpdump

import (
	"strconv"

	"github.com/pingcraft/pingcraft/craft"
)

// The printers below follow tcpdump 4.99's netdissect printers function by
// function, because what tcpdump prints for a short or lying packet depends
// on exactly which field it reads first. tcpdump reads fields two ways, and
// so does the dissector:
//
//   - GET_ macros: a field past the end of the capture abandons the whole
//     frame (a longjmp) and the line ends in " [|proto]". Here the reads set
//     d.cut, every printer returns as soon as it sees d.cut, and frame
//     prints the marker.
//   - ND_TCHECK macros: the printer itself prints " [|proto]" and returns
//     normally, so its callers carry on. Here: d.trunc.
//
// Offsets are absolute indexes into the frame. end is tcpdump's snapend:
// where the captured bytes, or the packet that encloses the one being
// printed, stop.

type dissector struct {
	o   *PrintOptions
	pr  *Printer
	out []byte

	data  []byte
	end   int
	proto string // ndo_protocol: the name in " [|proto]"
	cut   bool

	frelay bool // ARP over Frame Relay: link addresses are Q.922

	// An IPv6 jumbo payload option: allowed here, seen, its length.
	jumboOK, jumbo bool
	jumboLen       uint32
}

// frame prints data as a frame of the link type and returns how many bytes
// of link-layer header the -x dump leaves out.
func (d *dissector) frame(link craft.LinkType, data []byte, wire int) int {
	d.data, d.end, d.proto, d.cut = data, len(data), "", false
	var hdr int
	switch link {
	case craft.LinkTypeEthernet:
		hdr = d.etherIf(wire)
	case craft.LinkTypeLinuxSLL:
		hdr = d.sllIf(wire)
	case craft.LinkTypeLinuxSLL2:
		hdr = d.sll2If(wire)
	case craft.LinkTypeRaw, linkTypeRawOpenBSD, craft.LinkTypeIPv4, craft.LinkTypeIPv6:
		hdr = d.rawIf(wire)
	default:
		d.unsupported()
	}
	if d.cut {
		// tcpdump counts the link header only once its printer returns;
		// after the longjmp the dump starts at the link header.
		d.trunc()
		hdr = 0
	}
	d.end = len(data)
	if hdr > len(data) {
		hdr = len(data)
	}
	return hdr
}

// linkTypeRawOpenBSD is DLT_RAW as some systems number it.
const linkTypeRawOpenBSD craft.LinkType = 12

// unsupported is tcpdump's printer of a link type it does not decode: its
// name, then the whole frame in hex and ASCII. No link header is counted,
// so -x dumps the frame again.
func (d *dissector) unsupported() {
	d.proto = "unsupported"
	d.s("UNSUPPORTED")
	d.out = appendHexDump(d.out, "\n\t", d.data, true)
}

// has is ND_TTEST_LEN: n bytes at off are captured.
func (d *dissector) has(off, n int) bool {
	return off >= 0 && n >= 0 && off <= d.end && n <= d.end-off
}

// need is the check of a GET_ macro: without the bytes the frame is cut.
func (d *dissector) need(off, n int) bool {
	if d.cut {
		return false
	}
	if !d.has(off, n) {
		d.cut = true
		return false
	}
	return true
}

func (d *dissector) u8(off int) uint8 {
	if !d.need(off, 1) {
		return 0
	}
	return d.data[off]
}

func (d *dissector) u16(off int) uint16 {
	if !d.need(off, 2) {
		return 0
	}
	return uint16(d.data[off])<<8 | uint16(d.data[off+1])
}

func (d *dissector) u32(off int) uint32 {
	if !d.need(off, 4) {
		return 0
	}
	b := d.data[off : off+4]
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func (d *dissector) u64(off int) uint64 {
	if !d.need(off, 8) {
		return 0
	}
	return uint64(d.u32(off))<<32 | uint64(d.u32(off+4))
}

// trunc is nd_print_trunc.
func (d *dissector) trunc() {
	d.s(" [|")
	d.s(d.proto)
	d.s("]")
}

func (d *dissector) s(s string) { d.out = append(d.out, s...) }

func (d *dissector) c(c byte) { d.out = append(d.out, c) }

// nameOr prints name, or where tcpdump has none for v, unknown, v in
// decimal and closing: "unknown icmp6 type (" 200 ")".
func (d *dissector) nameOr(name, unknown string, v uint64, closing string) {
	if name != "" {
		d.s(name)
		return
	}
	d.s(unknown)
	d.u(v)
	d.s(closing)
}

// u prints v in decimal, as %u.
func (d *dissector) u(v uint64) { d.out = strconv.AppendUint(d.out, v, 10) }

// x prints v in lower-case hex, as %x.
func (d *dissector) x(v uint64) { d.out = strconv.AppendUint(d.out, v, 16) }

// xw prints v in hex zero-padded to width digits, as %0*x.
func (d *dissector) xw(v uint64, width int) { d.out = appendPad(d.out, v, 16, width) }

// addr prints the n-byte address at off with appendAddr; false (and
// d.cut) if not captured.
func (d *dissector) addr(off, n int, appendAddr func(b, a []byte) []byte) bool {
	if !d.need(off, n) {
		return false
	}
	d.out = appendAddr(d.out, d.data[off:off+n])
	return true
}

// addr4 prints the IPv4 address at off.
func (d *dissector) addr4(off int) bool { return d.addr(off, 4, appendIP4) }

func appendIP4(b, a []byte) []byte {
	for i := 0; i < 4; i++ {
		if i > 0 {
			b = append(b, '.')
		}
		b = strconv.AppendUint(b, uint64(a[i]), 10)
	}
	return b
}

// addr6 prints the IPv6 address at off.
func (d *dissector) addr6(off int) bool { return d.addr(off, 16, appendIP6) }

// appendIP6 formats as tcpdump's addrtostr6 (BIND's inet_ntop): the first
// longest run of two or more zero words is "::", and an address whose first
// six words are zero, or five zero and 0xffff, ends in dotted IPv4.
func appendIP6(b, a []byte) []byte {
	var w [8]int
	for i := range w {
		w[i] = int(a[2*i])<<8 | int(a[2*i+1])
	}
	bestBase, bestLen, curBase, curLen := -1, 0, -1, 0
	for i := 0; i < 8; i++ {
		if w[i] == 0 {
			if curBase == -1 {
				curBase, curLen = i, 1
			} else {
				curLen++
			}
			continue
		}
		if curBase != -1 {
			if bestBase == -1 || curLen > bestLen {
				bestBase, bestLen = curBase, curLen
			}
			curBase = -1
		}
	}
	if curBase != -1 && (bestBase == -1 || curLen > bestLen) {
		bestBase, bestLen = curBase, curLen
	}
	if bestBase != -1 && bestLen < 2 {
		bestBase = -1
	}
	for i := 0; i < 8; i++ {
		if bestBase != -1 && i >= bestBase && i < bestBase+bestLen {
			if i == bestBase {
				b = append(b, ':')
			}
			continue
		}
		if i != 0 {
			b = append(b, ':')
		}
		if i == 6 && bestBase == 0 && (bestLen == 6 || (bestLen == 5 && w[5] == 0xffff)) {
			return appendIP4(b, a[12:16])
		}
		b = strconv.AppendUint(b, uint64(w[i]), 16)
	}
	if bestBase != -1 && bestBase+bestLen == 8 {
		b = append(b, ':')
	}
	return b
}

// mac prints the 6-byte MAC address at off.
func (d *dissector) mac(off int) bool { return d.addr(off, 6, appendMAC) }

const hexDigits = "0123456789abcdef"

func appendMAC(b, a []byte) []byte {
	for i, c := range a {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return b
}

// cksum is in_cksum over data[off:off+n], the data in big-endian words:
// zero when the checksum field inside is right.
func (d *dissector) cksum(sum uint32, off, n int) uint16 {
	return ^craft.Fold(craft.Sum16(sum, d.data[off:off+n]))
}

// shouldBe is in_cksum_shouldbe: the value the checksum field should hold,
// given the one it holds and the in_cksum result over the whole.
func shouldBe(got, computed uint16) uint16 {
	s := uint32(got) + uint32(computed)
	s = s&0xffff + s>>16
	s = s&0xffff + s>>16
	return uint16(s)
}

// hexDump is hex_print: "\n\t0x0000:  4500 0054 ..." for the captured part
// of data[off:off+n].
func (d *dissector) hexDump(indent string, off, n int) {
	if off > d.end {
		return
	}
	if n > d.end-off {
		n = d.end - off
	}
	d.out = appendHexDump(d.out, indent, d.data[off:off+n], false)
}

// defaultPrint is tcpdump's ND_DEFAULTPRINT for bytes no printer knows.
func (d *dissector) defaultPrint(off, n int) {
	if off > d.end || off < 0 {
		return
	}
	if n > d.end-off {
		n = d.end - off
	}
	if n < 0 {
		return
	}
	d.out = appendHexDump(d.out, "\n\t", d.data[off:off+n], true)
}

// unknownPayload is the link printers' default print, which -x and -X
// suppress (they dump the whole packet anyway), and -q.
func (d *dissector) unknownPayload(off, n int) {
	if d.o.Hex == 0 && !d.o.Quiet {
		d.defaultPrint(off, n)
	}
}

// appendHex is the dump -x, -xx, -X and -XX add after the line.
func (d *dissector) appendHex(b, data []byte, hdrlen int) []byte {
	switch {
	case d.o.Hex == 0:
		return b
	case d.o.Hex >= 2:
		return appendHexDump(b, "\n\t", data, d.o.ASCII)
	case len(data) > hdrlen:
		return appendHexDump(b, "\n\t", data[hdrlen:], d.o.ASCII)
	}
	return b
}

// appendHexDump is hex_print and, with ascii, hex_and_ascii_print: 16
// bytes a line in 16-bit groups, offsets from zero.
func appendHexDump(b []byte, indent string, data []byte, ascii bool) []byte {
	for line := 0; line < len(data); line += 16 {
		chunk := data[line:min(line+16, len(data))]
		b = append(b, indent...)
		b = append(b, "0x"...)
		b = appendPad(b, uint64(line), 16, 4)
		b = append(b, ": "...)
		width := 0
		for i, c := range chunk {
			if i%2 == 0 {
				b = append(b, ' ')
				width++
			}
			b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
			width += 2
		}
		if !ascii {
			continue
		}
		for ; width < 40; width++ {
			b = append(b, ' ')
		}
		b = append(b, "  "...)
		for _, c := range chunk {
			if c > 0x20 && c < 0x7f {
				b = append(b, c)
			} else {
				b = append(b, '.')
			}
		}
	}
	return b
}
