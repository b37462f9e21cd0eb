package tcpdump

// Domain names and printable characters: tcpdump's fqdn_print
// (print-domain.c) and fn_print_char (util-print.c), shared by the DNS,
// ND (DNSSL) and node information printers.

// char is fn_print_char: bytes above 0x7f as "M-" and the low seven bits,
// control characters as "^" and the letter 0x40 above.
func (d *dissector) char(c byte) {
	if c >= 0x80 {
		c &= 0x7f
		d.s("M-")
	}
	if c < 0x20 || c == 0x7f {
		c ^= 0x40
		d.c('^')
	}
	d.c(c)
}

// maxName is MAXCDNAME: the most characters tcpdump prints of a name.
const maxName = 255

// labelLen is labellen: the length of the label at off, or -1 after
// printing why it has none.
func (d *dissector) labelLen(off int) int {
	if !d.has(off, 1) {
		return -1
	}
	i := d.data[off]
	switch i & 0xc0 {
	case 0x40: // EDNS0 extended label type
		if elt := i &^ 0xc0; elt != 0x01 {
			d.s("<ELT ")
			d.u(uint64(elt))
			d.c('>')
			return -1
		}
		if !d.has(off+1, 1) {
			return -1
		}
		bits := int(d.data[off+1])
		if bits == 0 {
			bits = 256
		}
		return (bits+7)/8 + 1
	case 0xc0, 0x00:
		return int(i)
	}
	d.s("<BAD LABEL TYPE>")
	return -1
}

// bitLabel is blabel_print: an RFC 2673 bit-string label; the offset
// after it, or -1.
func (d *dissector) bitLabel(off int) int {
	if !d.has(off, 1) {
		return -1
	}
	bits := int(d.data[off])
	if bits == 0 {
		bits = 256
	}
	lim := off + 1 + (bits+3)/4
	d.s("\\[x")
	p, b := off+1, bits
	for ; p < lim && b > 7; b, p = b-8, p+1 {
		v := d.u8(p)
		if d.cut {
			return -1
		}
		d.xw(uint64(v), 2)
	}
	switch {
	case b > 4:
		v := d.u8(p)
		if d.cut {
			return -1
		}
		d.xw(uint64(v&(0xff<<(8-b))), 2)
	case b > 0:
		v := d.u8(p)
		if d.cut {
			return -1
		}
		d.x(uint64(v >> 4 & (0x0f << (4 - b)) & 0xf))
	}
	d.s("/")
	d.u(uint64(bits))
	d.c(']')
	return lim
}

// fqdn is fqdn_print: the name at off, compression pointers counted from
// base. It returns where the name ends in the message (after the first
// pointer, if any), or -1 where tcpdump returns NULL; a read past the
// capture sets d.cut as tcpdump's GET macros longjmp.
func (d *dissector) fqdn(off, base int) int {
	l := d.labelLen(off)
	if l < 0 || !d.has(off, 1) {
		return -1
	}
	maxOff := uint32(off - base) // unsigned in tcpdump: a base after off allows any pointer
	i := int(d.data[off])
	cp := off + 1
	rp := -1
	compress := false
	if i&0xc0 != 0xc0 {
		rp = cp + l
	}
	if i == 0 {
		d.c('.')
		return rp
	}
	chars := 0
	for i != 0 && cp < d.end {
		switch i & 0xc0 {
		case 0xc0:
			if !compress {
				rp = cp + 1
				compress = true
			}
			if !d.has(cp, 1) {
				return -1
			}
			ptr := (i<<8 | int(d.data[cp])) & 0x3fff
			// Pointers must go backwards, as in BIND: no loops.
			if uint32(ptr) >= maxOff {
				d.s("<BAD PTR>")
				return -1
			}
			maxOff = uint32(ptr)
			cp = base + ptr
			if !d.has(cp, 1) {
				return -1
			}
			i = int(d.data[cp])
			if l = d.labelLen(cp); l < 0 {
				return -1
			}
			cp++
			continue
		case 0x40:
			if elt := i &^ 0xc0; elt != 0x01 {
				d.s("<ELT ")
				d.u(uint64(elt))
				d.c('>')
				return -1
			}
			if d.bitLabel(cp) < 0 {
				return -1
			}
		case 0x80:
			d.s("<BAD LABEL TYPE>")
			return -1
		default:
			n := l
			if chars+l > maxName {
				n = max(maxName-chars, 0)
			}
			if !d.printN(cp, n) {
				return -1
			}
			chars += l
		}
		cp += l
		if chars <= maxName {
			d.c('.')
		}
		chars++
		if !d.has(cp, 1) {
			return -1
		}
		i = int(d.data[cp])
		if l = d.labelLen(cp); l < 0 {
			return -1
		}
		cp++
		if !compress {
			rp += l + 1
		}
	}
	if chars > maxName {
		d.s("<DOMAIN NAME TOO LONG>")
	}
	return rp
}

// printN is nd_printn up to the end of the capture: false if it stopped
// there before n characters.
func (d *dissector) printN(off, n int) bool {
	for ; n > 0 && off < d.end; n, off = n-1, off+1 {
		d.char(d.data[off])
	}
	return n == 0
}
