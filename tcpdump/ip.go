package tcpdump

// IPv4 and ICMP: tcpdump's print-ip.c, print-ip-demux.c and print-icmp.c.

const (
	protoHopOpts  = 0
	protoICMP     = 1
	protoIPv4     = 4
	protoTCP      = 6
	protoUDP      = 17
	protoDCCP     = 33
	protoIPv6     = 41
	protoRouting  = 43
	protoFragment = 44
	protoESP      = 50
	protoAH       = 51
	protoICMPv6   = 58
	protoNone     = 59
	protoDstOpts  = 60
	protoIPComp   = 108
	protoSCTP     = 132
)

// ipProtoName is tcpdump's ipproto_values.
func ipProtoName(p uint8) string {
	switch p {
	case 0:
		return "Options"
	case 1:
		return "ICMP"
	case 2:
		return "IGMP"
	case 4:
		return "IPIP"
	case 6:
		return "TCP"
	case 8:
		return "EGP"
	case 9:
		return "IGRP"
	case 17:
		return "UDP"
	case 33:
		return "DCCP"
	case 41:
		return "IPv6"
	case 43:
		return "Routing"
	case 44:
		return "Fragment"
	case 46:
		return "RSVP"
	case 47:
		return "GRE"
	case 50:
		return "ESP"
	case 51:
		return "AH"
	case 55:
		return "Mobile IP"
	case 58:
		return "ICMPv6"
	case 62:
		return "Mobile IP (old)"
	case 88:
		return "EIGRP"
	case 89:
		return "OSPF"
	case 103:
		return "PIM"
	case 108:
		return "Compressed IP"
	case 112:
		return "VRRP"
	case 113:
		return "PGM"
	case 132:
		return "SCTP"
	case 135:
		return "Mobility"
	case 143:
		return "Ethernet"
	}
	return ""
}

func (d *dissector) protoName(p uint8) {
	if name := ipProtoName(p); name != "" {
		d.s(name)
		return
	}
	d.s("unknown")
}

// ipShort is where ip_print and ip6_print stop at once: the hlen-byte
// header at off is not captured, or length does not hold it.
func (d *dissector) ipShort(off, length, hlen int, truncated string) bool {
	switch {
	case !d.has(off, hlen):
		d.trunc()
	case length < hlen:
		d.s(truncated)
		d.u(uint64(length))
	default:
		return false
	}
	return true
}

// ip is ip_print.
func (d *dissector) ip(off, length int) {
	d.proto = "ip"
	vhl := d.u8(off)
	if d.cut {
		return
	}
	if vhl>>4 != 4 {
		if vhl>>4 == 6 {
			d.s("IP6, wrong link-layer encapsulation")
		} else {
			d.s("IP")
			d.u(uint64(vhl >> 4))
		}
		d.s(" (invalid)")
		return
	}
	if !d.o.Ether {
		d.s("IP ")
	}
	if d.ipShort(off, length, 20, "truncated-ip ") {
		return
	}
	hlen := int(vhl&0xf) * 4
	if hlen < 20 {
		d.s("bad-hlen ")
		d.u(uint64(hlen))
		return
	}
	ipLen := int(d.u16(off + 2))
	if length < ipLen {
		d.s("truncated-ip - ")
		d.u(uint64(ipLen - length))
		d.s(" bytes missing! ")
	}
	if ipLen < hlen {
		d.s("bad-len ")
		d.u(uint64(ipLen))
		return
	}
	saved := d.end
	defer func() { d.end = saved }()
	if off+ipLen < d.end {
		d.end = off + ipLen
	}
	plen := ipLen - hlen
	frag := d.u16(off + 6)
	proto := d.u8(off + 9)

	if d.o.Verbose > 0 {
		tos := d.u8(off + 1)
		d.s("(tos 0x")
		d.x(uint64(tos))
		switch tos & 3 {
		case 1:
			d.s(",ECT(1)")
		case 2:
			d.s(",ECT(0)")
		case 3:
			d.s(",CE")
		}
		if ttl := d.u8(off + 8); ttl >= 1 {
			d.s(", ttl ")
			d.u(uint64(ttl))
		}
		d.s(", id ")
		d.u(uint64(d.u16(off + 4)))
		d.s(", offset ")
		d.u(uint64(frag&0x1fff) * 8)
		d.s(", flags [")
		d.bits(uint32(frag), "none", ipFragFlags)
		d.s("], proto ")
		d.protoName(proto)
		d.s(" (")
		d.u(uint64(proto))
		d.s("), length ")
		d.u(uint64(d.u16(off + 2)))
		truncated := false
		if hlen > 20 {
			d.s(", options (")
			if !d.ipOptions(off+20, hlen-20) {
				if d.cut {
					return
				}
				d.s(" [truncated-option]")
				truncated = true
			}
			d.c(')')
		}
		if off+hlen <= d.end && !d.o.NoChecksums {
			if sum := d.cksum(0, off, hlen); sum != 0 {
				got := d.u16(off + 10)
				d.s(", bad cksum ")
				d.x(uint64(got))
				d.s(" (->")
				d.x(uint64(shouldBe(got, sum)))
				d.s(")!")
			}
		}
		d.s(")\n    ")
		if truncated {
			d.ipAddrs(off, 4, ": ")
			if !d.cut {
				d.trunc()
			}
			return
		}
	}

	if frag&0x1fff != 0 {
		if !d.ipAddrs(off, 4, ":") {
			return
		}
		d.s(" ip-proto-")
		d.u(uint64(proto))
		return
	}
	if proto != protoTCP && proto != protoUDP && proto != protoSCTP && proto != protoDCCP {
		if !d.ipAddrs(off, 4, ": ") {
			return
		}
	}
	if !d.has(off, hlen) {
		d.s(" [remaining caplen(")
		d.u(uint64(d.end - off))
		d.s(") < header length(")
		d.u(uint64(hlen))
		d.s(")]")
		d.cut = true
		return
	}
	d.demux(off+hlen, plen, 4, frag&0x2000 != 0, proto, off)
}

// ipAddrs prints "src > dst" and sep for the IPv4 (version 4) or IPv6
// header at off.
func (d *dissector) ipAddrs(off, version int, sep string) bool {
	if version == 4 {
		if !d.need(off+12, 8) {
			return false
		}
		d.addr4(off + 12)
		d.s(" > ")
		d.addr4(off + 16)
	} else {
		if !d.need(off+8, 32) {
			return false
		}
		d.addr6(off + 8)
		d.s(" > ")
		d.addr6(off + 24)
	}
	d.s(sep)
	return true
}

type bitName struct {
	bit  uint32
	name string
}

var ipFragFlags = []bitName{{0x2000, "+"}, {0x4000, "DF"}, {0x8000, "rsvd"}}

// bits is bittok2str: the names of the set bits, ", " between them.
func (d *dissector) bits(v uint32, none string, names []bitName) {
	first := true
	for _, b := range names {
		if v&b.bit == 0 {
			continue
		}
		if !first {
			d.s(", ")
		}
		d.s(b.name)
		first = false
	}
	if first {
		d.s(none)
	}
}

// ipOptions is ip_optprint; false if the options are cut short.
func (d *dissector) ipOptions(off, length int) bool {
	sep := ""
	for length > 0 {
		d.s(sep)
		sep = ","
		code := d.u8(off)
		if d.cut {
			return false
		}
		switch code {
		case 0:
			d.s("EOL")
		case 1:
			d.s("NOP")
		case 68:
			d.s("timestamp")
		case 130:
			d.s("security")
		case 7:
			d.s("RR")
		case 137:
			d.s("SSRR")
		case 131:
			d.s("LSRR")
		case 148:
			d.s("RA")
		case 82:
			d.s("traceroute")
		default:
			d.s("unknown ")
			d.u(uint64(code))
		}
		optLen := 1
		if code != 0 && code != 1 {
			optLen = int(d.u8(off + 1))
			if d.cut {
				return false
			}
			if optLen < 2 {
				d.s(" [bad length ")
				d.u(uint64(optLen))
				d.c(']')
				return true
			}
		}
		if optLen > length {
			d.s(" [bad length ")
			d.u(uint64(optLen))
			d.c(']')
			return true
		}
		if !d.has(off, optLen) {
			return false
		}
		switch code {
		case 0:
			return true
		case 68:
			if !d.ipTimestamp(off, optLen) {
				return false
			}
		case 7, 137, 131:
			if !d.ipRoute(off, optLen) {
				return false
			}
		case 148:
			if optLen < 4 {
				d.s(" [bad length ")
				d.u(uint64(optLen))
				d.c(']')
				break
			}
			if v := d.u16(off + 2); v != 0 {
				d.s(" value ")
				d.u(uint64(v))
			}
		}
		off += optLen
		length -= optLen
	}
	return true
}

// ipRoute is ip_printroute.
func (d *dissector) ipRoute(off, length int) bool {
	if length < 3 {
		d.s(" [bad length ")
		d.u(uint64(length))
		d.c(']')
		return true
	}
	if (length+1)&3 != 0 {
		d.s(" [bad length ")
		d.u(uint64(length))
		d.c(']')
	}
	p := d.u8(off + 2)
	if d.cut {
		return false
	}
	ptr := uint32(p) - 1 // unsigned in tcpdump: a zero pointer is huge
	if ptr < 3 || (ptr+1)&3 != 0 || ptr > uint32(length+1) {
		d.s(" [bad ptr ")
		d.u(uint64(p))
		d.c(']')
	}
	for l := 3; l < length; l += 4 {
		if !d.has(off+l, 4) {
			return false
		}
		d.c(' ')
		d.addr4(off + l)
		if ptr > uint32(l) {
			d.c(',')
		}
	}
	return true
}

// ipTimestamp is ip_printts.
func (d *dissector) ipTimestamp(off, length int) bool {
	if length < 4 {
		d.s("[bad length ")
		d.u(uint64(length))
		d.c(']')
		return true
	}
	d.s(" TS{")
	flags := d.u8(off + 3)
	hoplen := 8
	if flags&0xf == 0 {
		hoplen = 4
	}
	if (length-4)&(hoplen-1) != 0 {
		d.s("[bad length ")
		d.u(uint64(length))
		d.c(']')
	}
	p := d.u8(off + 2)
	if d.cut {
		return false
	}
	ptr := uint32(p) - 1
	l := 0
	if ptr < 4 || (ptr-4)&uint32(hoplen-1) != 0 || ptr > uint32(length+1) {
		d.s("[bad ptr ")
		d.u(uint64(p))
		d.c(']')
	}
	switch flags & 0xf {
	case 0:
		d.s("TSONLY")
	case 1:
		d.s("TS+ADDR")
	case 3:
		d.s("PRESPEC")
	default:
		d.s("[bad ts type ")
		d.u(uint64(flags & 0xf))
		d.c(']')
		goto done
	}
	for l = 4; l < length; l += hoplen {
		typ := " "
		if ptr == uint32(l) {
			typ = " ^ "
		}
		if !d.has(off+l, hoplen) {
			return false
		}
		d.s(typ)
		d.u(uint64(d.u32(off + l + hoplen - 4)))
		d.c('@')
		if hoplen == 8 {
			d.addr4(off + l)
		}
	}
done:
	if ptr == uint32(l) {
		d.s(" ^ ")
	}
	if flags>>4 != 0 {
		d.s(" [")
		d.u(uint64(flags >> 4))
		d.s(" hops not recorded]} ")
	} else {
		d.c('}')
	}
	return true
}

// demux is ip_demux_print: the upper layer of IPv4 (ver 4) or IPv6.
// ipOff is where the IP header starts.
func (d *dissector) demux(off, length, ver int, fragmented bool, proto uint8, ipOff int) {
	for proto == protoAH { // tcpdump goes on with the header after AH
		if !d.has(off, 1) {
			d.proto = "ah"
			d.trunc()
			return
		}
		next := d.data[off]
		n := d.ah(off)
		if n <= 0 {
			return
		}
		// tcpdump's length is unsigned: a header longer wraps it.
		off, length, proto = off+n, int(uint32(length-n)), next
	}
	switch proto {
	case protoESP:
		d.esp(off, length)
	case protoIPComp:
		d.ipcomp(off)
	case protoTCP:
		d.tcp(off, length, ipOff, ver, fragmented)
	case protoUDP:
		d.udp(off, length, ipOff, ver, fragmented)
	case protoICMP:
		if ver != 4 {
			d.s("[ICMP requires IPv4] (invalid)")
			return
		}
		d.icmp(off, length, ipOff, fragmented)
	case protoICMPv6:
		if ver != 6 {
			d.s("[ICMPv6 requires IPv6] (invalid)")
			return
		}
		d.icmp6(off, length, ipOff, fragmented)
	case protoIPv4:
		d.ip(off, length)
	case protoIPv6:
		d.ip6(off, length)
	case 143: // Ethernet, RFC 8986
		if ver != 6 {
			d.s("[Ethernet requires IPv6] (invalid)")
			return
		}
		d.etherAt(off, length)
	case protoNone:
		d.s("no next header")
	default:
		d.s(" ip-proto-")
		d.u(uint64(proto))
		d.c(' ')
		d.u(uint64(length))
	}
}

// icmpType is icmp2str, the ICMP types printed by name alone.
func icmpType(t uint8) string {
	switch t {
	case 0:
		return "echo reply"
	case 4:
		return "source quench"
	case 8:
		return "echo request"
	case 10:
		return "router solicitation"
	case 13:
		return "time stamp request"
	case 14:
		return "time stamp reply"
	case 15:
		return "information request"
	case 16:
		return "information reply"
	case 17:
		return "address mask request"
	}
	return ""
}

// icmpUnreach is the text of each destination unreachable code; %s is
// where the quoted destination goes.
var icmpUnreach = [16][2]string{
	0:  {"net ", " unreachable"},
	1:  {"host ", " unreachable"},
	5:  {"", " unreachable - source route failed"},
	6:  {"net ", " unreachable - unknown"},
	7:  {"host ", " unreachable - unknown"},
	8:  {"", " unreachable - source host isolated"},
	9:  {"net ", " unreachable - admin prohibited"},
	10: {"host ", " unreachable - admin prohibited"},
	11: {"net ", " unreachable - tos prohibited"},
	12: {"host ", " unreachable - tos prohibited"},
	13: {"host ", " unreachable - admin prohibited filter"},
	14: {"host ", " unreachable - host precedence violation"},
	15: {"host ", " unreachable - precedence cutoff"},
}

// icmpBufMax is how much text icmp_print's buffer holds.
const icmpBufMax = 64 + 100 - 1

// icmp is icmp_print. ipOff is where the enclosing IPv4 header starts.
func (d *dissector) icmp(off, plen, ipOff int, fragmented bool) {
	d.proto = "icmp"
	typ := d.u8(off)
	code := d.u8(off + 1)
	if d.cut {
		return
	}
	// Everything a case prints goes into the line only once all of it
	// was read: tcpdump formats into a buffer first.
	mark := len(d.out)
	d.s("ICMP ")
	quoted := off + 8 // the quoted IP header of an error
	switch typ {
	case 0, 8:
		id, seq := d.u16(off+4), d.u16(off+6)
		if d.cut {
			break
		}
		if typ == 8 {
			d.s("echo request, id ")
		} else {
			d.s("echo reply, id ")
		}
		d.u(uint64(id))
		d.s(", seq ")
		d.u(uint64(seq))
	case 3:
		switch {
		case code == 2:
			d.addr4(quoted + 16)
			d.s(" protocol ")
			d.u(uint64(d.u8(quoted + 9)))
			d.s(" unreachable")
		case code == 3:
			if !d.has(quoted+9, 1) {
				d.out = d.out[:mark]
				d.trunc()
				return
			}
			hl := int(d.u8(quoted)&0xf) * 4
			dport := d.u16(quoted + hl + 2)
			p := d.u8(quoted + 9)
			d.addr4(quoted + 16)
			d.port(p, dport)
			d.s(" unreachable")
		case code == 4:
			mtu := d.u16(off + 6)
			d.addr4(quoted + 16)
			d.s(" unreachable - need to frag")
			if mtu != 0 {
				d.s(" (mtu ")
				d.u(uint64(mtu))
				d.c(')')
			}
		case int(code) < len(icmpUnreach) && icmpUnreach[code][1] != "":
			d.s(icmpUnreach[code][0])
			d.addr4(quoted + 16)
			d.s(icmpUnreach[code][1])
		default:
			d.addr4(quoted + 16)
			d.s(" unreachable - #")
			d.u(uint64(code))
		}
	case 5:
		if !d.need(quoted+16, 4) || !d.need(off+4, 4) {
			break
		}
		switch code {
		case 0:
			d.s("redirect ")
		case 1:
			d.s("redirect ")
		case 2, 3:
			d.s("redirect-tos ")
		default:
			d.s("redirect-#")
			d.u(uint64(code))
			d.c(' ')
		}
		d.addr4(quoted + 16)
		switch code {
		case 0, 2:
			d.s(" to net ")
		case 1, 3:
			d.s(" to host ")
		default:
			d.s(" to ")
		}
		d.addr4(off + 4)
	case 9:
		if !d.routerAdvert(off, mark) {
			return
		}
	case 11:
		if !d.has(quoted+16, 4) {
			d.out = d.out[:mark]
			d.trunc()
			return
		}
		switch code {
		case 0:
			d.s("time exceeded in-transit")
		case 1:
			d.s("ip reassembly time exceeded")
		default:
			d.s("time exceeded-#")
			d.u(uint64(code))
		}
	case 12:
		if code != 0 {
			d.s("parameter problem - code ")
			d.u(uint64(code))
		} else {
			ptr := d.u8(off + 4)
			d.s("parameter problem - octet ")
			d.u(uint64(ptr))
		}
	case 18:
		mask := d.u32(off + 8)
		d.s("address mask is 0x")
		d.xw(uint64(mask), 8)
	case 13:
		id, seq := d.u16(off+4), d.u16(off+6)
		d.s("time stamp query id ")
		d.u(uint64(id))
		d.s(" seq ")
		d.u(uint64(seq))
	case 14:
		if !d.has(off+16, 4) {
			d.out = d.out[:mark]
			d.trunc()
			return
		}
		id, seq := d.u16(off+4), d.u16(off+6)
		d.s("time stamp reply id ")
		d.u(uint64(id))
		d.s(" seq ")
		d.u(uint64(seq))
		d.s(": org ")
		d.msTime(d.u32(off + 8))
		d.s(", recv ")
		d.msTime(d.u32(off + 12))
		d.s(", xmit ")
		d.msTime(d.u32(off + 16))
	default:
		d.nameOr(icmpType(typ), "type-#", uint64(typ), "")
	}
	if d.cut {
		d.out = d.out[:mark]
		return
	}
	// tcpdump formats the text into a buffer of MAXHOSTNAMELEN+100 bytes:
	// a long router advertisement is cut where the buffer ends.
	if text := mark + len("ICMP "); len(d.out)-text > icmpBufMax {
		d.out = d.out[:text+icmpBufMax]
	}
	d.s(", length ")
	d.u(uint64(plen))
	if d.o.Verbose > 0 && !fragmented && d.has(off, plen) {
		if sum := d.cksum(0, off, plen); sum != 0 {
			got := d.u16(off + 2)
			if d.cut {
				return
			}
			d.s(" (wrong icmp cksum ")
			d.x(uint64(got))
			d.s(" (->")
			d.x(uint64(shouldBe(got, sum)))
			d.s(")!)")
		}
	}
	if d.o.Verbose > 0 && (typ == 3 || typ == 4 || typ == 5 || typ == 11 || typ == 12) {
		d.s("\n\t")
		saved := d.end
		ipLen := int(d.u16(quoted + 2))
		if d.cut {
			return
		}
		if quoted+ipLen < d.end {
			d.end = quoted + ipLen
		}
		ipLen = int(d.u16(quoted + 2)) // read again under the new end
		if d.cut {
			return
		}
		d.ip(quoted, ipLen)
		if d.cut {
			return
		}
		d.end = saved
	}
	d.proto = "icmp"
	if d.o.Verbose > 0 && plen > 136 && (typ == 3 || typ == 11 || typ == 12) {
		d.icmpExtensions(off, plen)
	}
}

// msTime is icmp_tstamp_print: milliseconds since midnight UTC.
func (d *dissector) msTime(t uint32) {
	ms := t % 1000
	sec := t / 1000
	min := sec / 60
	sec -= min * 60
	hrs := min / 60
	min -= hrs * 60
	d.out = appendPad(d.out, uint64(hrs), 10, 2)
	d.c(':')
	d.out = appendPad(d.out, uint64(min), 10, 2)
	d.c(':')
	d.out = appendPad(d.out, uint64(sec), 10, 2)
	d.c('.')
	d.out = appendPad(d.out, uint64(ms), 10, 3)
}

// routerAdvert prints an ICMP router advertisement; false if it ended the
// line.
func (d *dissector) routerAdvert(off, mark int) bool {
	d.s("router advertisement")
	if !d.has(off+4, 4) {
		d.out = d.out[:mark]
		d.trunc()
		return false
	}
	d.s(" lifetime ")
	life := uint64(d.u16(off + 6))
	switch {
	case life < 60:
		d.u(life)
	case life < 3600:
		d.u(life / 60)
		d.c(':')
		d.out = appendPad(d.out, life%60, 10, 2)
	default:
		d.u(life / 3600)
		d.c(':')
		d.out = appendPad(d.out, life%3600/60, 10, 2)
		d.c(':')
		d.out = appendPad(d.out, life%60, 10, 2)
	}
	num := int(d.u8(off + 4))
	d.c(' ')
	d.u(uint64(num))
	d.c(':')
	if size := d.u8(off + 5); size != 2 {
		d.s(" [size ")
		d.u(uint64(size))
		d.c(']')
		return true
	}
	p := off + 8
	for ; num > 0; num-- {
		if !d.has(p, 8) {
			d.out = d.out[:mark]
			d.trunc()
			return false
		}
		d.s(" {")
		d.addr4(p)
		d.c(' ')
		d.u(uint64(d.u32(p + 4)))
		d.c('}')
		p += 8
	}
	return true
}

// icmpExtensions prints RFC 4884 multi-part extensions after an error's
// 128-byte quote.
func (d *dissector) icmpExtensions(off, plen int) {
	ext := off + 8 + 128 // version and reserved, checksum, objects
	if !d.has(off, 141) {
		d.trunc()
		return
	}
	hlen := plen - 136
	if d.u8(off+5) == 0 && d.has(ext, hlen) {
		if d.cksum(0, ext, hlen) != 0 {
			return
		}
	}
	version := d.u8(ext) >> 4
	d.s("\n\tICMP Multi-Part extension v")
	d.u(uint64(version))
	if version != 2 {
		d.s(" packet not supported")
		return
	}
	if d.has(ext, hlen) {
		d.s(", checksum 0x")
		d.xw(uint64(d.u16(ext+2)), 4)
		if d.cksum(0, ext, hlen) != 0 {
			d.s(" (incorrect)")
		} else {
			d.s(" (correct)")
		}
		d.s(", length ")
		d.u(uint64(hlen))
	}
	hlen -= 4
	p := ext + 4
	for hlen > 4 {
		if !d.has(p, 4) {
			d.trunc()
			return
		}
		objLen := int(d.u16(p))
		class := d.u8(p + 2)
		ctype := d.u8(p + 3)
		p += 4
		d.s("\n\t  ")
		switch class {
		case 1:
			d.s("MPLS Stack Entry")
		case 2:
			d.s("Interface Identification")
		default:
			d.s("unknown")
		}
		d.s(" Object (")
		d.u(uint64(class))
		d.s("), Class-Type: ")
		d.u(uint64(ctype))
		d.s(", length ")
		d.u(uint64(objLen))
		hlen -= 4
		if class == 0 || objLen < 4 {
			return
		}
		objLen -= 4
		if class == 1 && ctype == 1 {
			label := d.u32(p)
			if d.cut {
				return
			}
			d.s("\n\t    label ")
			d.u(uint64(label >> 12))
			d.s(", tc ")
			d.u(uint64(label >> 9 & 7))
			if label&0x100 != 0 {
				d.s(", [S]")
			}
			d.s(", ttl ")
			d.u(uint64(label & 0xff))
		} else {
			d.hexDump("\n\t    ", p, objLen)
		}
		if hlen < objLen {
			break
		}
		hlen -= objLen
		p += objLen
	}
}
