package craft

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Fragment splits pkt, a packet Serialize built at DepthIP or
// DepthEthernet, into fragments whose IP packets are at most mtu bytes,
// as the kernel fragments a datagram over the path MTU that it may: IPv4
// fragments with MF and offsets (pkt must not have DF set), their options
// those marked copied (RFC 791) after the first; IPv6 fragments behind a
// fragment header with identification id (RFC 8200 section 4.5). Every
// fragment but the last carries a multiple of 8 bytes. A packet that fits
// comes back alone, as it is. The fragments are appended to out, each in a
// buffer of its own.
func Fragment(pkt []byte, d Depth, mtu int, id uint32, out [][]byte) ([][]byte, error) {
	l2 := 0
	switch d {
	case DepthEthernet:
		l2 = 14
	case DepthIP:
	default:
		return out, fmt.Errorf("craft: fragment: a packet of depth %v has no IP header of ours", d)
	}
	if len(pkt) <= l2 {
		return out, fmt.Errorf("craft: fragment: %d bytes: %w", len(pkt), errShortPacket)
	}
	if len(pkt)-l2 <= mtu {
		return append(out, pkt), nil
	}
	var eth *layers.Ethernet
	if l2 > 0 {
		eth = &layers.Ethernet{}
		if err := eth.DecodeFromBytes(pkt, gopacket.NilDecodeFeedback); err != nil {
			return out, fmt.Errorf("craft: fragment: %w", err)
		}
	}
	switch pkt[l2] >> 4 {
	case 4:
		return fragment4(eth, pkt[l2:], mtu, out)
	case 6:
		return fragment6(eth, pkt[l2:], mtu, id, out)
	}
	return out, fmt.Errorf("craft: fragment: IP version %d", pkt[l2]>>4)
}

var errShortPacket = errors.New("shorter than its headers")

// fragmentLayers serializes one fragment.
func fragmentLayers(out [][]byte, eth *layers.Ethernet, ls ...gopacket.SerializableLayer) ([][]byte, error) {
	if eth != nil {
		ls = append([]gopacket.SerializableLayer{eth}, ls...)
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		return out, fmt.Errorf("craft: fragment: %w", err)
	}
	return append(out, buf.Bytes()), nil
}

func fragment4(eth *layers.Ethernet, pkt []byte, mtu int, out [][]byte) ([][]byte, error) {
	var ip layers.IPv4
	if err := ip.DecodeFromBytes(pkt, gopacket.NilDecodeFeedback); err != nil {
		return out, fmt.Errorf("craft: fragment: %w", err)
	}
	if ip.Flags&layers.IPv4DontFragment != 0 {
		return out, errors.New("craft: fragment: the packet has DF set")
	}
	data := ip.Payload
	first := ip.Options
	var later []layers.IPv4Option
	for _, o := range ip.Options {
		if o.OptionType&0x80 != 0 { // the copied flag
			later = append(later, o)
		}
	}
	for off := 0; off < len(data); {
		hdr := 20 + optionsLen(first)
		if off > 0 {
			hdr = 20 + optionsLen(later)
		}
		n := (mtu - hdr) &^ 7
		if n <= 0 {
			return out, fmt.Errorf("craft: fragment: an MTU of %d leaves no room for data", mtu)
		}
		end := min(off+n, len(data))
		f := ip
		f.Options, f.Padding = first, nil
		if off > 0 {
			f.Options = later
		}
		f.IHL, f.Length, f.Checksum = 0, 0, 0
		f.FragOffset = uint16(off / 8)
		f.Flags = ip.Flags &^ layers.IPv4MoreFragments
		if end < len(data) {
			f.Flags |= layers.IPv4MoreFragments
		}
		var err error
		if out, err = fragmentLayers(out, eth, &f, gopacket.Payload(data[off:end])); err != nil {
			return out, err
		}
		off = end
	}
	return out, nil
}

// optionsLen is the length of options as gopacket writes them, padded.
func optionsLen(opts []layers.IPv4Option) int {
	n := 0
	for _, o := range opts {
		switch o.OptionType {
		case 0, 1:
			n++
		default:
			n += int(o.OptionLength)
		}
	}
	return (n + 3) &^ 3
}

// ipv6FragmentHeader is the fragment extension header, which gopacket
// decodes but does not serialize.
type ipv6FragmentHeader struct {
	next   layers.IPProtocol
	offset int // bytes, a multiple of 8
	more   bool
	id     uint32
}

func (*ipv6FragmentHeader) LayerType() gopacket.LayerType { return layers.LayerTypeIPv6Fragment }

func (h *ipv6FragmentHeader) SerializeTo(b gopacket.SerializeBuffer, _ gopacket.SerializeOptions) error {
	bytes, err := b.PrependBytes(8)
	if err != nil {
		return err
	}
	bytes[0], bytes[1] = uint8(h.next), 0
	v := uint16(h.offset)
	if h.more {
		v |= 1
	}
	binary.BigEndian.PutUint16(bytes[2:], v)
	binary.BigEndian.PutUint32(bytes[4:], h.id)
	return nil
}

func fragment6(eth *layers.Ethernet, pkt []byte, mtu int, id uint32, out [][]byte) ([][]byte, error) {
	var ip layers.IPv6
	if err := ip.DecodeFromBytes(pkt, gopacket.NilDecodeFeedback); err != nil {
		return out, fmt.Errorf("craft: fragment: %w", err)
	}
	if ip.HopByHop != nil {
		return out, errors.New("craft: fragment: IPv6 extension headers before the fragment header are not supported")
	}
	data := ip.Payload
	n := (mtu - ipv6HeaderLen - 8) &^ 7
	if n <= 0 {
		return out, fmt.Errorf("craft: fragment: an MTU of %d leaves no room for data", mtu)
	}
	for off := 0; off < len(data); off += n {
		end := min(off+n, len(data))
		f := ip
		f.Length = 0
		f.NextHeader = layers.IPProtocolIPv6Fragment
		fh := &ipv6FragmentHeader{next: ip.NextHeader, offset: off, more: end < len(data), id: id}
		var err error
		if out, err = fragmentLayers(out, eth, &f, fh, gopacket.Payload(data[off:end])); err != nil {
			return out, err
		}
	}
	return out, nil
}
