package craft

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/google/gopacket"
)

// String summarises p on one line, every field the decoder set, in a fixed
// order: the golden files of the fixture tests are made of these lines.
func (p *Packet) String() string {
	var b strings.Builder
	b.WriteString(p.Class.String())
	switch {
	case p.DstMAC != nil:
		fmt.Fprintf(&b, " mac %v>%v", p.SrcMAC, p.DstMAC)
	case p.SrcMAC != nil: // cooked captures know only the sender
		fmt.Fprintf(&b, " from-mac %v", p.SrcMAC)
	}
	if len(p.VLAN) > 0 {
		fmt.Fprintf(&b, " vlan %v", p.VLAN)
	}
	if p.EtherType != 0 {
		fmt.Fprintf(&b, " ethertype 0x%04x", uint16(p.EtherType))
	}
	if p.IPVersion != 0 {
		fmt.Fprintf(&b, " ip%d %v>%v ttl %d tos 0x%x len %d proto %d", p.IPVersion, p.Src, p.Dst, p.TTL, p.TOS, p.IPLength, p.Protocol)
		if p.IPVersion == 4 {
			fmt.Fprintf(&b, " ipid %d", p.IPID)
			if p.DontFragment {
				b.WriteString(" DF")
			}
			writeChecksum(&b, "ipsum", p.IPChecksum)
		}
		if p.MoreFragments || p.FragOffset != 0 {
			fmt.Fprintf(&b, " frag off %d", p.FragOffset)
			if p.MoreFragments {
				b.WriteString(" MF")
			}
		}
	}
	if p.ICMPChecksum.Status != 0 {
		fmt.Fprintf(&b, " icmp type %d code %d", p.ICMPType, p.ICMPCode)
		writeChecksum(&b, "sum", p.ICMPChecksum)
	}
	switch p.Class {
	case ClassEchoRequest, ClassEchoReply:
		fmt.Fprintf(&b, " id %d seq %d data %d", p.ID, p.Seq, len(p.Payload))
	case ClassQuery:
		fmt.Fprintf(&b, " %s %s id %d seq %d", p.Query, map[bool]string{true: "reply", false: "request"}[p.QueryReply], p.ID, p.Seq)
		switch p.Query {
		case QueryTimestamp:
			fmt.Fprintf(&b, " originate %d receive %d transmit %d", p.Times[0], p.Times[1], p.Times[2])
		case QueryMask:
			fmt.Fprintf(&b, " mask %d.%d.%d.%d", p.Mask>>24, p.Mask>>16&0xff, p.Mask>>8&0xff, p.Mask&0xff)
		}
	case ClassError:
		e := &p.Error
		fmt.Fprintf(&b, " %s %q", e.Kind, e.String())
		q := &e.Quote
		if q.Present {
			fmt.Fprintf(&b, " quote %v>%v proto %d ttl %d", q.Src, q.Dst, q.Protocol, q.TTL)
			if q.Echo {
				fmt.Fprintf(&b, " echo id %d seq %d", q.ID, q.Seq)
			}
			if q.Truncated {
				b.WriteString(" truncated")
			}
		} else {
			b.WriteString(" quote none")
		}
	}
	if p.Truncated {
		b.WriteString(" TRUNCATED")
	}
	if p.Malformed != "" {
		fmt.Fprintf(&b, " malformed %q", p.Malformed)
	}
	return b.String()
}

func writeChecksum(b *strings.Builder, name string, c Checksum) {
	switch c.Status {
	case ChecksumGood:
		fmt.Fprintf(b, " %s 0x%04x ok", name, c.Got)
	case ChecksumBad:
		fmt.Fprintf(b, " %s 0x%04x bad (->0x%04x)", name, c.Got, c.Want)
	case ChecksumUnverified:
		fmt.Fprintf(b, " %s 0x%04x unverified", name, c.Got)
	}
}

// Dump is e built at depth d as a reader checks it: one line saying the
// depth, the size and everything the decoder finds in the bytes (checksum
// verdicts included), then the bytes in hex.
func Dump(e *Echo, d Depth) (string, error) {
	buf := gopacket.NewSerializeBuffer()
	if err := e.Serialize(buf, d); err != nil {
		return "", err
	}
	b := buf.Bytes()
	var p Packet
	link := LinkTypeRaw
	if d == DepthEthernet {
		link = LinkTypeEthernet
	}
	dec, err := NewDecoder(link)
	if err != nil {
		return "", err
	}
	if d == DepthICMP {
		dec.DecodeICMP(b, e.Is6(), &p)
	} else if err := dec.Decode(b, &p); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s, %d bytes: %v\n%s", d, len(b), &p, hex.Dump(b)), nil
}
