package tcpdump

// The ICMPv6 messages beyond echo, errors and neighbour discovery that
// tcpdump's print-icmp6.c decodes: MLDv2 reports (RFC 3810), node
// information (RFC 4620), router renumbering (RFC 2894) and RPL (RFC 6550).

// mldReport is mldv2_report_print.
func (d *dissector) mldReport(off, length int) {
	if length < 8 {
		d.s(" [invalid len ")
		d.u(uint64(length))
		d.c(']')
		return
	}
	ngroups := int(d.u16(off + 6))
	if d.cut {
		return
	}
	d.s(", ")
	d.u(uint64(ngroups))
	d.s(" group record(s)")
	if d.o.Verbose == 0 {
		return
	}
	group := 8
	for i := 0; i < ngroups; i++ {
		if length < group+20 {
			d.s(" [invalid number of groups]")
			return
		}
		if !d.need(off+group+4, 16) {
			return
		}
		d.s(" [gaddr ")
		d.addr6(off + group + 4)
		t := d.u8(off + group)
		if d.cut {
			return
		}
		d.c(' ')
		if name := mldRecordType(t); name != "" {
			d.s(name)
		} else {
			d.s(" [v2-report-#")
			d.u(uint64(t))
			d.c(']')
		}
		nsrcs := int(d.u16(off + group + 2))
		if d.cut {
			return
		}
		if length < group+20+nsrcs*16 {
			d.s(" [invalid number of sources ")
			d.u(uint64(nsrcs))
			d.c(']')
			return
		}
		if d.o.Verbose == 1 {
			d.s(", ")
			d.u(uint64(nsrcs))
			d.s(" source(s)")
		} else {
			d.s(" {")
			for j := 0; j < nsrcs; j++ {
				a := off + group + 20 + j*16
				if !d.need(a, 16) {
					return
				}
				d.c(' ')
				d.addr6(a)
			}
			d.s(" }")
		}
		group += 20 + nsrcs*16
		d.c(']')
	}
}

// mldRecordType is mldv2report2str.
func mldRecordType(t uint8) string {
	if t >= 1 && t <= 6 {
		return [...]string{"is_in", "is_ex", "to_in", "to_ex", "allow", "block"}[t-1]
	}
	return ""
}

// nodeAddrFlags prints the node addresses flags of RFC 4620 as tcpdump
// does, in its order ("aGSLCA", and "T" in replies).
func (d *dissector) nodeAddrFlags(f uint16, reply bool) {
	d.s(" [")
	for _, b := range []struct {
		bit uint16
		c   byte
	}{{0x40, 'a'}, {0x20, 'G'}, {0x10, 'S'}, {0x08, 'L'}, {0x04, 'C'}, {0x02, 'A'}} {
		if f&b.bit != 0 {
			d.c(b.c)
		}
	}
	if reply && f&0x01 != 0 {
		d.c('T')
	}
	d.c(']')
}

// niName prints a node information name at cp up to the end of the
// capture: a length-prefixed string (draft 03) or DNS labels.
func (d *dissector) niName(cp int) {
	n := d.u8(cp)
	if d.cut {
		return
	}
	if int(n) != d.end-cp-1 {
		d.dnsName(cp)
		return
	}
	if d.o.Verbose > 0 {
		d.s(", 03 draft")
	}
	d.s(", \"")
	for cp++; cp < d.end; cp++ {
		d.char(d.data[cp])
	}
	d.c('"')
}

// dnsName is dnsname_print: labels without decompression, in quotes.
func (d *dissector) dnsName(cp int) {
	ep := d.end
	d.s(", \"")
	for cp < ep {
		i := int(d.data[cp])
		cp++
		if i != 0 {
			if i > ep-cp {
				d.s("???")
				break
			}
			for ; i > 0 && cp < ep; i, cp = i-1, cp+1 {
				d.char(d.data[cp])
			}
			if cp+1 < ep && d.data[cp] != 0 {
				d.c('.')
			}
			continue
		}
		switch {
		case cp == ep:
			d.c('.')
		case cp+1 == ep && d.data[cp] == 0:
		default:
			d.s("???")
		}
		break
	}
	d.c('"')
}

// nodeInfo is icmp6_nodeinfo_print. The sizes it checks are of what was
// captured, as tcpdump's are.
func (d *dissector) nodeInfo(off, length int) {
	if d.end < off {
		return
	}
	siz := d.end - off
	typ := d.u8(off)
	if d.cut {
		return
	}
	if typ == 139 {
		if siz == 12 {
			d.s(" who-are-you request") // KAME's
			return
		}
		d.s(" node information query")
		if !d.has(off, 16) {
			d.trunc()
			return
		}
		d.s(" (")
		qtype, flags := d.u16(off+4), d.u16(off+6)
		switch qtype {
		case 0:
			d.s("noop")
		case 1:
			d.s("supported qtypes")
			if flags != 0 {
				d.s(" [")
				if flags&1 != 0 {
					d.c('C')
				}
				d.c(']')
			}
		case 2:
			d.s("DNS name")
		case 3:
			d.s("node addresses")
			if flags != 0 {
				d.nodeAddrFlags(flags, false)
			}
		default:
			d.s("unknown")
		}
		if qtype == 0 || qtype == 1 {
			if siz != 16 && d.o.Verbose > 0 {
				d.s(", invalid len")
			}
			d.c(')')
			return
		}
		if siz == 16 {
			d.s(", 03 draft)")
			return
		}
		cp := off + 16
		switch code := d.data[off+1]; code {
		case 0, 2:
			n := 16
			if code == 2 {
				n = 4
			}
			if !d.has(off, 16+n) {
				break
			}
			if siz != 16+n {
				if d.o.Verbose > 0 {
					d.s(", invalid subject len")
				}
				break
			}
			d.s(", subject=")
			if n == 16 {
				d.addr6(cp)
			} else {
				d.addr4(cp)
			}
		case 1:
			d.s(", subject=DNS name")
			d.niName(cp)
			if d.cut {
				return
			}
		default:
			d.s(", unknown subject")
		}
		d.c(')')
		return
	}

	if length > siz {
		d.trunc()
		return
	}
	if !d.has(off, 16) {
		d.trunc()
		return
	}
	d.s(" node information reply (")
	code := d.data[off+1]
	comma := false
	switch code {
	case 0:
		if d.o.Verbose > 0 {
			d.s("success")
			comma = true
		}
	case 1, 2:
		d.s([...]string{1: "refused", 2: "unknown"}[code])
		comma = true
		if siz != 16 && d.o.Verbose > 0 {
			d.s(", invalid length")
		}
	}
	if code != 0 {
		d.c(')')
		return
	}
	if comma {
		d.s(", ")
	}
	flags := d.u16(off + 6)
	switch d.u16(off + 4) {
	case 0:
		d.s("noop")
		if siz != 16 && d.o.Verbose > 0 {
			d.s(", invalid length")
		}
	case 1:
		d.s("supported qtypes")
		if flags != 0 {
			d.s(" [")
			if flags&1 != 0 {
				d.c('C')
			}
			d.c(']')
		}
	case 2:
		d.s("DNS name")
		d.niName(off + 20)
		if d.cut {
			return
		}
		if flags&1 != 0 {
			ttl := d.u32(off + 16)
			if d.cut {
				return
			}
			d.s(" [TTL=")
			d.u(uint64(ttl))
			d.c(']')
		}
	case 3:
		d.s("node addresses")
		for i := 16; i < siz && i+20 <= siz; i += 20 {
			d.c(' ')
			d.addr6(off + i + 4)
			d.c('(')
			d.u(uint64(d.u32(off + i)))
			d.c(')')
		}
		if flags != 0 {
			d.nodeAddrFlags(flags, true)
		}
	default:
		d.s("unknown")
	}
	d.c(')')
}

// routerRenumbering is icmp6_rrenum_print.
func (d *dissector) routerRenumbering(off int) {
	if d.end < off {
		return
	}
	if !d.has(off+12, 4) {
		d.trunc()
		return
	}
	code := d.data[off+1]
	switch code {
	case 0:
		d.s(", command")
	case 1:
		d.s(", result")
	case 255:
		d.s(", sequence number reset")
	default:
		d.s(", code-#")
		d.u(uint64(code))
	}
	d.s(", seq=")
	d.u(uint64(d.u32(off + 4)))
	if d.o.Verbose > 0 {
		flags := d.data[off+9]
		d.c('[')
		if flags != 0 {
			for _, f := range []struct {
				bit uint8
				c   byte
			}{{0x80, 'T'}, {0x40, 'R'}, {0x20, 'A'}, {0x10, 'S'}, {0x08, 'P'}} {
				if flags&f.bit != 0 {
					d.c(f.c)
				}
			}
			d.c(',')
		}
		d.s("seg=")
		d.u(uint64(d.data[off+8]))
		d.s(",maxdelay=")
		d.u(uint64(d.u16(off + 10)))
		if rsv := d.u32(off + 12); rsv != 0 {
			d.s("rsvd=0x")
			d.x(uint64(rsv))
		}
		d.c(']')
	}
	if code != 0 {
		return
	}
	m := off + 16 // the match-prefix part
	if !d.has(m+8, 16) {
		d.trunc()
		return
	}
	d.rrSep()
	d.s("match(")
	switch c := d.data[m]; c {
	case 1:
		d.s("add")
	case 2:
		d.s("change")
	case 3:
		d.s("setglobal")
	default:
		d.c('#')
		d.u(uint64(c))
	}
	if d.o.Verbose > 0 {
		d.s(",ord=")
		d.u(uint64(d.data[m+2]))
		d.s(",min=")
		d.u(uint64(d.data[m+4]))
		d.s(",max=")
		d.u(uint64(d.data[m+5]))
	}
	d.c(',')
	d.addr6(m + 8)
	d.c('/')
	d.u(uint64(d.data[m+3]))
	d.c(')')
	n := int(d.data[m+1]) - 3
	if n%4 != 0 {
		d.trunc()
		return
	}
	for use, i := m+24, 0; i < n/4; use, i = use+32, i+1 {
		if !d.has(use+16, 16) {
			d.trunc()
			return
		}
		d.rrSep()
		d.s("use(")
		if f := d.data[use+12]; f != 0 {
			// tcpdump tests the first byte of the flags word against
			// the masks in network order, as a little-endian host does.
			if f&0x80 != 0 {
				d.c('V')
			}
			if f&0x40 != 0 {
				d.c('P')
			}
			d.c(',')
		}
		if d.o.Verbose > 0 {
			d.s("mask=0x")
			d.x(uint64(d.data[use+2]))
			d.s(",raflags=0x")
			d.x(uint64(d.data[use+3]))
			d.c(',')
			for _, t := range []struct {
				name string
				at   int
			}{{"vltime=", use + 4}, {"pltime=", use + 8}} {
				d.s(t.name)
				if v := d.u32(t.at); v == 0xffffffff {
					d.s("infty,")
				} else {
					d.u(uint64(v))
					d.c(',')
				}
			}
		}
		d.addr6(use + 16)
		d.c('/')
		d.u(uint64(d.data[use]))
		d.c('/')
		d.u(uint64(d.data[use+1]))
		d.c(')')
	}
}

// rrSep starts a router renumbering part: on its own line under -vv.
func (d *dissector) rrSep() {
	if d.o.Verbose > 1 {
		d.s("\n\t")
	} else {
		d.c(' ')
	}
}

// rpl is rpl_print; off is where the base object starts (the ICMPv6
// header's fourth byte on).
func (d *dissector) rpl(code uint8, off, length int) {
	if code&0x80 != 0 {
		d.s(", (SEC) [worktodo]")
		return
	}
	d.s(", (CLR)")
	switch code & 0x7f {
	case 0:
		d.s("DODAG Information Solicitation")
	case 1:
		d.s("DODAG Information Object")
		if d.o.Verbose > 0 {
			d.rplDIO(off, length)
		}
	case 2:
		d.s("Destination Advertisement Object")
		if d.o.Verbose > 0 {
			d.rplDAO(off, length)
		}
	case 3:
		d.s("Destination Advertisement Object Ack")
		if d.o.Verbose > 0 {
			d.rplDAOAck(off, length)
		}
	default:
		d.s("RPL message, unknown code ")
		d.u(uint64(code))
	}
}

// rplMOP is rpl_mop_values.
var rplMOP = [...]string{"nonstoring", "storing", "nonstoring-multicast", "storing-multicast"}

func (d *dissector) rplDIO(off, length int) {
	if length < 24 {
		d.s(" [length ")
		d.u(uint64(length))
		d.s(" < 24] (invalid)")
		return
	}
	if !d.need(off, 24) {
		return
	}
	mopprf := d.data[off+4]
	d.s(" [dagid:")
	d.addr6(off + 8)
	d.s(",seq:")
	d.u(uint64(d.data[off+5]))
	d.s(",instance:")
	d.u(uint64(d.data[off]))
	d.s(",rank:")
	d.u(uint64(d.u16(off + 2)))
	d.c(',')
	if mopprf&0x80 != 0 {
		d.s("grounded,")
	}
	d.s("mop:")
	if mop := mopprf >> 3 & 7; int(mop) < len(rplMOP) {
		d.s(rplMOP[mop])
	} else {
		d.s("mop")
		d.u(uint64(mop))
	}
	d.s(",prf:")
	d.u(uint64(mopprf & 7))
	d.c(']')
	if d.o.Verbose > 1 {
		d.rplOptions(off+24, length-24)
	}
}

func (d *dissector) rplDAO(off, length int) {
	if !d.has(off, 20) {
		d.trunc()
		return
	}
	if length < 4 {
		d.s(" [|length too short]")
		return
	}
	flags := d.data[off+1]
	p, rest := off+4, length-4
	if flags&0x40 != 0 {
		if rest < 16 {
			d.s(" [|length too short]")
			return
		}
		p, rest = p+16, rest-16
	}
	d.s(" [dagid:")
	if flags&0x40 != 0 {
		d.addr6(off + 4)
	} else {
		d.s("<elided>")
	}
	d.s(",seq:")
	d.u(uint64(d.data[off+3]))
	d.s(",instance:")
	d.u(uint64(d.data[off]))
	if flags&0x80 != 0 {
		d.s(",acK")
	}
	if flags&0x40 != 0 {
		d.s(",Dagid")
	}
	d.c(',')
	d.xw(uint64(flags), 2)
	d.c(']')
	if d.o.Verbose > 1 {
		d.rplOptions(p, rest)
	}
}

func (d *dissector) rplDAOAck(off, length int) {
	if !d.has(off, 4) {
		d.trunc()
		return
	}
	if length < 4 {
		d.s(" [|dao-length too short]")
		return
	}
	flags := d.data[off+1]
	p, rest := off+4, length-4
	if flags&0x80 != 0 {
		if !d.has(p, 16) {
			d.trunc()
			return
		}
		if rest < 16 {
			d.s(" [|dao-length too short]")
			return
		}
		p, rest = p+16, rest-16
	}
	d.s(" [dagid:")
	if flags&0x80 != 0 {
		d.addr6(off + 4)
	} else {
		d.s("<elided>")
	}
	d.s(",seq:")
	d.u(uint64(d.data[off+2]))
	d.s(",instance:")
	d.u(uint64(d.data[off]))
	d.s(",status:")
	d.u(uint64(d.data[off+3]))
	d.c(']')
	if d.o.Verbose > 1 {
		d.rplOptions(p, rest)
	}
}

// rplSubopt is rpl_subopt_values.
func rplSubopt(t uint8) string {
	switch t {
	case 0:
		return "pad1"
	case 1:
		return "padN"
	case 2:
		return "metrics"
	case 3:
		return "routinginfo"
	case 4:
		return "config"
	case 5:
		return "rpltarget"
	case 6:
		return "transitinfo"
	case 8:
		return "destprefix"
	case 9:
		return "rpltargetdesc"
	}
	return ""
}

// rplOptions is rpl_printopts, without the hex of -vvv.
func (d *dissector) rplOptions(p, length int) {
	for length > 0 {
		t := d.u8(p)
		if d.cut {
			return
		}
		n := 1
		if t == 0 {
			d.s(" opt:pad1")
		} else {
			if length < 2 {
				d.trunc()
				return
			}
			n = int(d.u8(p+1)) + 2
			if d.cut {
				return
			}
			d.s(" opt:")
			d.nameOr(rplSubopt(t), "subopt:", uint64(t), "")
			d.s(" len:")
			d.u(uint64(n))
			d.c(' ')
			if !d.has(p, n) || length < n {
				d.trunc()
				return
			}
			if d.o.Verbose > 2 { // -vvv
				d.hexDump(" ", p+2, n-2)
			}
		}
		p += n
		length -= n
	}
}
