package tcpdump

// IPsec and the mobility header: tcpdump's print-ah.c, print-esp.c
// (without decryption: pingcraft takes no secrets), print-ipcomp.c and
// print-mobility.c.

// ah is ah_print: the header's length, or -1 where the frame ends.
func (d *dissector) ah(off int) int {
	d.proto = "ah"
	d.s("AH")
	l := d.u8(off + 1)
	if d.cut {
		return -1
	}
	hlen := (int(l) + 2) * 4
	d.c('(')
	if d.o.Verbose > 0 {
		d.s("length=")
		d.u(uint64(l))
		d.c('(')
		d.u(uint64(hlen))
		d.s("-bytes),")
	}
	rsv := d.u16(off + 2)
	if d.cut {
		return -1
	}
	if rsv != 0 {
		d.s("reserved=0x")
		d.x(uint64(rsv))
		d.s("[MustBeZero],")
	}
	spi := d.u32(off + 4)
	if d.cut {
		return -1
	}
	d.s("spi=0x")
	d.xw(uint64(spi), 8)
	d.c(',')
	seq := d.u32(off + 8)
	if d.cut {
		return -1
	}
	d.s("seq=0x")
	d.x(uint64(seq))
	d.s(",icv=0x")
	for p := off + 12; p < off+hlen; p++ {
		v := d.u8(p)
		if d.cut {
			return -1
		}
		d.xw(uint64(v), 2)
	}
	d.s("): ")
	return hlen
}

// esp is esp_print without a security association.
func (d *dissector) esp(off, length int) {
	d.proto = "esp"
	if off+8 >= d.end {
		d.trunc()
		return
	}
	d.s("ESP(spi=0x")
	d.xw(uint64(d.u32(off)), 8)
	d.s(",seq=0x")
	d.x(uint64(d.u32(off + 4)))
	d.s("), length ")
	d.u(uint64(length))
}

// ipcomp is ipcomp_print: the payload stays compressed.
func (d *dissector) ipcomp(off int) {
	d.proto = "ipcomp"
	cpi := d.u16(off + 2)
	if d.cut {
		return
	}
	d.s("IPComp(cpi=0x")
	d.xw(uint64(cpi), 4)
	d.c(')')
}

// mobilityTypes is ip6m_str, with the least header length of each type.
var mobilityTypes = [...]struct {
	name string
	hlen int
}{{"BRR", 8}, {"HoTI", 16}, {"CoTI", 16}, {"HoT", 24}, {"CoT", 24}, {"BU", 12}, {"BA", 12}, {"BE", 24}}

// mobility is mobility_print (RFC 6275 section 6.1).
func (d *dissector) mobility(off int) {
	d.proto = "mobility"
	if !d.has(off+1, 1) {
		d.trunc()
		return
	}
	mhlen := (int(d.data[off+1]) + 1) << 3
	typ := d.u8(off + 2)
	if d.cut {
		return
	}
	if int(typ) < len(mobilityTypes) && mhlen < mobilityTypes[typ].hlen {
		d.s("(header length ")
		d.u(uint64(mhlen))
		d.s(" is too small for type ")
		d.u(uint64(typ))
		d.c(')')
		d.trunc()
		return
	}
	d.s("mobility: ")
	if int(typ) < len(mobilityTypes) {
		d.s(mobilityTypes[typ].name)
	} else {
		d.s("type-#")
		d.u(uint64(typ))
	}
	// cookie prints two 32-bit words as "%08x:%08x".
	cookie := func(what, kind string, at int) bool {
		a, b := d.u32(at), d.u32(at+4)
		if d.cut {
			return false
		}
		d.c(' ')
		d.s(what)
		d.c(' ')
		d.s(kind)
		d.c('=')
		d.xw(uint64(a), 8)
		d.c(':')
		d.xw(uint64(b), 8)
		return true
	}
	hlen := 8
	switch typ {
	case 0:
	case 1, 2:
		if d.o.Verbose > 0 && !cookie([...]string{1: "Home", 2: "Care-of"}[typ], "Init Cookie", off+8) {
			return
		}
		hlen += 8
	case 3, 4:
		nonce := d.u16(off + 6)
		if d.cut {
			return
		}
		d.s(" nonce id=0x")
		d.x(uint64(nonce))
		who := [...]string{3: "Home", 4: "Care-of"}[typ]
		if d.o.Verbose > 0 && (!cookie(who, "Init Cookie", off+8) || !cookie(who, "Keygen Token", off+16)) {
			return
		}
		hlen += 16
	case 5:
		seq := d.u16(off + 6)
		if d.cut {
			return
		}
		d.s(" seq#=")
		d.u(uint64(seq))
		if !d.has(off+8, 2) {
			d.trunc()
			return
		}
		if bits := d.data[off+8] >> 4; bits != 0 {
			d.c(' ')
			for _, b := range []struct {
				bit uint8
				c   byte
			}{{8, 'A'}, {4, 'H'}, {2, 'L'}, {1, 'K'}} {
				if bits&b.bit != 0 {
					d.c(b.c)
				}
			}
		}
		life := d.u16(off + 10)
		if d.cut {
			return
		}
		d.s(" lifetime=")
		d.u(uint64(life) << 2)
		hlen += 4
	case 6:
		status := d.u8(off + 6)
		if d.cut {
			return
		}
		d.s(" status=")
		d.u(uint64(status))
		k := d.u8(off + 7)
		if d.cut {
			return
		}
		if k&0x80 != 0 {
			d.s(" K")
		}
		seq := d.u16(off + 8)
		if d.cut {
			return
		}
		d.s(" seq#=")
		d.u(uint64(seq))
		life := d.u16(off + 10)
		if d.cut {
			return
		}
		d.s(" lifetime=")
		d.u(uint64(life) << 2)
		hlen += 4
	case 7:
		status := d.u8(off + 6)
		if d.cut {
			return
		}
		d.s(" status=")
		d.u(uint64(status))
		if !d.need(off+8, 16) {
			return
		}
		d.s(" homeaddr ")
		d.addr6(off + 8)
		hlen += 16
	default:
		d.s(" len=")
		d.u(uint64(d.data[off+1]))
		return
	}
	if d.o.Verbose > 0 && !d.mobilityOptions(off+hlen, mhlen-hlen) && !d.cut {
		d.trunc()
	}
}

// mobilityOptions is mobility_opt_print; false where tcpdump goes to trunc.
func (d *dissector) mobilityOptions(off, length int) bool {
	for i, n := 0, 0; i < length; i += n {
		var t uint8
		var ok bool
		if t, n, ok = d.tlv(off, i, length); !ok || !d.has(off+i+n, 1) {
			return false
		}
		rest := length - i
		short := func(name string, least int) bool {
			if rest < least {
				d.c('(')
				d.s(name)
				d.s(": trunc)")
				return true
			}
			return false
		}
		switch t {
		case 0:
			d.s("(pad1)")
		case 1:
			if short("padn", 2) {
				return false
			}
			d.s("(padn)")
		case 2:
			if short("refresh", 4) {
				return false
			}
			v := d.u16(off + i + 2)
			if d.cut {
				return false
			}
			d.s("(refresh: ")
			d.u(uint64(v) << 2) // units of 4 seconds
			d.c(')')
		case 3:
			if short("altcoa", 18) {
				return false
			}
			if !d.need(off+i+2, 16) {
				return false
			}
			d.s("(alt-CoA: ")
			d.addr6(off + i + 2)
			d.c(')')
		case 4:
			if short("ni", 6) {
				return false
			}
			ho, co := d.u16(off+i+2), d.u16(off+i+4)
			if d.cut {
				return false
			}
			d.s("(ni: ho=0x")
			d.xw(uint64(ho), 4)
			d.s(" co=0x")
			d.xw(uint64(co), 4)
			d.c(')')
		case 5:
			if short("auth", 12) {
				return false
			}
			d.s("(auth)")
		default:
			if rest < 2 {
				d.s("(sopt_type ")
				d.u(uint64(t))
				d.s(": trunc)")
				return false
			}
			d.s("(type-0x")
			d.xw(uint64(t), 2)
			d.s(": len=")
			d.u(uint64(d.data[off+i+1]))
			d.c(')')
		}
		if d.cut {
			return false
		}
	}
	return true
}
