package tcpdump

// Multipath TCP options (RFC 8684): tcpdump's print-mptcp.c.

// mptcp is mptcp_print: the option at off, l bytes long, in a segment
// with the TCP flags given; false where tcpdump calls it bad. Like
// tcpdump, it leaves "mptcp" as the protocol of later truncation marks.
func (d *dissector) mptcp(off, l int, flags uint8) bool {
	d.proto = "mptcp"
	if l < 3 {
		return false
	}
	sub := d.u8(off+2) >> 4
	if d.cut {
		return false
	}
	sub = min(sub, 8)
	d.c(' ')
	d.u(uint64(l))
	d.c(' ')
	d.s([...]string{"capable", "join", "dss", "add-addr", "rem-addr", "prio", "fail", "fast-close", "unknown"}[sub])
	const syn, ack = 0x02, 0x10
	switch sub {
	case 0: // MP_CAPABLE
		if !((l == 12 || l == 4) && flags&syn != 0) && !((l == 20 || l == 22) && flags&(syn|ack) == ack) {
			return false
		}
		v := d.u8(off+2) & 0xf
		if v > 1 {
			d.s(" Unknown Version (")
			d.u(uint64(v))
			d.c(')')
			return true
		}
		d.s(" v")
		d.u(uint64(v))
		f := d.u8(off + 3)
		if d.cut {
			return false
		}
		if f&0x80 != 0 {
			d.s(" csum")
		}
		if l == 12 || l >= 20 {
			if !d.need(off+4, 8) {
				return false
			}
			d.s(" {0x")
			d.x(d.u64(off + 4))
			if l >= 20 {
				if !d.need(off+12, 8) {
					return false
				}
				d.s(",0x")
				d.x(d.u64(off + 12))
			}
			d.c('}')
		}
	case 1: // MP_JOIN
		if !(l == 12 && flags&syn != 0) && !(l == 16 && flags&(syn|ack) == syn|ack) && !(l == 24 && flags&ack != 0) {
			return false
		}
		if l != 24 {
			b := d.u8(off + 2)
			if d.cut {
				return false
			}
			if b&1 != 0 {
				d.s(" backup")
			}
			id := d.u8(off + 3)
			if d.cut {
				return false
			}
			d.s(" id ")
			d.u(uint64(id))
		}
		switch l {
		case 12:
			if !d.need(off+4, 8) {
				return false
			}
			d.s(" token 0x")
			d.x(uint64(d.u32(off + 4)))
			d.s(" nonce 0x")
			d.x(uint64(d.u32(off + 8)))
		case 16:
			if !d.need(off+4, 12) {
				return false
			}
			d.s(" hmac 0x")
			d.x(d.u64(off + 4))
			d.s(" nonce 0x")
			d.x(uint64(d.u32(off + 12)))
		case 24:
			d.s(" hmac 0x")
			for i := 0; i < 20; i++ {
				d.xw(uint64(d.data[off+4+i]), 2)
			}
		}
	case 2: // DSS
		return d.mptcpDSS(off, l, flags)
	case 3: // ADD_ADDR
		switch l {
		case 8, 10, 16, 18, 20, 22, 28, 30:
		default:
			return false
		}
		e := d.u8(off+2) & 0xf
		if d.cut {
			return false
		}
		d.c(' ')
		switch e {
		case 6:
			d.s("v0-ip6")
		case 4:
			d.s("v0-ip4")
		case 1:
			d.s("v1-echo")
		case 0:
			d.s("v1")
		default:
			d.s("[bad version/echo]")
		}
		id := d.u8(off + 3)
		if d.cut {
			return false
		}
		d.s(" id ")
		d.u(uint64(id))
		alen, afmt := 4, appendIP4
		if l >= 20 {
			alen, afmt = 16, appendIP6
		}
		if !d.need(off+4, alen) {
			return false
		}
		d.c(' ')
		d.addr(off+4, alen, afmt)
		port := l == 10 || l == 18 || l == 22 || l == 30
		if port {
			p := d.u16(off + 4 + alen)
			if d.cut {
				return false
			}
			d.c(':')
			d.u(uint64(p))
		}
		if l == 16 || l == 18 || l == 28 || l == 30 {
			at := off + 4 + alen
			if port {
				at += 2
			}
			if !d.need(at, 8) {
				return false
			}
			d.s(" hmac 0x")
			d.x(d.u64(at))
		}
	case 4: // REMOVE_ADDR
		if l < 4 {
			return false
		}
		d.s(" id")
		for i := 0; i < l-3; i++ {
			id := d.u8(off + 3 + i)
			if d.cut {
				return false
			}
			d.c(' ')
			d.u(uint64(id))
		}
	case 5: // MP_PRIO
		if l != 3 && l != 4 {
			return false
		}
		b := d.u8(off + 2)
		if d.cut {
			return false
		}
		if b&1 != 0 {
			d.s(" backup")
		} else {
			d.s(" non-backup")
		}
		if l == 4 {
			id := d.u8(off + 3)
			if d.cut {
				return false
			}
			d.s(" id ")
			d.u(uint64(id))
		}
	case 6, 7: // MP_FAIL, MP_FASTCLOSE
		if l != 12 {
			return false
		}
		if !d.need(off+4, 8) {
			return false
		}
		if sub == 6 {
			d.s(" seq ")
			d.u(d.u64(off + 4))
		} else {
			d.s(" key 0x")
			d.x(d.u64(off + 4))
		}
	}
	return !d.cut
}

// mptcpDSS is mp_dss_print.
func (d *dissector) mptcpDSS(off, l int, flags uint8) bool {
	if l < 4 || flags&0x02 != 0 {
		return false
	}
	f := d.u8(off + 3)
	if d.cut {
		return false
	}
	if f&0x10 != 0 {
		d.s(" fin")
	}
	p, n := off+4, l-4
	// num prints an 8-byte number if long, else a 4-byte one.
	num := func(long bool) bool {
		w := 4
		if long {
			w = 8
		}
		if n < w || !d.need(p, w) {
			return false
		}
		if long {
			d.u(d.u64(p))
		} else {
			d.u(uint64(d.u32(p)))
		}
		p, n = p+w, n-w
		return true
	}
	if f&0x01 != 0 {
		d.s(" ack ")
		if !num(f&0x02 != 0) {
			return false
		}
	}
	if f&0x04 != 0 {
		d.s(" seq ")
		if !num(f&0x08 != 0) {
			return false
		}
		if n < 4 || !d.need(p, 4) {
			return false
		}
		d.s(" subseq ")
		d.u(uint64(d.u32(p)))
		p, n = p+4, n-4
		if n < 2 || !d.need(p, 2) {
			return false
		}
		d.s(" len ")
		d.u(uint64(d.u16(p)))
		p, n = p+2, n-2
		if n >= 2 {
			if !d.need(p, 2) {
				return false
			}
			d.s(" csum 0x")
			d.x(uint64(d.u16(p)))
			n -= 2
		}
	}
	return n == 0
}
