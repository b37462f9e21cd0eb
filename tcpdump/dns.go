package tcpdump

import "strconv"

// DNS and mDNS over UDP and TCP: tcpdump's print-domain.c.

var dnsOps = [16]string{"", " inv_q", " stat", " op3", " notify", " update", " op6", " op7",
	" op8", " updateA", " updateD", " updateDA", " updateM", " updateMA", " zoneInit", " zoneRef"}

// dnsRcodes is ns_resp, its missing spaces included.
var dnsRcodes = [...]string{"", " FormErr", " ServFail", " NXDomain", " NotImp", " Refused", " YXDomain", " YXRRSet",
	" NXRRSet", " NotAuth", " NotZone", " Resp11", " Resp12", " Resp13", " Resp14", " NoChange",
	" BadVers", "Resp17", " Resp18", " Resp19", " Resp20", "Resp21", " Resp22", " BadCookie"}

func (d *dissector) rcode(r uint) {
	if r < uint(len(dnsRcodes)) {
		d.s(dnsRcodes[r])
		return
	}
	d.s(" Resp")
	d.u(uint64(r & 0xfff))
}

// dnsTypes is ns_type2str.
var dnsTypes = map[uint16]string{
	1: "A", 2: "NS", 3: "MD", 4: "MF", 5: "CNAME", 6: "SOA", 7: "MB", 8: "MG", 9: "MR", 10: "NULL",
	11: "WKS", 12: "PTR", 13: "HINFO", 14: "MINFO", 15: "MX", 16: "TXT", 17: "RP", 18: "AFSDB", 19: "X25",
	20: "ISDN", 21: "RT", 22: "NSAP", 23: "NSAP_PTR", 24: "SIG", 25: "KEY", 26: "PX", 27: "GPOS", 28: "AAAA",
	29: "LOC", 30: "NXT", 31: "EID", 32: "NIMLOC", 33: "SRV", 34: "ATMA", 35: "NAPTR", 36: "KX", 37: "CERT",
	38: "A6", 39: "DNAME", 40: "SINK", 41: "OPT", 42: "APL", 43: "DS", 44: "SSHFP", 45: "IPSECKEY",
	46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 99: "SPF", 100: "UINFO", 101: "UID", 102: "GID", 103: "UNSPEC",
	104: "UNSPECA", 249: "TKEY", 250: "TSIG", 251: "IXFR", 252: "AXFR", 253: "MAILB", 254: "MAILA",
	255: "ANY", 256: "URI",
}

func (d *dissector) dnsType(t uint16) {
	if name, ok := dnsTypes[t]; ok {
		d.s(name)
		return
	}
	d.s("Type")
	d.u(uint64(t))
}

func (d *dissector) dnsClass(c uint16) {
	switch c {
	case 1:
		d.s("IN")
	case 3:
		d.s("CHAOS")
	case 4:
		d.s("HS")
	case 255:
		d.s("ANY")
	default:
		d.s("(Class ")
		d.u(uint64(c))
		d.c(')')
	}
}

// nsSkip is ns_nskip: where the name at cp ends, or -1.
func (d *dissector) nsSkip(cp int) int {
	if !d.has(cp, 1) {
		return -1
	}
	i := d.data[cp]
	cp++
	for i != 0 {
		switch i & 0xc0 {
		case 0xc0:
			return cp + 1
		case 0x40:
			if i&^0xc0 != 0x01 || !d.has(cp, 1) {
				return -1
			}
			bits := int(d.data[cp])
			if bits == 0 {
				bits = 256
			}
			cp += 1 + (bits+7)/8
		case 0x80:
			return -1
		default:
			cp += int(i)
		}
		if !d.has(cp, 1) {
			return -1
		}
		i = d.data[cp]
		cp++
	}
	return cp
}

// domain is domain_print: the DNS message at off, length bytes, over TCP
// (with its length prefix) or UDP, mDNS (RFC 6762) or not.
func (d *dissector) domain(off, length int, tcp, mdns bool) {
	d.proto = "domain"
	if tcp {
		if length < 2 {
			d.s(" [DNS over TCP: length ")
			d.u(uint64(length))
			d.s(" < 2] (invalid)")
			return
		}
		length -= 2
		prefix := d.u16(off)
		if d.cut {
			return
		}
		if int(prefix) != length {
			d.s(" [prefix length(")
			d.u(uint64(prefix))
			d.s(") != length(")
			d.u(uint64(length))
			d.s(")] (invalid)")
			return
		}
		off += 2
		d.c(' ')
	}
	if length < 12 {
		d.s("domain [length ")
		d.u(uint64(length))
		d.s(" < 12] (invalid)")
		return
	}
	if !d.has(off, 12) {
		d.trunc()
		return
	}
	id, flags := d.u16(off), d.u16(off+2)
	qd, an, ns, ar := int(d.u16(off+4)), int(d.u16(off+6)), int(d.u16(off+8)), int(d.u16(off+10))
	rcode := uint(flags & 0xf)
	rcode |= d.extendedRcode(off, qd, an+ns, ar)
	opcode := flags >> 11 & 0xf
	v2 := d.o.Verbose > 1
	cp := off + 12
	// section prints count records after prefix; false if cut short.
	section := func(prefix string, count int) bool {
		if count > 0 && (prefix == "" || cp < d.end) {
			d.s(prefix)
			if cp = d.nsRecord(cp, off, mdns); cp < 0 {
				return false
			}
			count--
			for cp < d.end && count > 0 {
				d.c(',')
				if cp = d.nsRecord(cp, off, mdns); cp < 0 {
					return false
				}
				count--
			}
		}
		return count == 0
	}
	ok := func() bool {
		if flags&0x8000 != 0 { // a response
			d.u(uint64(id))
			d.s(dnsOps[opcode])
			d.rcode(rcode)
			if flags&0x0400 != 0 {
				d.c('*')
			}
			if flags&0x0080 == 0 {
				d.c('-')
			}
			if flags&0x0200 != 0 {
				d.c('|')
			}
			if flags&0x0020 != 0 {
				d.c('$')
			}
			if qd != 1 {
				d.s(" [")
				d.u(uint64(qd))
				d.s("q]")
			}
			for i := 0; i < qd; i++ {
				if i != 0 {
					d.c(',')
				}
				if v2 {
					d.s(" q:")
					if cp = d.nsQuestion(cp, off, mdns); cp < 0 {
						return false
					}
				} else {
					if cp = d.nsSkip(cp); cp < 0 {
						return false
					}
					cp += 4
				}
			}
			d.c(' ')
			d.u(uint64(an))
			d.c('/')
			d.u(uint64(ns))
			d.c('/')
			d.u(uint64(ar))
			if an > 0 {
				if !section("", an) {
					return false
				}
			}
			return !v2 || section(" ns:", ns) && section(" ar:", ar)
		}
		d.u(uint64(id))
		d.s(dnsOps[opcode])
		if flags&0x0100 != 0 {
			d.c('+')
		}
		if flags&0x0010 != 0 {
			d.c('%')
		}
		if flags&0x6cf != 0 {
			d.s(" [b2&3=0x")
			d.x(uint64(flags))
			d.c(']')
		}
		count := func(n int, suffix string) {
			d.s(" [")
			d.u(uint64(n))
			d.s(suffix)
			d.c(']')
		}
		if opcode == 1 { // inverse query
			if qd != 0 {
				count(qd, "q")
			}
			if an != 1 {
				count(an, "a")
			}
		} else {
			if an != 0 {
				count(an, "a")
			}
			if qd != 1 {
				count(qd, "q")
			}
		}
		if ns != 0 {
			count(ns, "n")
		}
		if ar != 0 {
			count(ar, "au")
		}
		if qd > 0 {
			if cp = d.nsQuestion(cp, off, mdns); cp < 0 {
				return false
			}
			qd--
			for cp < d.end && qd > 0 {
				if cp = d.nsQuestion(cp, off, mdns); cp < 0 {
					return false
				}
				qd--
			}
		}
		if qd != 0 {
			return false
		}
		return !v2 || section("", an) && section(" ns:", ns) && section(" ar:", ar)
	}()
	if d.cut {
		return
	}
	if !ok {
		d.trunc()
		return
	}
	d.s(" (")
	d.u(uint64(length))
	d.c(')')
}

// extendedRcode finds the OPT record of the additional section and
// returns its extended RCODE bits, shifted into place; 0 where there is
// none or the message ends before it.
func (d *dissector) extendedRcode(off, qd, anns, ar int) uint {
	cp := off + 12
	for i := 0; i < qd; i++ {
		if cp = d.nsSkip(cp); cp < 0 {
			return 0
		}
		if cp += 4; cp >= d.end {
			return 0
		}
	}
	for i := 0; i < anns; i++ {
		if cp = d.nsSkip(cp); cp < 0 {
			return 0
		}
		if cp += 8; cp+2 > d.end {
			return 0
		}
		if cp += 2 + int(d.u16(cp)); cp >= d.end {
			return 0
		}
	}
	for i := 0; i < ar; i++ {
		if cp = d.nsSkip(cp); cp < 0 || cp+2 > d.end {
			return 0
		}
		t := d.u16(cp)
		if cp += 4; cp+1 > d.end {
			return 0
		}
		if t == 41 {
			return uint(d.data[cp]) << 4
		}
		if cp += 4; cp+2 > d.end {
			return 0
		}
		if cp += 2 + int(d.u16(cp)); cp >= d.end {
			return 0
		}
	}
	return 0
}

// nsQuestion is ns_qprint.
func (d *dissector) nsQuestion(cp, base int, mdns bool) int {
	name := cp
	if cp = d.nsSkip(cp); cp < 0 || !d.has(cp, 4) {
		return -1
	}
	d.c(' ')
	d.dnsType(d.u16(cp))
	c := d.u16(cp + 2)
	class := c
	if mdns {
		class &^= 0x8000
	}
	if class != 1 {
		d.c(' ')
		d.dnsClass(class)
	}
	if mdns {
		if c&0x8000 != 0 {
			d.s(" (QU)")
		} else {
			d.s(" (QM)")
		}
	}
	d.s("? ")
	if cp = d.fqdn(name, base); cp < 0 {
		return -1
	}
	return cp + 4
}

// nsRecord is ns_rprint: one resource record; where the next starts, or
// -1 where tcpdump gives up on the message.
func (d *dissector) nsRecord(cp, base int, mdns bool) int {
	if d.o.Verbose > 0 {
		d.c(' ')
		if cp = d.fqdn(cp, base); cp < 0 {
			return -1
		}
	} else {
		cp = d.nsSkip(cp)
	}
	if cp < 0 || !d.has(cp, 10) {
		return d.end
	}
	typ := d.u16(cp)
	c := d.u16(cp + 2)
	class := c
	if mdns {
		class &^= 0x8000
	}
	if class != 1 && typ != 41 {
		d.c(' ')
		d.dnsClass(class)
	}
	if mdns && c&0x8000 != 0 {
		d.s(" (Cache flush)")
	}
	var optFlags uint16
	switch {
	case typ == 41:
		optFlags = d.u16(cp + 6)
	case d.o.Verbose > 2:
		d.s(" [")
		d.relTime(d.u32(cp + 4))
		d.c(']')
	}
	n := int(d.u16(cp + 8))
	cp += 10
	rp := cp + n
	d.c(' ')
	d.dnsType(typ)
	if rp > d.end {
		return -1
	}
	switch typ {
	case 1:
		if !d.has(cp, 4) {
			return -1
		}
		d.c(' ')
		d.addr4(cp)
	case 2, 5, 12, 39:
		d.c(' ')
		if d.fqdn(cp, base) < 0 {
			return -1
		}
	case 6: // SOA
		if d.o.Verbose == 0 {
			break
		}
		d.c(' ')
		if cp = d.fqdn(cp, base); cp < 0 {
			return -1
		}
		d.c(' ')
		if cp = d.fqdn(cp, base); cp < 0 {
			return -1
		}
		if !d.has(cp, 20) {
			return -1
		}
		for i := 0; i < 5; i++ {
			d.c(' ')
			d.u(uint64(d.u32(cp + 4*i)))
		}
	case 15: // MX
		d.c(' ')
		if !d.has(cp, 2) || d.fqdn(cp+2, base) < 0 {
			return -1
		}
		d.c(' ')
		d.u(uint64(d.u16(cp)))
	case 16: // TXT
		for cp < rp {
			d.s(" \"")
			if cp = d.charString(cp); cp < 0 {
				return -1
			}
			d.c('"')
		}
	case 33: // SRV
		d.c(' ')
		if !d.has(cp, 6) || d.fqdn(cp+6, base) < 0 {
			return -1
		}
		d.c(':')
		d.u(uint64(d.u16(cp + 4)))
		d.c(' ')
		d.u(uint64(d.u16(cp)))
		d.c(' ')
		d.u(uint64(d.u16(cp + 2)))
	case 28:
		if !d.has(cp, 16) {
			return -1
		}
		d.c(' ')
		d.addr6(cp)
	case 38: // A6, RFC 2874
		if !d.has(cp, 1) {
			return -1
		}
		pbit := int(d.data[cp])
		pbyte := (pbit &^ 7) / 8
		if pbit > 128 {
			d.c(' ')
			d.u(uint64(pbit))
			d.s("(bad plen)")
			break
		}
		if pbit < 128 {
			if !d.need(cp+1, 16-pbyte) {
				return -1
			}
			var a [16]byte
			copy(a[pbyte:], d.data[cp+1:cp+1+16-pbyte])
			d.c(' ')
			d.u(uint64(pbit))
			d.c(' ')
			d.out = appendIP6(d.out, a[:])
		}
		if pbit > 0 {
			d.c(' ')
			if d.fqdn(cp+1+16-pbyte, base) < 0 {
				return -1
			}
		}
	case 256: // URI, RFC 7553
		if !d.has(cp, n) {
			return -1
		}
		prio, weight := d.u16(cp), d.u16(cp+2)
		if d.cut {
			return -1
		}
		d.c(' ')
		d.u(uint64(prio))
		d.c(' ')
		d.u(uint64(weight))
		d.c(' ')
		if !d.printN(cp+4, int(uint32(n-4))) { // unsigned in tcpdump
			return -1
		}
	case 41: // OPT, RFC 6891
		d.s(" UDPsize=")
		d.u(uint64(class))
		if optFlags&0x8000 != 0 {
			d.s(" DO")
		}
		if cp < rp {
			d.s(" [")
			for cp < rp {
				if cp = d.ednsOption(cp); cp < 0 {
					return -1
				}
				if cp < rp {
					d.c(',')
				}
			}
			d.c(']')
		}
	case 104: // UNSPECA
		if !d.has(cp, n) || !d.printN(cp, n) {
			return -1
		}
	case 250: // TSIG
		if cp+n > d.end {
			return -1
		}
		if d.o.Verbose == 0 {
			break
		}
		d.c(' ')
		if cp = d.fqdn(cp, base); cp < 0 {
			return -1
		}
		cp += 6
		for _, f := range []string{" fudge=", " maclen=", " origid=", " error=", " otherlen="} {
			if !d.has(cp, 2) {
				return -1
			}
			v := d.u16(cp)
			d.s(f)
			d.u(uint64(v))
			cp += 2
			if f == " maclen=" {
				cp += int(v)
			}
		}
	}
	return rp
}

// relTime is unsigned_relts_print: 1y2w3d4h5m6s.
func (d *dissector) relTime(secs uint32) {
	if secs == 0 {
		d.s("0s")
		return
	}
	for i, unit := range [...]uint32{31536000, 604800, 86400, 3600, 60, 1} {
		if secs >= unit {
			d.u(uint64(secs / unit))
			d.c("ywdhms"[i])
			secs %= unit
		}
	}
}

// charString is ns_cprint: a <character-string>.
func (d *dissector) charString(cp int) int {
	if !d.has(cp, 1) {
		return -1
	}
	n := int(d.data[cp])
	if !d.printN(cp+1, n) {
		return -1
	}
	return cp + 1 + n
}

// ednsOptNames is edns_opt2str.
var ednsOptNames = map[uint16]string{1: "LLQ", 2: "UL", 3: "NSID", 5: "DAU", 6: "DHU", 7: "N3U", 8: "ECS",
	9: "EXPIRE", 10: "COOKIE", 11: "KEEPALIVE", 12: "PADDING", 13: "CHAIN", 14: "KEY-TAG", 16: "CLIENT-TAG",
	17: "SERVER-TAG"}

// Algorithm names of DAU, DHU and N3U (RFC 6975).
var (
	dauNames = map[uint8]string{0: "DELETE", 1: "RSAMD5", 2: "DH", 3: "DS", 5: "RSASHA1", 6: "DSA-NSEC3-SHA1",
		7: "RSASHA1-NSEC3-SHA1", 8: "RSASHA256", 10: "RSASHA512", 12: "ECC-GOST", 13: "ECDSAP256SHA256",
		14: "ECDSAP384SHA384", 15: "ED25519", 16: "ED448", 252: "INDIRECT", 253: "PRIVATEDNS", 254: "PRIVATEOID"}
	dhuNames = map[uint8]string{1: "SHA-1", 2: "SHA-256", 3: "GOST_R_34.11-94", 4: "SHA-384"}
	n3uNames = map[uint8]string{1: "SHA-1"}
)

// ednsOption is eopt_print.
func (d *dissector) ednsOption(cp int) int {
	if !d.has(cp, 2) {
		return -1
	}
	opt := d.u16(cp)
	cp += 2
	if name, ok := ednsOptNames[opt]; ok {
		d.s(name)
	} else {
		d.s("Opt")
		d.u(uint64(opt))
	}
	if !d.has(cp, 2) {
		return -1
	}
	n := int(d.u16(cp))
	cp += 2
	if !d.has(cp, n) {
		return -1
	}
	if n == 0 {
		return cp
	}
	d.c(' ')
	b := d.data[cp : cp+n]
	algs := func(names map[uint8]string) {
		for i, a := range b {
			if i > 0 {
				d.c(' ')
			}
			if name, ok := names[a]; ok {
				d.s(name)
			} else {
				d.s("Alg_")
				d.u(uint64(a))
			}
		}
	}
	switch opt {
	case 8:
		d.clientSubnet(b)
	case 10: // COOKIE, RFC 7873
		if n < 8 || (n > 8 && n < 16) || n > 40 {
			d.s(" (invalid)")
			break
		}
		for i, c := range b {
			if i == 8 {
				d.c(' ')
			}
			d.xw(uint64(c), 2)
		}
	case 11: // KEEPALIVE, in units of 100 ms
		if n != 2 {
			d.s(" (invalid)")
			break
		}
		d.out = strconv.AppendFloat(d.out, float64(uint16(b[0])<<8|uint16(b[1]))/10, 'f', 1, 64)
		d.s(" sec")
	case 9:
		if n != 4 {
			d.s(" (invalid)")
			break
		}
		d.u(uint64(d.u32(cp)))
		d.s(" sec")
	case 12:
		d.c('(')
		d.u(uint64(n))
		d.c(')')
	case 14:
		if n%2 != 0 {
			d.s(" (invalid)")
			break
		}
		for i := 0; i < n; i += 2 {
			if i > 0 {
				d.c(' ')
			}
			d.u(uint64(d.u16(cp + i)))
		}
	case 5:
		algs(dauNames)
	case 6:
		algs(dhuNames)
	case 7:
		algs(n3uNames)
	case 13:
		d.fqdn(cp, cp+n)
		if d.cut {
			return -1
		}
	default:
		for _, c := range b {
			d.xw(uint64(c), 2)
		}
	}
	return cp + n
}

// clientSubnet is print_eopt_ecs (RFC 7871).
func (d *dissector) clientSubnet(b []byte) {
	if len(b) < 4 {
		d.s(" (invalid)")
		return
	}
	family := uint16(b[0])<<8 | uint16(b[1])
	src, scope := int(b[2]), int(b[3])
	bits := 0
	switch family {
	case 1:
		bits = 32
	case 2:
		bits = 128
	default:
		d.s(" (invalid)")
		return
	}
	if len(b)-4 > bits/8 || src > bits || scope > bits || (src+7)/8 != len(b)-4 {
		d.s(" (invalid)")
		return
	}
	var a [16]byte
	copy(a[:], b[4:])
	if family == 1 {
		d.out = appendIP4(d.out, a[:4])
	} else {
		d.out = appendIP6(d.out, a[:])
	}
	d.c('/')
	d.out = strconv.AppendInt(d.out, int64(src), 10)
	d.c('/')
	d.out = strconv.AppendInt(d.out, int64(scope), 10)
}
