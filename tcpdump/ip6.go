package tcpdump

// IPv6 and ICMPv6: tcpdump's print-ip6.c, print-ip6opts.c, print-frag6.c
// and print-icmp6.c.

// ip6 is ip6_print.
func (d *dissector) ip6(off, length int) {
	d.proto = "ip6"
	if d.ipShort(off, length, 40, "truncated-ip6 ") {
		return
	}
	if !d.o.Ether {
		d.s("IP6 ")
	}
	if v := d.u8(off) >> 4; v != 6 {
		d.s("version error: ")
		d.u(uint64(v))
		d.s(" != 6")
		return
	}
	plen := int(d.u16(off + 4))
	total := plen + 40
	if plen != 0 {
		if length < total {
			d.s("truncated-ip6 - ")
			d.u(uint64(total - length))
			d.s(" bytes missing!")
		}
	} else {
		// Perhaps a jumbogram: walk the headers to find its length.
		total = length + 40
	}
	nh := d.u8(off + 6)
	if d.o.Verbose > 0 {
		flow := d.u32(off)
		d.c('(')
		if flow&0x0ff00000 != 0 {
			d.s("class 0x")
			d.xw(uint64(flow&0x0ff00000>>20), 2)
			d.s(", ")
		}
		if flow&0x000fffff != 0 {
			d.s("flowlabel 0x")
			d.xw(uint64(flow&0x000fffff), 5)
			d.s(", ")
		}
		d.s("hlim ")
		d.u(uint64(d.u8(off + 7)))
		d.s(", next-header ")
		d.protoName(nh)
		d.s(" (")
		d.u(uint64(nh))
		d.s(") payload length: ")
		d.u(uint64(plen))
		d.s(") ")
	}
	if d.cut {
		return
	}
	saved := d.end
	defer func() { d.end = saved }()
	if off+total < d.end {
		d.end = off + total
	}
	cp := off
	advance := 40
	remaining := total
	consumed := 0
	fragmented, foundExt, foundHBH := false, false, false
	d.jumbo, d.jumboLen = false, 0
	prev := -1 // the previous header's type; -1: the IPv6 header
	for cp < d.end && advance > 0 {
		if remaining < advance {
			d.trunc()
			return
		}
		cp += advance
		remaining -= advance
		consumed += advance
		if cp == off+40 && nh != protoTCP && nh != protoUDP && nh != protoDCCP && nh != protoSCTP {
			if !d.ipAddrs(off, 6, ": ") {
				return
			}
		}
		switch nh {
		case protoHopOpts:
			if foundHBH {
				d.s("[The Hop-by-Hop Options header was already found] (invalid)")
				return
			}
			if prev != -1 {
				d.s("[The Hop-by-Hop Options header don't follow the IPv6 header] (invalid)")
				return
			}
			advance = d.ip6Options(cp, nh, plen == 0)
			if d.cut {
				return
			}
			if plen == 0 && !d.jumbo {
				d.s("[No valid Jumbo Payload Hop-by-Hop option found] (invalid)")
				return
			}
			if advance < 0 {
				return
			}
			foundExt, foundHBH = true, true
			nh = d.u8(cp)
		case protoDstOpts:
			advance = d.ip6Options(cp, nh, false)
			if advance < 0 || d.cut {
				return
			}
			foundExt = true
			nh = d.u8(cp)
		case protoFragment:
			advance = d.frag6(cp, off)
			if d.cut || advance < 0 || d.end <= cp+advance {
				return
			}
			foundExt = true
			nh = d.u8(cp)
			fragmented = true
		case protoRouting:
			if !d.has(cp, 1) {
				d.trunc()
				return
			}
			advance = d.rt6(cp)
			if advance < 0 || d.cut {
				return
			}
			foundExt = true
			nh = d.u8(cp)
		case 135, 62:
			// tcpdump prints nothing after a mobility header.
			d.mobility(cp)
			return
		default:
			if d.jumbo {
				total = int(d.jumboLen) + 40
				if total < consumed {
					d.trunc()
					return
				}
				if length < total {
					d.s("truncated-ip6 - ")
					d.u(uint64(total - length))
					d.s(" bytes missing!")
				}
				d.end = min(saved, off+total)
				remaining = total - consumed
			} else if plen == 0 {
				if foundExt {
					d.trunc()
					return
				}
				d.end = min(saved, off+40)
				remaining = 0
			}
			d.demux(cp, remaining, 6, fragmented, nh, off)
			return
		}
		if d.cut {
			return
		}
		prev = int(nh)
		d.proto = "ip6"
	}
}

// ip6Options is hbhopt_print and dstopt_print: the header's length, or -1.
func (d *dissector) ip6Options(off int, nh uint8, jumboOK bool) int {
	name := "HBH "
	d.proto = "hbhopt"
	if nh == protoDstOpts {
		name = "DSTOPT "
		d.proto = "dstopt"
	}
	hlen := (int(d.u8(off+1)) + 1) << 3
	if d.cut {
		return -1
	}
	if !d.has(off, hlen) {
		d.trunc()
		return -1
	}
	d.s(name)
	d.jumboOK = jumboOK && nh == protoHopOpts
	// Hop-by-hop options are always walked, for a jumbo payload option;
	// destination options only to print them.
	if (nh == protoHopOpts || d.o.Verbose > 0) && !d.ip6Opt(off+2, hlen-2) {
		if !d.cut {
			d.trunc()
		}
		return -1
	}
	return hlen
}

// ip6Opt is ip6_opt_process: it checks the options always and prints
// them under -v; false where tcpdump goes to trunc.
func (d *dissector) ip6Opt(off, length int) bool {
	v := d.o.Verbose > 0
	if length == 0 {
		return true
	}
	optLen := 0
	for i := 0; i < length; i += optLen {
		t, n, ok := d.tlv(off, i, length)
		if !ok {
			return false
		}
		optLen = n
		switch t {
		case 0:
			if v {
				d.s("(pad1)")
			}
		case 1:
			if length-i < 2 {
				d.s("(padn: trunc)")
				return false
			}
			if v {
				d.s("(padn)")
			}
		case 5:
			if !d.ip6OptFits("rtalert", off+i, length-i, 4, 2, 2) {
				return false
			}
			if v {
				d.s("(rtalert: 0x")
				d.xw(uint64(d.u16(off+i+2)), 4)
				d.s(") ")
			}
		case 0xc2:
			if !d.ip6OptFits("jumbo", off+i, length-i, 6, 4, 4) {
				return false
			}
			jl := d.u32(off + i + 2)
			mark := len(d.out)
			d.s("(jumbo: ")
			d.u(uint64(jl))
			switch {
			case !d.jumboOK:
				d.s(" - payload len != 0")
			case d.jumbo:
				d.s(" - already seen")
			case jl < 65536:
				d.s(" - < 65536")
			default:
				d.jumbo, d.jumboLen = true, jl
			}
			d.s(") ")
			if !v {
				d.out = d.out[:mark]
			}
		case 0xc9:
			if !d.ip6OptFits("homeaddr", off+i, length-i, 18, 16, 255) {
				return false
			}
			if v {
				if !d.need(off+i+2, 16) {
					return false
				}
				d.s("(homeaddr: ")
				d.addr6(off + i + 2)
				if d.data[off+i+1] > 16 && !d.ip6SubOpt(off+i+18, optLen-18) {
					return false
				}
				d.s(")")
			}
		default:
			if length-i < 2 {
				d.s("(type ")
				d.u(uint64(t))
				d.s(": trunc)")
				return false
			}
			if v {
				d.s("(opt_type 0x")
				d.xw(uint64(t), 2)
				d.s(": len=")
				d.u(uint64(d.u8(off + i + 1)))
				d.c(')')
			}
		}
		if d.cut {
			return false
		}
	}
	if v {
		d.c(' ')
	}
	return true
}

// tlv reads the option at offset i of the option area at off, length
// bytes long, as tcpdump's option loops read it: type 0 is Pad1, one byte;
// any other a type, a length and that much data. n is the option's size;
// ok is false where tcpdump goes to trunc.
func (d *dissector) tlv(off, i, length int) (t uint8, n int, ok bool) {
	t = d.u8(off + i)
	if d.cut {
		return 0, 0, false
	}
	if t == 0 {
		return 0, 1, true
	}
	if i+1 >= length {
		return t, 0, false
	}
	n = int(d.u8(off+i+1)) + 2
	if d.cut || i+n > length {
		return t, 0, false
	}
	return t, n, true
}

// ip6SubOpt is ip6_sopt_print: the sub-options of a home address option;
// false where tcpdump goes to trunc.
func (d *dissector) ip6SubOpt(off, length int) bool {
	n := 0
	for i := 0; i < length; i += n {
		var t uint8
		var ok bool
		if t, n, ok = d.tlv(off, i, length); !ok {
			return false
		}
		switch {
		case t == 0:
			d.s(", pad1")
		case length-i < 2:
			if t == 1 {
				d.s(", padn: trunc")
			} else {
				d.s(", sopt_type ")
				d.u(uint64(t))
				d.s(": trunc)")
			}
			return false
		case t == 1:
			d.s(", padn")
		default:
			d.s(", sopt_type 0x")
			d.xw(uint64(t), 2)
			d.s(": len=")
			d.u(uint64(d.data[off+i+1]))
		}
	}
	return true
}

// ip6OptFits is ip6_opt_print's check of the option at off, rest bytes
// before the end of the options: it needs room bytes and a length field
// from lo to hi. Where it does not fit, it says so and returns false.
func (d *dissector) ip6OptFits(name string, off, rest, room int, lo, hi uint8) bool {
	if rest < room {
		d.c('(')
		d.s(name)
		d.s(": trunc)")
		return false
	}
	if l := d.u8(off + 1); l < lo || l > hi {
		d.c('(')
		d.s(name)
		d.s(": invalid len ")
		d.u(uint64(l))
		d.c(')')
		return false
	}
	return true
}

// frag6 is frag6_print: the header's length, or -1 after a later fragment.
func (d *dissector) frag6(off, ipOff int) int {
	d.proto = "frag6"
	var ident uint32
	if d.o.Verbose > 0 {
		ident = d.u32(off + 4)
	}
	offlg := d.u16(off + 2)
	plen := d.u16(ipOff + 4)
	if d.cut {
		return -1
	}
	size := uint64(40) + uint64(plen) - uint64(off-ipOff) - 8 // size_t in tcpdump
	if d.o.Verbose > 0 {
		d.s("frag (0x")
		d.xw(uint64(ident), 8)
		d.c(':')
	} else {
		d.s("frag (")
	}
	d.u(uint64(offlg & 0xfff8))
	d.c('|')
	d.u(uint64(size))
	d.c(')')
	if offlg&0xfff8 != 0 {
		return -1
	}
	d.c(' ')
	return 8
}

// rt6 is rt6_print: routing header types 0, 2 (mobile IPv6) and 4
// (segment routing, RFC 8754); the header's length, or -1.
func (d *dissector) rt6(off int) int {
	d.proto = "rt6"
	d.s("RT6")
	hlen := int(d.u8(off + 1))
	if d.cut {
		return -1
	}
	d.s(" (len=")
	d.u(uint64(hlen))
	typ := d.u8(off + 2)
	if d.cut {
		return -1
	}
	d.s(", type=")
	d.u(uint64(typ))
	if typ == 0 {
		d.s(" [Deprecated]")
	}
	left := d.u8(off + 3)
	if d.cut {
		return -1
	}
	d.s(", segleft=")
	d.u(uint64(left))
	switch typ {
	case 0, 2:
		rsv := d.u32(off + 4)
		if d.cut {
			return -1
		}
		if rsv != 0 || d.o.Verbose > 0 {
			d.s(", rsv=0x")
			d.x(uint64(rsv))
		}
	case 4:
		last := d.u8(off + 4)
		if d.cut {
			return -1
		}
		d.s(", last-entry=")
		d.u(uint64(last))
		flags := d.u8(off + 5)
		if d.cut {
			return -1
		}
		if flags != 0 || d.o.Verbose > 0 {
			d.s(", flags=0x")
			d.x(uint64(flags))
		}
		tag := d.u16(off + 6)
		if d.cut {
			return -1
		}
		d.s(", tag=")
		d.x(uint64(tag))
	default:
		d.s(" (unknown type) (invalid)")
		return -1
	}
	if hlen%2 == 1 {
		d.s(" (invalid length ")
		d.u(uint64(hlen))
		d.s(") (invalid)")
		return -1
	}
	for i, a := 0, off+8; i < hlen/2; i, a = i+1, a+16 {
		if !d.need(a, 16) {
			return -1
		}
		d.s(", [")
		d.u(uint64(i))
		d.s("]")
		d.addr6(a)
	}
	d.s(") ")
	return (hlen + 1) << 3
}

// icmp6Dst is the destination of the ICMPv6 pseudo-header: the final one
// of a type 0, 2 or 4 routing header, as tcpdump's ip6_finddst.
func (d *dissector) icmp6Dst(ipOff int) int {
	nh := d.data[ipOff+6]
	dst := ipOff + 24
	switch nh {
	case protoHopOpts, protoDstOpts, protoFragment, protoRouting, 135, 62:
	default:
		return dst
	}
	cp := ipOff + 40
	for {
		switch nh {
		case protoHopOpts, protoDstOpts, protoRouting:
			if !d.has(cp, 2) {
				return dst
			}
			hl := (int(d.data[cp+1]) + 1) << 3
			if nh == protoRouting {
				if !d.has(cp, 4) {
					return dst
				}
				typ, hl := d.data[cp+2], int(d.data[cp+1])
				if hl%2 == 1 {
					return dst
				}
				switch typ {
				case 0, 2: // the last captured address
					for a := cp + 8; a < cp+8+hl*8 && d.has(a, 16); a += 16 {
						dst = a
					}
				case 4: // segments are in reverse order: the final one is first
					if d.has(cp+8, 16) {
						dst = cp + 8
					}
				}
				return dst
			}
			nh = d.data[cp]
			cp += hl
		case protoFragment:
			if !d.has(cp, 8) {
				return dst
			}
			nh = d.data[cp]
			cp += 8
		default:
			return dst
		}
	}
}

// icmp6Type is icmp6_type_values.
func icmp6Type(t uint8) string {
	switch t {
	case 1:
		return "destination unreachable"
	case 2:
		return "packet too big"
	case 3:
		return "time exceeded in-transit"
	case 4:
		return "parameter problem"
	case 128:
		return "echo request"
	case 129:
		return "echo reply"
	case 130:
		return "multicast listener query"
	case 131:
		return "multicast listener report"
	case 132:
		return "multicast listener done"
	case 133:
		return "router solicitation"
	case 134:
		return "router advertisement"
	case 135:
		return "neighbor solicitation"
	case 136:
		return "neighbor advertisement"
	case 137:
		return "redirect"
	case 138:
		return "router renumbering"
	case 139: // tcpdump's table names node information by its KAME name first
		return "who-are-you request"
	case 140:
		return "who-are-you reply"
	case 141:
		return "inverse neighbor solicitation"
	case 142:
		return "inverse neighbor advertisement"
	case 143:
		return "multicast listener report v2"
	case 144:
		return "ha discovery request"
	case 145:
		return "ha discovery reply"
	case 146:
		return "mobile router solicitation"
	case 147:
		return "mobile router advertisement"
	case 200:
		return "mtrace response"
	case 201:
		return "mtrace message"
	case 155:
		return "RPL"
	}
	return ""
}

// icmp6 is icmp6_print. ipOff is where the IPv6 header starts.
func (d *dissector) icmp6(off, length, ipOff int, fragmented bool) {
	d.proto = "icmp6"
	oip := off + 8 // the quoted packet of an error
	if length == 0 {
		d.s("ICMP6, length 0 (invalid)")
		return
	}
	if d.o.Verbose > 0 && !fragmented && d.has(off, length) {
		got := d.u16(off + 2)
		if d.cut {
			return
		}
		d.sumVerdict("icmp6", got, d.cksum(d.pseudoSum(ipOff, 6, protoICMPv6, length), off, length))
	}
	typ := d.u8(off)
	if d.cut {
		return
	}
	d.s("ICMP6, ")
	d.nameOr(icmp6Type(typ), "unknown icmp6 type (", uint64(typ), ")")
	if d.o.Verbose > 0 && (typ == 133 || typ == 134 || typ == 136 || typ == 135 || typ == 137 || typ == 145 || typ == 147) {
		d.s(", length ")
		d.u(uint64(length))
	}
	code := d.u8(off + 1)
	if d.cut {
		return
	}
	switch typ {
	case 1:
		d.s(", ")
		switch code {
		case 0:
			d.s("unreachable route")
		case 1:
			d.s(" unreachable prohibited")
		case 2:
			d.s("beyond scope")
		case 3:
			d.s("unreachable address")
		case 4:
			d.s("unreachable port")
		default:
			d.s("unknown unreach code (")
			d.u(uint64(code))
			d.c(')')
		}
		switch code {
		case 0, 1, 3:
			if !d.need(oip+24, 16) {
				return
			}
			d.c(' ')
			d.addr6(oip + 24)
		case 2:
			if !d.need(oip+8, 32) {
				return
			}
			d.c(' ')
			d.addr6(oip + 24)
			d.s(", source address ")
			d.addr6(oip + 8)
		case 4:
			up, prot := d.upperLayer(oip)
			if up < 0 {
				d.trunc()
				return
			}
			dport := d.u16(up + 2)
			if !d.need(oip+24, 16) {
				return
			}
			d.s(", ")
			d.addr6(oip + 24)
			d.port(prot, dport)
			if prot != protoTCP && prot != protoUDP {
				// tcpdump's ICMPv6 printer says so only here.
				d.s(" unreachable")
			}
		default:
			if d.o.Verbose <= 1 {
				d.hexDump("\n\t", off, length)
				return
			}
		}
	case 2:
		mtu := d.u32(off + 4)
		if d.cut {
			return
		}
		d.s(", mtu ")
		d.u(uint64(mtu))
	case 3:
		switch code {
		case 0:
			if !d.need(oip+24, 16) {
				return
			}
			d.s(" for ")
			d.addr6(oip + 24)
		case 1:
			d.s(" (reassembly)")
		default:
			d.s(", unknown code (")
			d.u(uint64(code))
			d.c(')')
		}
	case 4:
		if !d.has(oip+24, 16) {
			d.trunc()
			return
		}
		ptr := d.u32(off + 4)
		switch code {
		case 0:
			d.s(", erroneous - octet ")
		case 1:
			d.s(", next header - octet ")
		case 2:
			d.s(", option - octet ")
		case 3:
			d.s(", incomplete header chain - octet ")
		default:
			d.s(", code-#")
			d.u(uint64(code))
		}
		if code <= 3 {
			d.u(uint64(ptr))
		}
	case 128, 129:
		id, seq := d.u16(off+4), d.u16(off+6)
		if d.cut {
			return
		}
		d.s(", id ")
		d.u(uint64(id))
		d.s(", seq ")
		d.u(uint64(seq))
	case 133:
		d.ndOptionsV(off+8, length-8)
	case 134:
		if d.o.Verbose > 0 {
			if !d.need(off, 16) {
				return
			}
			flags := d.u8(off + 5)
			d.s("\n\thop limit ")
			d.u(uint64(d.u8(off + 4)))
			d.s(", Flags [")
			d.bits(uint32(flags), "none", raFlags)
			d.s("], pref ")
			d.s(rtPref(flags))
			d.s(", router lifetime ")
			d.u(uint64(d.u16(off + 6)))
			d.s("s, reachable time ")
			d.u(uint64(d.u32(off + 8)))
			d.s("ms, retrans timer ")
			d.u(uint64(d.u32(off + 12)))
			d.s("ms")
			d.ndOptionsV(off+16, length-16)
		}
	case 135, 136: // neighbor solicitation and advertisement
		if !d.need(off+8, 16) {
			return
		}
		if typ == 135 {
			d.s(", who has ")
		} else {
			d.s(", tgt is ")
		}
		d.addr6(off + 8)
		if typ == 136 && d.o.Verbose > 0 {
			d.s(", Flags [")
			d.bits(d.u32(off+4), "none", naFlags)
			d.c(']')
		}
		d.ndOptionsV(off+24, length-24)
	case 137:
		if !d.need(off+8, 32) {
			return
		}
		d.s(", ")
		d.addr6(off + 24)
		d.s(" to ")
		d.addr6(off + 8)
		d.ndOptionsV(off+40, length-40)
	case 130:
		switch {
		case length == 24:
			d.mld(off)
		case length >= 28:
			d.s(" v2")
			d.mldQuery(off, length)
		default:
			d.s(" unknown-version (len ")
			d.u(uint64(length))
			d.s(") ")
		}
	case 131, 132:
		d.mld(off)
	case 138:
		d.routerRenumbering(off)
	case 139, 140:
		d.nodeInfo(off, length)
	case 143:
		d.mldReport(off, length)
	case 145:
		if d.o.Verbose > 0 {
			id := d.u16(off + 4)
			if d.cut {
				return
			}
			d.s(", id 0x")
			d.xw(uint64(id), 4)
			for p := off + 8; p < off+length; p += 16 {
				if !d.need(p, 16) {
					return
				}
				d.s(", ")
				d.addr6(p)
			}
		}
	case 147:
		if d.o.Verbose > 0 {
			id := d.u16(off + 4)
			if d.cut {
				return
			}
			d.s(", id 0x")
			d.xw(uint64(id), 4)
			flags := d.u16(off + 6)
			if d.cut {
				return
			}
			if flags&0xc000 != 0 {
				d.c(' ')
			}
			if flags&0x8000 != 0 {
				d.c('M')
			}
			if flags&0x4000 != 0 {
				d.c('O')
			}
			d.ndOptionsV(off+8, length-8)
		}
	case 155:
		d.rpl(code, off+4, length-4)
	case 141, 142:
	case 144, 146:
		id := d.u16(off + 4)
		if d.cut {
			return
		}
		d.s(", id 0x")
		d.xw(uint64(id), 4)
	default:
		d.s(", length ")
		d.u(uint64(length))
		if d.o.Verbose <= 1 {
			d.hexDump("\n\t", off, length)
		}
		return
	}
	if d.cut {
		return
	}
	if d.o.Verbose == 0 {
		d.s(", length ")
		d.u(uint64(length))
	}
}

var (
	raFlags = []bitName{{0x80, "managed"}, {0x40, "other stateful"}, {0x20, "home agent"}, {0x02, "ipv6 only"}}
	naFlags = []bitName{{0x80000000, "router"}, {0x40000000, "solicited"}, {0x20000000, "override"}}
	piFlags = []bitName{{0x80, "onlink"}, {0x40, "auto"}, {0x20, "router"}}
)

// upperLayer is get_upperlayer: where the TCP or UDP header of the quoted
// IPv6 packet at off starts and its protocol; -1 if it has none.
func (d *dissector) upperLayer(off int) (int, uint8) {
	if !d.has(off+6, 1) {
		return -1, 0
	}
	nh := d.data[off+6]
	hlen := 40
	for bp := off; bp < d.end; {
		bp += hlen
		switch nh {
		case protoUDP, protoTCP:
			if d.has(bp+2, 2) {
				return bp, nh
			}
			return -1, nh
		case protoHopOpts, protoDstOpts, protoRouting:
			if !d.has(bp+1, 1) {
				return -1, nh
			}
			nh = d.data[bp]
			hlen = (int(d.data[bp+1]) + 1) << 3
		case protoFragment:
			if !d.has(bp+2, 2) {
				return -1, nh
			}
			if (int(d.data[bp+2])<<8|int(d.data[bp+3]))&0xfff8 != 0 {
				return -1, nh
			}
			nh = d.data[bp]
			hlen = 8
		case 51: // AH
			if !d.has(bp+1, 1) {
				return -1, nh
			}
			nh = d.data[bp]
			hlen = (int(d.data[bp+1]) + 2) << 2
		default:
			return -1, nh
		}
	}
	return -1, nh
}

// ndOption is icmp6_opt_values.
func ndOption(t uint8) string {
	switch t {
	case 1:
		return "source link-address"
	case 2:
		return "destination link-address"
	case 3:
		return "prefix info"
	case 4:
		return "redirected header"
	case 5:
		return "mtu"
	case 7:
		return "advertisement interval"
	case 8:
		return "homeagent information"
	case 24:
		return "route info"
	case 25:
		return "rdnss"
	case 31:
		return "dnssl"
	}
	return "unknown"
}

// ndOptionsV prints an ND message's options under -v, and where they are
// cut, " [|icmp6]" unless a read already abandoned the frame (which prints
// the marker itself). The ", length" of -v 0 never follows them.
func (d *dissector) ndOptionsV(off, resid int) {
	if d.o.Verbose > 0 && !d.ndOptions(off, resid) && !d.cut {
		d.trunc()
	}
}

// ndOptions is icmp6_opt_print; false where tcpdump goes to trunc.
func (d *dissector) ndOptions(off, resid int) bool {
	for cp := off; cp < d.end; {
		if !d.has(cp+1, 1) {
			return false
		}
		if resid <= 0 {
			return true
		}
		t := d.data[cp]
		l := int(d.data[cp+1])
		if l == 0 || cp+l<<3 > d.end {
			return false
		}
		d.s("\n\t  ")
		d.s(ndOption(t))
		d.s(" option (")
		d.u(uint64(t))
		d.s("), length ")
		d.u(uint64(l << 3))
		d.s(" (")
		d.u(uint64(l))
		d.s("): ")
		switch t {
		case 1, 2:
			for i := 0; i < l<<3-2; i++ {
				if i > 0 {
					d.c(':')
				}
				d.xw(uint64(d.u8(cp+2+i)), 2)
			}
		case 3:
			if !d.need(cp, 32) {
				return false
			}
			d.addr6(cp + 16)
			d.c('/')
			d.u(uint64(d.data[cp+2]))
			if l != 4 {
				d.s("badlen")
			}
			d.s(", Flags [")
			d.bits(uint32(d.data[cp+3]), "none", piFlags)
			d.s("], valid time ")
			d.lifetime(d.u32(cp + 4))
			d.s(", pref. time ")
			d.lifetime(d.u32(cp + 8))
		case 4:
			d.hexDump("\n\t    ", off, l<<3)
		case 5:
			mtu := d.u32(cp + 4)
			d.c(' ')
			d.u(uint64(mtu))
			if l != 1 {
				d.s("bad option length")
			}
		case 25: // RDNSS, RFC 8106
			d.s(" lifetime ")
			d.u(uint64(d.u32(cp + 4)))
			d.s("s,")
			for i := 0; i < (l-1)/2; i++ {
				d.s(" addr: ")
				d.addr6(cp + 8 + 16*i)
			}
		case 31: // DNSSL, RFC 8106
			d.s(" lifetime ")
			d.u(uint64(d.u32(cp + 4)))
			d.s("s, domain(s):")
			// Compression pointers count from the first option, as
			// tcpdump has it.
			for dom := cp + 8; dom < cp+l<<3 && d.u8(dom) != 0; {
				d.c(' ')
				if dom = d.fqdn(dom, off); dom < 0 {
					return false
				}
			}
		case 7:
			d.c(' ')
			d.u(uint64(d.u32(cp + 4)))
			d.s("ms")
		case 8:
			pref, life := d.u16(cp+4), d.u16(cp+6)
			d.s(" preference ")
			d.u(uint64(pref))
			d.s(", lifetime ")
			d.u(uint64(life))
		case 24: // route information, RFC 4191
			var prefix [16]byte
			switch l {
			case 1:
			case 2:
				copy(prefix[:], d.data[cp+8:cp+16])
			case 3:
				copy(prefix[:], d.data[cp+8:cp+24])
			default:
				return false
			}
			d.c(' ')
			d.out = appendIP6(d.out, prefix[:])
			d.c('/')
			d.u(uint64(d.data[cp+2]))
			d.s(", pref=")
			d.s(rtPref(d.data[cp+3]))
			d.s(", lifetime=")
			d.lifetime(d.u32(cp + 4))
		default:
			if d.o.Verbose <= 1 {
				// tcpdump prints no option after one it does not know.
				d.hexDump("\n\t  ", cp+2, l<<3-2)
				return true
			}
		}
		if d.cut {
			return false
		}
		if d.o.Verbose > 1 {
			d.hexDump("\n\t    ", cp+2, l<<3-2)
		}
		cp += l << 3
		resid -= l << 3
	}
	return true
}

// rtPref is get_rtpref: the router preference in bits 4 and 3.
func rtPref(flags uint8) string {
	return [4]string{"medium", "high", "rsv", "low"}[flags>>3&3]
}

func (d *dissector) lifetime(v uint32) {
	if v == 0xffffffff {
		d.s("infinity")
		return
	}
	d.u(uint64(v))
	d.c('s')
}

// mld is mld6_print.
func (d *dissector) mld(off int) {
	if off+24 > d.end {
		return
	}
	d.s("max resp delay: ")
	d.u(uint64(d.u16(off + 4)))
	d.s(" addr: ")
	d.addr6(off + 8)
}

// mldQuery is mldv2_query_print.
func (d *dissector) mldQuery(off, length int) {
	if length < 28 {
		d.s(" [invalid len ")
		d.u(uint64(length))
		d.c(']')
		return
	}
	mrc := uint32(d.u16(off + 4))
	mrt := mrc
	if mrc >= 32768 {
		mrt = (mrc&0x0fff | 0x1000) << ((mrc&0x7000)>>12 + 3)
	}
	if d.cut {
		return
	}
	if d.o.Verbose > 0 {
		d.s(" [max resp delay=")
		d.u(uint64(mrt))
		d.c(']')
	}
	if !d.need(off+8, 16) {
		return
	}
	d.s(" [gaddr ")
	d.addr6(off + 8)
	if d.o.Verbose > 0 {
		s := d.u8(off + 24)
		if d.cut {
			return
		}
		if s&0x08 != 0 {
			d.s(" sflag")
		}
		if s&0x07 != 0 {
			d.s(" robustness=")
			d.u(uint64(s & 7))
		}
		q := uint32(d.u8(off + 25)) // read after the flags are printed, as tcpdump does
		if d.cut {
			return
		}
		if q >= 128 {
			q = (q&0x0f | 0x10) << ((q&0x70)>>4 + 3)
		}
		d.s(" qqi=")
		d.u(uint64(q))
	}
	nsrcs := int(d.u16(off + 26))
	if d.cut {
		return
	}
	if nsrcs > 0 {
		switch {
		case length < 28+nsrcs*16:
			d.s(" [invalid number of sources]")
		case d.o.Verbose > 1:
			d.s(" {")
			for i := 0; i < nsrcs; i++ {
				if !d.need(off+28+i*16, 16) {
					return
				}
				d.c(' ')
				d.addr6(off + 28 + i*16)
			}
			d.s(" }")
		default:
			d.s(", ")
			d.u(uint64(nsrcs))
			d.s(" source(s)")
		}
	}
	d.c(']')
}
