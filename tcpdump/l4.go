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
	if d.o.Verbose > 0 && !d.o.NoChecksums && !fragmented && (ver == 6 || d.o.Verbose > 1) {
		got := d.u16(off + 6)
		switch {
		case ver == 4 && got == 0:
			d.s("[no cksum] ")
		case d.has(off+8, length):
			d.sumVerdict("udp", got, d.cksum(d.pseudoSum(ipOff, ver, protoUDP, length+8), off, length+8))
		}
	}
	if !d.o.Quiet {
		switch {
		case sport == 53 || dport == 53:
			d.domain(off+8, length, false, false)
			return
		case sport == 5353 || dport == 5353:
			d.domain(off+8, length, false, true)
			return
		case sport == 525 || dport == 525:
			d.timed(off + 8)
			return
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
		// tcp_print names the addresses itself, whatever header came
		// between, and without udp_print's space.
		if d.ipAddrs(ipOff, ver, ":") {
			d.trunc()
		}
		return
	}
	sport, dport := int(d.u16(off)), int(d.u16(off+2))
	if !d.l4Addrs(ipOff, ver, protoTCP, sport, dport) {
		return
	}
	if !d.has(off, 20) || length < 20 {
		d.trunc()
		return
	}
	hlen := int(d.data[off+12]>>4) * 4
	if hlen < 20 {
		d.s(" tcp ")
		d.u(uint64(uint32(length - hlen)))
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
		d.u(uint64(uint32(length - hlen)))
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
	var thseq, thack uint32
	rev := false
	if flags&0x10 != 0 && !d.o.AbsoluteSeq {
		seq, ack, thseq, thack, rev = d.pr.relativeSeq(d.data, ipOff, ver, sport, dport, seq, ack, flags&0x02 != 0)
	}
	if hlen > length {
		d.tcpTooLong(hlen, length)
		return
	}
	// tcpdump prints the checksum before the sequence numbers.
	if d.o.Verbose > 0 && !d.o.NoChecksums && !fragmented && d.has(off, length) {
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
		opts := tcpOpts{flags: uint8(flags), rev: rev, thseq: thseq, thack: thack, payload: payload, off: off}
		if !d.tcpOptions(off+20, hlen-20, &opts) {
			return
		}
	}
	d.s(", length ")
	d.u(uint64(payload))
	if payload == 0 {
		return
	}
	if !d.has(off, hlen) {
		d.s(" [remaining caplen(")
		d.u(uint64(max(d.end-off, 0)))
		d.s(") < header length(")
		d.u(uint64(hlen))
		d.s(")]")
		d.cut = true
		return
	}
	if flags&0x04 != 0 && d.o.Verbose > 0 {
		d.rstData(off+hlen, payload)
		return
	}
	switch tcpPrinterPort(uint16(sport), uint16(dport)) {
	case 0:
		if sport == 53 || dport == 53 {
			d.domain(off+hlen, payload, true, false)
		}
	case 22:
		d.ssh(off+hlen, payload)
	}
}

// tcpPrinterPort is the port of the printer tcpdump hands a segment
// between these ports to before DNS, in its order (telnet, SMTP, whois,
// BGP, PPTP, Redis, SSH, BEEP, OpenFlow, FTP, HTTP, RTSP); 0 if none.
// pingcraft has SSH's alone. NetBIOS and SMB (139, 445) are not among
// them: tcpdump as distributions build it (without ENABLE_SMB) goes on to
// DNS.
func tcpPrinterPort(sport, dport uint16) uint16 {
	for _, p := range [...]uint16{23, 25, 43, 179, 1723, 6379, 22, 10288, 6633, 6653, 21, 80, 8080, 554, 8554} {
		if sport == p || dport == p {
			return p
		}
	}
	return 0
}

// rstData is print_tcp_rst_data: the text an RST carries (RFC 1122
// 4.2.2.12), at most 30 characters.
func (d *dissector) rstData(off, length int) {
	if d.has(off, length) {
		d.s(" [RST")
	} else {
		d.s(" [!RST")
	}
	if length > 30 {
		length = 30
		d.c('+')
	}
	d.c(' ')
	for ; length > 0 && off < d.end; off, length = off+1, length-1 {
		d.char(d.data[off])
	}
	d.c(']')
}

// relativeSeq is tcpdump's relative sequence numbers: the first packet
// with ACK of a conversation records its numbers, later ones print the
// difference.
//
// It returns the numbers to print, the conversation's base numbers (for
// SACK blocks) and whether the segment goes the other way.
func (p *Printer) relativeSeq(data []byte, ipOff, ver, sport, dport int, seq, ack uint32, syn bool) (rseq, rack, thseq, thack uint32, rev bool) {
	var k tcpKey
	var src, dst []byte
	if ver == 4 {
		src, dst = data[ipOff+12:ipOff+16], data[ipOff+16:ipOff+20]
	} else {
		src, dst = data[ipOff+8:ipOff+24], data[ipOff+24:ipOff+40]
	}
	rev = sport > dport || (sport == dport && string(src) > string(dst))
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
	if !ok || syn {
		// A new conversation, or a SYN starting one again.
		if rev {
			c = tcpConn{seq: ack - 1, ack: seq}
		} else {
			c = tcpConn{seq: seq, ack: ack - 1}
		}
		if p.tcpConns == nil {
			p.tcpConns = make(map[tcpKey]tcpConn)
		}
		if ok || len(p.tcpConns) < maxTCPConns {
			p.tcpConns[k] = c
		}
		return seq, ack, c.seq, c.ack, rev
	}
	if rev {
		return seq - c.ack, ack - c.seq, c.seq, c.ack, rev
	}
	return seq - c.seq, ack - c.ack, c.seq, c.ack, rev
}

// tcpTooLong says that the TCP header length hlen exceeds the segment's.
func (d *dissector) tcpTooLong(hlen, length int) {
	d.s(" [bad hdr length ")
	d.u(uint64(hlen))
	d.s(" - too long, > ")
	d.u(uint64(length))
	d.c(']')
}

// tcpOpts is what tcp_print's option loop needs from the segment.
type tcpOpts struct {
	flags        uint8
	rev          bool
	thseq, thack uint32
	payload, off int // payload length; where the TCP header starts
}

// tcpOptName is tcp_option_values.
func tcpOptName(k uint8) (string, bool) {
	switch k {
	case 0:
		return "eol", true
	case 1:
		return "nop", true
	case 2:
		return "mss", true
	case 3:
		return "wscale", true
	case 4:
		return "sackOK", true
	case 5:
		return "sack", true
	case 6:
		return "echo", true
	case 7:
		return "echoreply", true
	case 8:
		return "TS", true
	case 11:
		return "cc", true
	case 12:
		return "ccnew", true
	case 13:
		return "", true
	case 19:
		return "md5", true
	case 20:
		return "scps", true
	case 28:
		return "uto", true
	case 29:
		return "tcp-ao", true
	case 30:
		return "mptcp", true
	case 34:
		return "tfo", true
	case 254:
		return "exp", true
	}
	return "", false
}

// tcpOptDataLen is the fixed data length of the options that have one.
func tcpOptDataLen(k uint8) int {
	switch k {
	case 2, 20, 28:
		return 2
	case 3:
		return 1
	case 8:
		return 8
	case 19:
		return 16
	}
	return 4 // cc, ccnew, ccecho, echo, echoreply
}

// tcpOptions is tcp_print's option loop. It returns false where tcp_print
// returns from inside it ([bad opt] and truncation), true when the
// segment's length is to follow.
func (d *dissector) tcpOptions(cp, hlen int, o *tcpOpts) bool {
	d.s(", options [")
	var ch byte
	bad := func() bool {
		d.s("[bad opt]")
		if ch != 0 {
			d.c(']')
		}
		return false
	}
	trunc := func() bool {
		d.trunc()
		if ch != 0 {
			d.c('>')
		}
		return false
	}
	for hlen > 0 {
		if ch != 0 {
			d.c(ch)
		}
		opt := d.u8(cp)
		if d.cut {
			return false
		}
		cp++
		l := 1
		if opt > 1 {
			l = int(d.u8(cp))
			if d.cut {
				return false
			}
			cp++
			if l < 2 || l > hlen {
				return bad()
			}
			hlen--
		}
		hlen--
		datalen := 0
		// check is LENCHECK: n bytes of data left in the header and
		// captured; 1 ok, 0 bad, -1 truncated.
		check := func(n int) int {
			if n > hlen {
				return 0
			}
			if !d.has(cp, n) {
				return -1
			}
			return 1
		}
		fail := func(r int) bool {
			if r == 0 {
				return bad()
			}
			return trunc()
		}
		if name, ok := tcpOptName(opt); ok {
			d.s(name)
		} else {
			d.s("unknown-")
			d.u(uint64(opt))
		}
		switch opt {
		case 2, 3, 6, 7, 8, 11, 12, 13, 19, 20, 28:
			datalen = tcpOptDataLen(opt)
			if r := check(datalen); r != 1 {
				return fail(r)
			}
			switch opt {
			case 2:
				d.c(' ')
				d.u(uint64(d.u16(cp)))
			case 3:
				d.c(' ')
				d.u(uint64(d.data[cp]))
			case 8:
				d.s(" val ")
				d.u(uint64(d.u32(cp)))
				d.s(" ecr ")
				d.u(uint64(d.u32(cp + 4)))
			case 19:
				d.c(' ')
				// Without a secret (-M) tcpdump cannot check the signature.
				if o.off+int(d.data[o.off+12]>>4)*4+o.payload > d.end {
					d.s("snaplen too short, ")
				} else {
					d.s("shared secret not supplied with -M, ")
				}
				d.s("can't check - ")
				for i := 0; i < 16; i++ {
					d.xw(uint64(d.data[cp+i]), 2)
				}
			case 20:
				d.s(" cap ")
				d.xw(uint64(d.data[cp]), 2)
				d.s(" id ")
				d.u(uint64(d.data[cp+1]))
			case 28:
				v := uint32(d.u16(cp))
				d.s(" 0x")
				d.x(uint64(v))
				if v&1 != 0 {
					v = v >> 1 * 60
				} else {
					v >>= 1
				}
				d.c(' ')
				d.u(uint64(v))
			default:
				d.c(' ')
				d.u(uint64(d.u32(cp)))
			}
		case 5:
			datalen = l - 2
			if datalen%8 != 0 {
				d.s(" invalid sack")
				break
			}
			d.c(' ')
			d.u(uint64(datalen / 8))
			d.c(' ')
			for i := 0; i < datalen; i += 8 {
				if r := check(i + 4); r != 1 {
					return fail(r)
				}
				s := d.u32(cp + i)
				if r := check(i + 8); r != 1 {
					return fail(r)
				}
				e := d.u32(cp + i + 4)
				if o.rev {
					s, e = s-o.thseq, e-o.thseq
				} else {
					s, e = s-o.thack, e-o.thack
				}
				d.c('{')
				d.u(uint64(s))
				d.c(':')
				d.u(uint64(e))
				d.c('}')
			}
		case 29: // TCP-AO, RFC 5925
			datalen = l - 2
			if datalen < 2 {
				d.s(" (invalid)")
				break
			}
			if r := check(1); r != 1 {
				return fail(r)
			}
			d.s(" keyid ")
			d.u(uint64(d.data[cp]))
			if r := check(2); r != 1 {
				return fail(r)
			}
			d.s(" rnextkeyid ")
			d.u(uint64(d.data[cp+1]))
			if datalen > 2 {
				d.s(" mac 0x")
				for i := 2; i < datalen; i++ {
					if r := check(i + 1); r != 1 {
						return fail(r)
					}
					d.xw(uint64(d.data[cp+i]), 2)
				}
			}
		case 30:
			datalen = l - 2
			if r := check(datalen); r != 1 {
				return fail(r)
			}
			saved := d.end
			d.end = min(cp-2+l, d.end)
			ok := d.mptcp(cp-2, l, o.flags)
			d.end = saved
			if d.cut {
				return false
			}
			if !ok {
				return bad()
			}
		case 34:
			datalen = l - 2
			if r := check(datalen); r != 1 {
				return fail(r)
			}
			d.c(' ')
			d.fastOpen(cp, datalen, false)
		case 254:
			datalen = l - 2
			if r := check(datalen); r != 1 {
				return fail(r)
			}
			if datalen < 2 {
				return bad()
			}
			magic := d.u16(cp)
			d.c('-')
			if magic == 0xf989 { // TCP Fast Open, RFC 7413
				d.fastOpen(cp+2, datalen-2, true)
			} else {
				d.xw(uint64(magic), 4)
			}
		case 0, 1, 4:
		default:
			datalen = l - 2
			if datalen > 0 {
				d.s(" 0x")
			}
			for i := 0; i < datalen; i++ {
				if r := check(i + 1); r != 1 {
					return fail(r)
				}
				d.xw(uint64(d.data[cp+i]), 2)
			}
		}
		cp += datalen
		hlen -= datalen
		datalen++
		if opt > 1 {
			datalen++
		}
		if datalen != l {
			d.s("[len ")
			d.u(uint64(l))
			d.c(']')
		}
		ch = ','
		if opt == 0 {
			break
		}
	}
	d.c(']')
	return true
}

// fastOpen is print_tcp_fastopen_option (RFC 7413).
func (d *dissector) fastOpen(cp, n int, exp bool) {
	if exp {
		d.s("tfo")
	}
	switch {
	case n == 0:
		d.s(" cookiereq")
	case n%2 != 0 || n < 4 || n > 16:
		d.s(" (invalid)")
	default:
		d.s(" cookie ")
		for i := 0; i < n; i++ {
			d.xw(uint64(d.data[cp+i]), 2)
		}
	}
}
