package tcpdump

// TCP and UDP one-line summaries: tcpdump's print-tcp.c and print-udp.c,
// without the dissectors tcpdump runs on well-known ports (DNS, NTP, HTTP
// and the rest), whose lines pingcraft does not reproduce.

import "github.com/pingcraft/pingcraft/craft"

// l4Addrs is udpipaddr_print and tcp_print's address part: "a.p > b.q: "
// when the IP header names this protocol directly, "p > q: " when IPv6
// extension headers came between (ip6_print printed the addresses then).
func (d *dissector) l4Addrs(ipOff, ver int, proto uint8, sport, dport int) bool {
	var src, dst, n int
	var addr func(int) bool
	switch {
	case ver == 4 && d.u8(ipOff+9) == proto:
		src, dst, n, addr = ipOff+12, ipOff+16, 8, d.addr4
	case ver != 4 && d.u8(ipOff+6) == proto:
		src, dst, n, addr = ipOff+8, ipOff+24, 32, d.addr6
	}
	if addr != nil {
		if !d.need(src, n) {
			return false
		}
		if sport < 0 {
			return d.ipAddrs(ipOff, ver, ": ")
		}
		addr(src)
		d.c('.')
		d.u(uint64(sport))
		d.s(" > ")
		addr(dst)
		d.c('.')
		d.u(uint64(dport))
		d.s(": ")
		return true
	}
	if d.cut {
		return false
	}
	if sport >= 0 {
		d.u(uint64(sport))
		d.s(" > ")
		d.u(uint64(dport))
		d.s(": ")
	}
	return true
}

// port prints the port of an unreachable-port error: " tcp port 33434",
// " udp port 33434", or " protocol 132 port 33434".
func (d *dissector) port(proto uint8, port uint16) {
	switch proto {
	case protoTCP:
		d.s(" tcp port ")
	case protoUDP:
		d.s(" udp port ")
	default:
		d.s(" protocol ")
		d.u(uint64(proto))
		d.s(" port ")
	}
	d.u(uint64(port))
}

// pseudoSum is the TCP/UDP pseudo-header sum of the IPv4 or IPv6 header
// at ipOff.
func (d *dissector) pseudoSum(ipOff, ver int, proto uint8, length int) uint32 {
	var s uint32
	if ver == 4 {
		s = craft.Sum16(0, d.data[ipOff+12:ipOff+20])
	} else {
		s = craft.Sum16(0, d.data[ipOff+8:ipOff+24])
		s = craft.Sum16(s, d.data[d.icmp6Dst(ipOff):][:16])
	}
	return s + uint32(length)>>16 + uint32(length)&0xffff + uint32(proto)
}

// sumVerdict prints udp_print's and icmp6_print's checksum verdict, given
// the checksum field and cksum's result over the whole.
func (d *dissector) sumVerdict(proto string, got, sum uint16) {
	if sum == 0 {
		d.c('[')
		d.s(proto)
		d.s(" sum ok] ")
		return
	}
	d.s("[bad ")
	d.s(proto)
	d.s(" cksum 0x")
	d.xw(uint64(got), 4)
	d.s(" -> 0x")
	d.xw(uint64(shouldBe(got, sum)), 4)
	d.s("!] ")
}

// udp is udp_print.
func (d *dissector) udp(off, length, ipOff, ver int, fragmented bool) {
	d.proto = "udp"
	if !d.has(off+2, 2) {
		if d.l4Addrs(ipOff, ver, protoUDP, -1, -1) {
			d.trunc()
		}
		return
	}
	sport, dport := int(d.u16(off)), int(d.u16(off+2))
	if length < 8 {
		if d.l4Addrs(ipOff, ver, protoUDP, sport, dport) {
			d.s("truncated-udp ")
			d.u(uint64(length))
		}
		return
	}
	if !d.has(off+4, 2) {
		if d.l4Addrs(ipOff, ver, protoUDP, sport, dport) {
			d.trunc()
		}
		return
	}
	ulen := int(d.u16(off + 4))
	if ulen == 0 && length > 65535 {
		ulen = length
	}
	if ulen < 8 {
		if d.l4Addrs(ipOff, ver, protoUDP, sport, dport) {
			d.s("truncated-udplength ")
			d.u(uint64(ulen))
		}
		return
	}
	ulen -= 8
	length -= 8
	if ulen < length {
		length = ulen
	}
	if off+8 > d.end {
		if d.l4Addrs(ipOff, ver, protoUDP, sport, dport) {
			d.trunc()
		}
		return
	}
	if !d.l4Addrs(ipOff, ver, protoUDP, sport, dport) {
		return
	}
	if d.o.Verbose > 0 && !fragmented && (ver == 6 || d.o.Verbose > 1) {
		got := d.u16(off + 6)
		switch {
		case ver == 4 && got == 0:
			d.s("[no cksum] ")
		case d.has(off+8, length):
			d.sumVerdict("udp", got, d.cksum(d.pseudoSum(ipOff, ver, protoUDP, length+8), off, length+8))
		}
	}
	if ulen > length && !fragmented {
		d.s("UDP, bad length ")
		d.u(uint64(ulen))
		d.s(" > ")
		d.u(uint64(length))
		return
	}
	d.s("UDP, length ")
	d.u(uint64(ulen))
}

var tcpFlags = []bitName{{0x01, "F"}, {0x02, "S"}, {0x04, "R"}, {0x08, "P"}, {0x10, "."}, {0x20, "U"}, {0x40, "E"}, {0x80, "W"}}

// tcpConn is tcpdump's tcp_seq_hash entry: the sequence numbers relative
// ones count from.
type tcpConn struct{ seq, ack uint32 }

// tcpKey names a TCP conversation, the same in both directions.
type tcpKey struct {
	a, b   [16]byte
	ap, bp uint16
}

const maxTCPConns = 4096

// tcp is tcp_print.
func (d *dissector) tcp(off, length, ipOff, ver int, fragmented bool) {
	d.proto = "tcp"
	if !d.has(off+2, 2) || length < 4 {
		if d.l4Addrs(ipOff, ver, protoTCP, -1, -1) {
			d.trunc()
		}
		return
	}
	sport, dport := int(d.u16(off)), int(d.u16(off+2))
	if !d.l4Addrs(ipOff, ver, protoTCP, sport, dport) {
		return
	}
	if !d.has(off, 20) || length < 20 {
		if length < 20 {
			d.s("[|tcp]")
			return
		}
		d.trunc()
		return
	}
	hlen := int(d.data[off+12]>>4) * 4
	if hlen < 20 {
		d.s(" tcp ")
		d.u(uint64(length))
		d.s(" [bad hdr length ")
		d.u(uint64(hlen))
		d.s(" - too short, < 20]")
		return
	}
	seq, ack := d.u32(off+4), d.u32(off+8)
	flags := uint32(d.data[off+13])
	win := d.u16(off + 14)
	urp := d.u16(off + 18)
	if d.o.Quiet {
		d.s("tcp ")
		d.u(uint64(length - hlen))
		if hlen > length {
			d.tcpTooLong(hlen, length)
		}
		return
	}
	d.s("Flags [")
	for _, f := range tcpFlags {
		if flags&f.bit != 0 {
			d.s(f.name)
		}
	}
	if flags == 0 {
		d.s("none")
	}
	d.c(']')
	if flags&0x10 != 0 {
		seq, ack = d.pr.relativeSeq(d.data, ipOff, ver, sport, dport, seq, ack)
	}
	// tcpdump prints the checksum before the sequence numbers.
	if d.o.Verbose > 0 && !fragmented && d.has(off, length) {
		got := d.u16(off + 16)
		sum := d.cksum(d.pseudoSum(ipOff, ver, protoTCP, length), off, length)
		d.s(", cksum 0x")
		d.xw(uint64(got), 4)
		if sum != 0 {
			d.s(" (incorrect -> 0x")
			d.xw(uint64(shouldBe(got, sum)), 4)
			d.c(')')
		} else {
			d.s(" (correct)")
		}
	}
	payload := length - hlen
	if hlen > length {
		d.tcpTooLong(hlen, length)
		return
	}
	if d.o.Verbose > 1 || payload > 0 || flags&0x07 != 0 {
		d.s(", seq ")
		d.u(uint64(seq))
		if payload > 0 {
			d.c(':')
			d.u(uint64(seq + uint32(payload)))
		}
	}
	if flags&0x10 != 0 {
		d.s(", ack ")
		d.u(uint64(ack))
	}
	d.s(", win ")
	d.u(uint64(win))
	if flags&0x20 != 0 {
		d.s(", urg ")
		d.u(uint64(urp))
	}
	if hlen > 20 {
		d.s(", options [")
		if !d.tcpOptions(off+20, hlen-20) {
			if !d.cut {
				d.trunc()
			}
			return
		}
		d.c(']')
	}
	d.s(", length ")
	d.u(uint64(payload))
}

// relativeSeq is tcpdump's relative sequence numbers: the first packet
// with ACK of a conversation records its numbers, later ones print the
// difference.
func (p *Printer) relativeSeq(data []byte, ipOff, ver, sport, dport int, seq, ack uint32) (uint32, uint32) {
	var k tcpKey
	var src, dst []byte
	if ver == 4 {
		src, dst = data[ipOff+12:ipOff+16], data[ipOff+16:ipOff+20]
	} else {
		src, dst = data[ipOff+8:ipOff+24], data[ipOff+24:ipOff+40]
	}
	rev := sport > dport || (sport == dport && string(src) > string(dst))
	if rev {
		copy(k.a[:], dst)
		copy(k.b[:], src)
		k.ap, k.bp = uint16(dport), uint16(sport)
	} else {
		copy(k.a[:], src)
		copy(k.b[:], dst)
		k.ap, k.bp = uint16(sport), uint16(dport)
	}
	c, ok := p.tcpConns[k]
	if !ok {
		if rev {
			c = tcpConn{seq: ack - 1, ack: seq}
		} else {
			c = tcpConn{seq: seq, ack: ack - 1}
		}
		if p.tcpConns == nil {
			p.tcpConns = make(map[tcpKey]tcpConn)
		}
		if len(p.tcpConns) < maxTCPConns {
			p.tcpConns[k] = c
		}
		return seq, ack
	}
	if rev {
		return seq - c.ack, ack - c.seq
	}
	return seq - c.seq, ack - c.ack
}

// tcpTooLong says that the TCP header length hlen exceeds the segment's.
func (d *dissector) tcpTooLong(hlen, length int) {
	d.s(" [bad hdr length ")
	d.u(uint64(hlen))
	d.s(" - too long, > ")
	d.u(uint64(length))
	d.c(']')
}

// tcpOptNumber prints a TCP option that holds one number (1 or 2 bytes),
// or " [bad opt]" when its length l is not want.
func (d *dissector) tcpOptNumber(name string, body, l, want int) {
	d.s(name)
	if l != want {
		d.s(" [bad opt]")
		return
	}
	v := uint64(d.u8(body))
	if want == 4 {
		v = uint64(d.u16(body))
	}
	d.c(' ')
	d.u(v)
}

// tcpOptions prints the options tcpdump names; false if cut short.
func (d *dissector) tcpOptions(off, n int) bool {
	end := off + n
	first := true
	for off < end {
		if !first {
			d.c(',')
		}
		first = false
		opt := d.u8(off)
		if d.cut {
			return false
		}
		l := 1
		if opt != 0 && opt != 1 {
			l = int(d.u8(off + 1))
			if d.cut {
				return false
			}
			if l < 2 || off+l > end {
				d.s("bad opt")
				return true
			}
			if !d.has(off, l) {
				return false
			}
		}
		body := off + 2
		switch opt {
		case 0:
			d.s("eol")
		case 1:
			d.s("nop")
		case 2:
			d.tcpOptNumber("mss", body, l, 4)
		case 3:
			d.tcpOptNumber("wscale", body, l, 3)
		case 4:
			d.s("sackOK")
			if l != 2 {
				d.s(" [bad opt]")
			}
		case 5:
			d.s("sack")
			if (l-2)%8 != 0 {
				d.s(" [bad opt]")
				break
			}
			d.c(' ')
			d.u(uint64((l - 2) / 8))
			d.c(' ')
			for i := body; i < off+l; i += 8 {
				d.c('{')
				d.u(uint64(d.u32(i)))
				d.c(':')
				d.u(uint64(d.u32(i + 4)))
				d.c('}')
			}
		case 8:
			d.s("TS")
			if l == 10 {
				d.s(" val ")
				d.u(uint64(d.u32(body)))
				d.s(" ecr ")
				d.u(uint64(d.u32(body + 4)))
			} else {
				d.s(" [bad opt]")
			}
		default:
			d.s("unknown-")
			d.u(uint64(opt))
			for i := body; i < off+l; i++ {
				if i == body {
					d.c(' ')
				}
				d.xw(uint64(d.u8(i)), 2)
			}
		}
		if opt == 0 {
			return true
		}
		off += l
	}
	return true
}
