package tcpdump

// Link layers: tcpdump's print-ether.c, print-arista.c, print-sll.c,
// print-arp.c and the raw IP printer.

import "time"

const (
	etherTypeIPv4   = 0x0800
	etherTypeARP    = 0x0806
	etherTypeRARP   = 0x8035
	etherType8021Q  = 0x8100
	etherTypeIPv6   = 0x86dd
	etherTypeQinQ   = 0x88a8
	etherType9100   = 0x9100
	etherType9200   = 0x9200
	etherTypeArista = 0xd28b
	maxEtherPayload = 1500
)

// etherTypeName is tcpdump's ethertype_values (as tcpdump 4.99.3 prints
// them); "" for the types it does not name.
func etherTypeName(t uint16) string {
	switch t {
	case 0x0600:
		return "NS"
	case 0x0800:
		return "IPv4"
	case 0x0806:
		return "ARP"
	case 0x1000:
		return "Trail"
	case 0x1111:
		return "CALM FAST"
	case 0x6001:
		return "MOP DL"
	case 0x6002:
		return "MOP RC"
	case 0x6003:
		return "DN"
	case 0x6004:
		return "LAT"
	case 0x6007:
		return "SCA"
	case 0x6558:
		return "TEB"
	case 0x8035:
		return "Reverse ARP"
	case 0x8038:
		return "Lanbridge"
	case 0x803c:
		return "DEC DNS"
	case 0x803e:
		return "DEC DTS"
	case 0x805b:
		return "VEXP"
	case 0x805c:
		return "VPROD"
	case 0x809b:
		return "Appletalk"
	case 0x80f3:
		return "Appletalk ARP"
	case 0x8100:
		return "802.1Q"
	case 0x8137:
		return "IPX"
	case 0x86dd:
		return "IPv6"
	case 0x8808:
		return "MPCP"
	case 0x8809:
		return "Slow Protocols"
	case 0x880b:
		return "PPP"
	case 0x8847:
		return "MPLS unicast"
	case 0x8848:
		return "MPLS multicast"
	case 0x8863:
		return "PPPoE D"
	case 0x8864:
		return "PPPoE S"
	case 0x886f:
		return "MS NLB heartbeat"
	case 0x888e:
		return "EAPOL"
	case 0x8899:
		return "Realtek protocols"
	case 0x88a2:
		return "AoE"
	case 0x88a8:
		return "802.1Q-QinQ"
	case 0x88ca:
		return "TIPC"
	case 0x88cc:
		return "LLDP"
	case 0x88e5:
		return "802.1AE MACsec"
	case 0x88f7:
		return "PTP"
	case 0x8902:
		return "CFM"
	case 0x893a:
		return "IEEE1905.1"
	case 0x8947:
		return "GeoNet"
	case 0x894f:
		return "NSH"
	case 0x9000:
		return "Loopback"
	case 0x9100:
		return "802.1Q-9100"
	case 0x9200:
		return "802.1Q-9200"
	case 0xd28b:
		return "Arista Vendor Specific Protocol"
	case 0xfefe:
		return "OSI"
	}
	return ""
}

// vlanCut ends the line where a VLAN tag is cut short.
func (d *dissector) vlanCut() {
	d.proto = "vlan"
	d.trunc()
}

// etherType is ether_type_print.
func (d *dissector) etherType(t uint16) {
	name := etherTypeName(t)
	if d.o.Quiet {
		if name == "" {
			d.s("Unknown Ethertype (0x")
			d.xw(uint64(t), 4)
			d.c(')')
			return
		}
		d.s(name)
		return
	}
	if name == "" {
		name = "Unknown"
	}
	d.s("ethertype ")
	d.s(name)
	d.s(" (0x")
	d.xw(uint64(t), 4)
	d.c(')')
}

// etherIf is ether_if_print / ether_common_print.
func (d *dissector) etherIf(length int) int { return d.etherAt(0, length) }

// etherAt is ether_print: the Ethernet frame at base, as a link header
// or inside IPv6 (next header 143, RFC 8986's End.DX2). It returns where
// the frame's payload starts.
func (d *dissector) etherAt(base, length int) int {
	d.proto = "ether"
	caplen := d.end - base
	if caplen < 14 {
		d.trunc()
		return base + caplen
	}
	orig := length
	if d.o.Ether {
		d.etherAddrs(base+6, base)
	}
	off := base + 12
	length -= 12
	caplen -= 12
recurse: // ether_print's label: after an Arista header, the type again
	lt := d.u16(off)
	if d.cut {
		return off // the Arista header ends the capture
	}
	off += 2
	length -= 2
	caplen -= 2
	printedLength := false
	for lt == etherType8021Q || lt == etherType9100 || lt == etherType9200 || lt == etherTypeQinQ {
		if caplen < 4 {
			d.vlanCut()
			return off + caplen
		}
		if length < 4 {
			d.vlanCut()
			return off + length
		}
		if d.o.Ether {
			tag := d.u16(off)
			d.etherType(lt)
			if !printedLength {
				d.s(", length ")
				d.u(uint64(orig))
				d.s(": ")
				printedLength = true
			} else {
				d.s(", ")
			}
			d.tci(tag)
			d.s(", ")
		}
		lt = d.u16(off + 2)
		if d.cut {
			return off
		}
		off += 4
		length -= 4
		caplen -= 4
	}
	if lt <= maxEtherPayload {
		// An 802.3 length and an LLC header, which pingcraft does not
		// dissect: print what tcpdump prints for an unknown LLC frame
		// with the link header.
		if d.o.Ether {
			d.s("802.3")
			if !printedLength {
				d.s(", length ")
				d.u(uint64(lt))
				d.s(": ")
			}
		} else {
			d.etherAddrs(base+6, base)
			d.s("802.3, length ")
			d.u(uint64(lt))
			d.s(": ")
		}
		d.unknownPayload(off, caplen)
		return off
	}
	if lt == etherTypeArista {
		if caplen < 2 || length < 2 {
			d.s("[|arista]")
			return off + min(caplen, length)
		}
		// Printed with -e or not, and again for the type after it.
		d.etherType(lt)
		d.s(", length ")
		d.u(uint64(orig))
		d.s(": ")
		if n := d.arista(off); n > 0 {
			off += n
			length -= n
			caplen -= n
			goto recurse
		}
		if d.cut {
			return off
		}
		if !d.o.Ether {
			d.etherAddrs(base+6, base)
			d.etherType(lt)
			d.s(", length ")
			d.u(uint64(orig))
			d.s(": ")
		}
		d.unknownPayload(off, caplen)
		return off
	}
	if d.o.Ether {
		d.etherType(lt)
		if !printedLength {
			d.s(", length ")
			d.u(uint64(orig))
			d.s(": ")
		} else {
			d.s(", ")
		}
	}
	if !d.etherTypePrint(lt, off, length) {
		if d.cut {
			return off
		}
		if !d.o.Ether {
			d.etherAddrs(base+6, base)
			d.etherType(lt)
			d.s(", length ")
			d.u(uint64(orig))
			d.s(": ")
		}
		d.unknownPayload(off, caplen)
	}
	return off
}

// arista is arista_ethertype_print: Arista's time stamp header (subtype,
// version, a 64- or 48-bit time) at off. It returns the header's length,
// or 0 where tcpdump dumps the rest: another subtype or time format, or
// the header cut short (d.cut).
func (d *dissector) arista(off int) int {
	d.proto = "arista"
	sub := d.u16(off)
	if d.cut {
		return 0
	}
	d.s("SubType ")
	if sub == 1 {
		d.s("Timestamp")
	} else {
		d.s("Unknown")
	}
	d.s(" (0x")
	d.xw(uint64(sub), 4)
	d.s("), ")
	if sub != 1 {
		return 0
	}
	scale := d.u8(off + 2)
	if d.cut {
		return 0
	}
	d.s("Timescale ")
	d.s(pick(scale, "Unknown", "TAI", "UTC"))
	d.s(" (")
	d.u(uint64(scale))
	d.s("), ")
	v := d.u8(off + 3)
	if d.cut {
		return 0
	}
	format, hw := v>>4, v&0xf
	d.s("Format ")
	d.s(pick(format, "Unknown", "Unknown", "64-bit", "48-bit"))
	d.s(" (")
	d.u(uint64(format))
	d.s("), HwInfo ")
	d.s(pick(hw, "Unknown", "R/R2", "R3"))
	d.s(" (")
	d.u(uint64(hw))
	d.s("), Timestamp ")
	var n int
	switch format {
	case 1:
		sec := uint64(d.u32(off + 4))
		ns := d.u32(off + 8)
		if d.cut {
			return 0
		}
		sec += uint64(ns / 1e9)
		t := time.Unix(int64(sec), 0).UTC()
		d.out = t.AppendFormat(d.out, "2006-01-02 15:04:05")
		d.c('.')
		d.out = appendPad(d.out, uint64(ns%1e9), 10, 9)
		n = 12
	case 2:
		sec := uint64(d.u16(off + 4))
		ns := d.u32(off + 6)
		if d.cut {
			return 0
		}
		d.u(sec + uint64(ns/1e9))
		d.c('.')
		d.out = appendPad(d.out, uint64(ns%1e9), 10, 9)
		n = 10
	default:
		return 0
	}
	d.s(": ")
	return n
}

// pick is tok2str over names numbered from 0: names[v], or unknown.
func pick(v uint8, unknown string, names ...string) string {
	if int(v) < len(names) {
		return names[v]
	}
	return unknown
}

// etherAddrs is ether_addresses_print: "src > dst, ".
func (d *dissector) etherAddrs(src, dst int) {
	if !d.need(dst, 12) {
		return
	}
	d.mac(src)
	d.s(" > ")
	d.mac(dst)
	d.s(", ")
}

// tci is ieee8021q_tci_string.
func (d *dissector) tci(tag uint16) {
	d.s("vlan ")
	d.u(uint64(tag & 0xfff))
	d.s(", p ")
	d.u(uint64(tag >> 13))
	if tag&0x1000 != 0 {
		d.s(", DEI")
	}
}

// etherTypePrint is ethertype_print for the types pingcraft dissects; false
// for the others.
func (d *dissector) etherTypePrint(t uint16, off, length int) bool {
	switch t {
	case etherTypeIPv4:
		d.ip(off, length)
	case etherTypeIPv6:
		d.ip6(off, length)
	case etherTypeARP, etherTypeRARP:
		d.arp(off, length)
	default:
		return false
	}
	return true
}

// rawIf is raw_if_print: LINKTYPE_RAW, IPV4 and IPV6.
func (d *dissector) rawIf(length int) int {
	if d.o.Ether {
		d.s("ip: ")
	}
	d.ipN(0, length)
	return 0
}

// ipN is ipN_print: IPv4 or IPv6 by the version nibble.
func (d *dissector) ipN(off, length int) {
	d.proto = "ipN"
	if length < 1 {
		d.s("truncated-ip ")
		d.u(uint64(length))
		return
	}
	v := d.u8(off)
	if d.cut {
		return
	}
	switch v & 0xf0 {
	case 0x40:
		d.ip(off, length)
	case 0x60:
		d.ip6(off, length)
	default:
		d.s("unknown ip ")
		d.u(uint64(v >> 4))
	}
}

// sllPacketType is sll_pkttype_values.
func sllPacketType(t uint16) string {
	switch t {
	case 0:
		return "In"
	case 1:
		return "B"
	case 2:
		return "M"
	case 3:
		return "P"
	case 4:
		return "Out"
	}
	return "?"
}

const (
	sllHdrLen  = 16
	sll2HdrLen = 20
)

// sllIf is sll_if_print: Linux cooked capture v1.
func (d *dissector) sllIf(length int) int {
	d.proto = "sll"
	if d.end < sllHdrLen {
		d.cut = true
		return 0
	}
	if d.o.Ether {
		d.sllHeader(d.u16(0), 6, int(d.u16(4)), d.u16(14), length)
		if d.cut {
			return 0
		}
	}
	return d.cooked(sllHdrLen, length-sllHdrLen, d.u16(14), func() {
		d.sllHeader(d.u16(0), 6, int(d.u16(4)), d.u16(14), length)
	})
}

// sll2If is sll2_if_print: Linux cooked capture v2.
func (d *dissector) sll2If(length int) int {
	d.proto = "sll2"
	if d.end < sll2HdrLen {
		d.cut = true
		return 0
	}
	index := d.u32(4)
	name := d.pr.interfaceName(index)
	d.s(name)
	for i := len(name); i < 5; i++ {
		d.c(' ')
	}
	d.c(' ')
	pt := sllPacketType(uint16(d.u8(10)))
	d.s(pt)
	for i := len(pt); i < 3; i++ {
		d.c(' ')
	}
	d.c(' ')
	header := func() {
		d.s("ifindex ")
		d.u(uint64(index))
		d.c(' ')
		d.sllHeader(0, 12, int(d.u8(11)), d.u16(0), length)
	}
	if d.o.Ether {
		header()
		if d.cut {
			return 0
		}
	}
	return d.cooked(sll2HdrLen, length-sll2HdrLen, d.u16(0), header)
}

// sllHeader is sll_print and sll2_print after the interface: direction
// (SLL v1 only), address and protocol. pktType 0 with addrOff 12 means
// SLL2, whose direction was printed already.
func (d *dissector) sllHeader(pktType uint16, addrOff, addrLen int, proto uint16, length int) {
	if addrOff == 6 {
		pt := sllPacketType(pktType)
		for i := len(pt); i < 3; i++ {
			d.c(' ')
		}
		d.s(pt)
		d.c(' ')
	}
	if addrLen == 6 {
		d.mac(addrOff)
		d.c(' ')
	}
	if d.o.Quiet {
		return
	}
	if proto <= maxEtherPayload {
		switch proto {
		case 1:
			d.s("802.3")
		case 4:
			d.s("802.2")
		default:
			d.s("ethertype Unknown (0x")
			d.xw(uint64(proto), 4)
			d.c(')')
		}
	} else {
		d.etherType(proto)
	}
	d.s(", length ")
	d.u(uint64(length))
	d.s(": ")
}

// cooked is the part sll_if_print and sll2_if_print share: the protocol
// field, VLAN tags, the payload.
func (d *dissector) cooked(off, length int, proto uint16, header func()) int {
	caplen := d.end - off
	for {
		switch {
		case proto <= maxEtherPayload:
			// Novell 802.3 and 802.2 LLC, which pingcraft does not dissect.
			d.unknownPayload(off, caplen)
			return off
		case proto == etherType8021Q:
			if caplen < 4 {
				d.vlanCut()
				return off + caplen
			}
			if d.o.Ether {
				tag := d.u16(off)
				d.tci(tag)
				d.s(", ")
			}
			proto = d.u16(off + 2)
			if d.cut {
				return off
			}
			if proto <= maxEtherPayload {
				proto = 4
			}
			if !d.o.Quiet {
				name := etherTypeName(proto)
				if name == "" {
					name = "Unknown"
				}
				d.s("ethertype ")
				d.s(name)
				d.s(", ")
			}
			off += 4
			length -= 4
			caplen -= 4
			continue
		}
		if !d.etherTypePrint(proto, off, length) && !d.cut {
			if !d.o.Ether {
				header()
			}
			d.unknownPayload(off, caplen)
		}
		return off
	}
}

// arpHardware is arphrd_values.
func arpHardware(t uint16) string {
	switch t {
	case 1:
		return "Ethernet"
	case 6:
		return "TokenRing"
	case 7:
		return "ArcNet"
	case 15:
		return "FrameRelay"
	case 19:
		return "ATM"
	case 23:
		return "Strip"
	case 24:
		return "IEEE 1394"
	case 32:
		return "InfiniBand"
	}
	return ""
}

// arp is arp_print for Ethernet and IPv4 addresses.
func (d *dissector) arp(off, length int) {
	d.proto = "arp"
	if !d.need(off, 8) {
		return
	}
	hrd := d.u16(off)
	pro := d.u16(off + 2)
	hln := int(d.u8(off + 4))
	pln := int(d.u8(off + 5))
	op := d.u16(off + 6)
	sha := off + 8
	spa := sha + hln
	tha := spa + pln
	tpa := tha + hln
	if hrd == 19 { // ATM ARP (RFC 2225) has another layout
		d.atmarp(off, length)
		return
	}
	d.frelay = hrd == 15 // Frame Relay hardware addresses are Q.922 DLCIs
	defer func() { d.frelay = false }()
	if !d.need(tpa, pln) {
		return
	}
	if !d.o.Ether {
		d.s("ARP, ")
	}
	isIP := (pro == etherTypeIPv4 || pro == 0x1000) && pln == 4
	if !isIP || hln == 0 || d.o.Verbose > 0 {
		d.nameOr(arpHardware(hrd), "Unknown Hardware (", uint64(hrd), ")")
		d.s(" (len ")
		d.u(uint64(hln))
		d.s("), ")
		d.arpProtocol(pro)
		d.s(" (len ")
		d.u(uint64(pln))
		d.c(')')
		if d.o.Verbose == 0 {
			d.arpLength(length)
			return
		}
		d.s(", ")
	}
	switch op {
	case 1:
		d.s("Request who-has ")
		d.arpIP(tpa, pro, pln)
		if d.nonzero(tha, hln) {
			d.s(" (")
			d.linkAddr(tha, hln)
			d.c(')')
		}
		d.s(" tell ")
		d.arpIP(spa, pro, pln)
	case 2:
		d.s("Reply ")
		d.arpIP(spa, pro, pln)
		d.s(" is-at ")
		d.linkAddr(sha, hln)
	case 3:
		d.s("Reverse Request who-is ")
		d.linkAddr(tha, hln)
		d.s(" tell ")
		d.linkAddr(sha, hln)
	case 4:
		d.s("Reverse Reply ")
		d.linkAddr(tha, hln)
		d.s(" at ")
		d.arpIP(tpa, pro, pln)
	case 8:
		d.s("Inverse Request who-is ")
		d.linkAddr(tha, hln)
		d.s(" tell ")
		d.arpIP(spa, pro, pln)
	case 9:
		d.s("Inverse Reply ")
		d.linkAddr(sha, hln)
		d.s(" at ")
		d.arpIP(spa, pro, pln)
	default:
		if op == 10 {
			d.s("NACK Reply ")
		} else {
			d.s("Unknown (")
			d.u(uint64(op))
			d.s(") ")
		}
		d.defaultPrint(off, d.end-off)
		return
	}
	d.arpLength(length)
}

// q922 is q922_string: the DLCI of a Q.922 address (RFC 2427).
func (d *dissector) q922(p []byte) {
	bad, short := "<Invalid DLCI>", "<Truncated>"
	if len(p) < 1 {
		d.s(short)
		return
	}
	if p[0]&1 != 0 {
		d.s(bad)
		return
	}
	if len(p) < 2 {
		d.s(short)
		return
	}
	dlci := uint64(p[0]&0xfc)<<2 | uint64(p[1]&0xf0)>>4
	if p[1]&1 == 0 {
		p = p[2:]
		if len(p) < 1 {
			d.s(short)
			return
		}
		if p[0]&1 == 0 { // a 4-byte address
			dlci = dlci<<7 | uint64(p[0]>>1)
			p = p[1:]
		}
		if len(p) < 1 {
			d.s(short)
			return
		}
		if p[0]&1 == 0 {
			d.s(bad)
			return
		}
		dlci = dlci<<6 | uint64(p[0]>>2)
	}
	d.s("DLCI ")
	d.u(dlci)
}

// arpOps is arpop_values.
var arpOps = map[uint16]string{1: "Request", 2: "Reply", 3: "Reverse Request", 4: "Reverse Reply",
	8: "Inverse Request", 9: "Inverse Reply", 10: "NACK Reply"}

// atmarp is atmarp_print.
func (d *dissector) atmarp(off, length int) {
	if !d.need(off, 12) {
		return
	}
	b := d.data[off : off+12]
	hrd, pro, op := uint16(b[0])<<8|uint16(b[1]), uint16(b[2])<<8|uint16(b[3]), uint16(b[6])<<8|uint16(b[7])
	shtl, sstl, spln := int(b[4]&0x3f), int(b[5]&0x3f), int(b[8])
	thtl, tstl, tpln := int(b[9]&0x3f), int(b[10]&0x3f), int(b[11])
	sha := off + 12
	ssa := sha + shtl
	spa := ssa + sstl
	tha := spa + spln
	tsa := tha + thtl
	tpa := tsa + tstl
	if !d.need(tpa, tpln) {
		return
	}
	if !d.o.Ether {
		d.s("ARP, ")
	}
	isIP := pro == etherTypeIPv4 || pro == 0x1000
	if !isIP || spln != 4 || tpln != 4 || d.o.Verbose > 0 {
		d.nameOr(arpHardware(hrd), "Unknown Hardware (", uint64(hrd), ")")
		d.s(", ")
		d.arpProtocol(pro)
		d.s(" (len ")
		d.u(uint64(spln))
		d.c('/')
		d.u(uint64(tpln))
		d.c(')')
		if d.o.Verbose == 0 {
			d.arpLength(length)
			return
		}
		d.s(", ")
	}
	if name, ok := arpOps[op]; ok {
		d.s(name)
	} else {
		d.s("Unknown (")
		d.u(uint64(op))
		d.c(')')
	}
	d.c(' ')
	// addr is atmarp_addr_print: an ATM number and its subaddress.
	addr := func(ha, hl, sa, sl int) {
		if hl == 0 {
			d.s("<No address>")
			return
		}
		d.linkAddr(ha, hl)
		if sl != 0 && !d.cut && d.need(sa, sl) {
			d.c(',')
			d.linkAddr(sa, sl)
		}
	}
	ip := func(at, n int, wrong string) {
		switch {
		case !isIP:
			d.s("<wrong proto type>")
		case n != 4:
			d.s(wrong)
		default:
			d.addr4(at)
		}
	}
	switch op {
	case 1:
		d.s("who-has ")
		ip(tpa, tpln, "<wrong tplen>")
		if thtl != 0 {
			d.s(" (")
			addr(tha, thtl, tsa, tstl)
			d.c(')')
		}
		d.s(" tell ")
		ip(spa, spln, "<wrong splen>")
	case 2:
		ip(spa, spln, "<wrong splen>")
		d.s(" is-at ")
		addr(sha, shtl, ssa, sstl)
	case 8:
		d.s("who-is ")
		addr(tha, thtl, tsa, tstl)
		d.s(" tell ")
		addr(sha, shtl, ssa, sstl)
	case 9:
		addr(sha, shtl, ssa, sstl)
		d.s("at ")
		ip(spa, spln, "<wrong splen>")
	case 10:
		d.s("for ")
		ip(spa, spln, "<wrong splen>")
	default:
		d.defaultPrint(off, d.end-off)
		return
	}
	if d.cut {
		return
	}
	d.arpLength(length)
}

func (d *dissector) arpLength(length int) {
	d.s(", length ")
	d.u(uint64(length))
}

func (d *dissector) arpIP(off int, pro uint16, pln int) {
	switch {
	case pro != etherTypeIPv4 && pro != 0x1000:
		d.s("<wrong proto type>")
	case pln != 4:
		d.s("<wrong len>")
	default:
		d.addr4(off)
	}
}

func (d *dissector) nonzero(off, n int) bool {
	if !d.need(off, n) {
		return false
	}
	for _, c := range d.data[off : off+n] {
		if c != 0 {
			return true
		}
	}
	return false
}

// linkAddr is linkaddr_string for a hardware address of n bytes.
func (d *dissector) linkAddr(off, n int) {
	if !d.need(off, n) {
		return
	}
	if n == 0 {
		d.s("<empty>")
		return
	}
	if d.frelay {
		d.q922(d.data[off : off+n])
		return
	}
	d.out = appendMAC(d.out, d.data[off:off+n])
}

// arpProtocol names an ARP packet's protocol type as tcpdump does.
func (d *dissector) arpProtocol(pro uint16) {
	if name := etherTypeName(pro); name != "" {
		d.s(name)
		return
	}
	d.s("Unknown Protocol (0x")
	d.xw(uint64(pro), 4)
	d.c(')')
}
