package craft

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/google/gopacket/layers"
)

// LinkType is a libpcap LINKTYPE_ value (26 bits in a pcap file header, 16 in a
// pcapng interface block). gopacket v1.1.19 keeps link types in
// a uint8, which cannot hold LINKTYPE_LINUX_SLL2 (276), so craft has its own.
type LinkType uint32

// Link types the decoder accepts.
const (
	LinkTypeEthernet   LinkType = 1
	LinkTypeRaw        LinkType = 101 // raw IPv4 or IPv6, told apart by the version nibble
	LinkTypeLinuxSLL   LinkType = 113
	LinkTypeIPv4       LinkType = 228
	LinkTypeIPv6       LinkType = 229
	LinkTypeLinuxSLL2  LinkType = 276
	linkTypeRawOpenBSD LinkType = 12 // DLT_RAW on some systems
)

// linkTypeNames are libpcap's names, as tcpdump -L prints them.
var linkTypeNames = map[LinkType]string{LinkTypeEthernet: "EN10MB", LinkTypeRaw: "RAW", linkTypeRawOpenBSD: "RAW",
	LinkTypeLinuxSLL: "LINUX_SLL", LinkTypeIPv4: "IPV4", LinkTypeIPv6: "IPV6", LinkTypeLinuxSLL2: "LINUX_SLL2"}

func (t LinkType) String() string {
	if name, ok := linkTypeNames[t]; ok {
		return name
	}
	return fmt.Sprintf("LinkType(%d)", uint32(t))
}

// LinkTypeOf converts gopacket's link type. pcapgo truncates the file
// header's 32-bit link type to 8 bits, so 276 (LINUX_SLL2) arrives as 20,
// a value no libpcap link type uses; it is mapped back here.
func LinkTypeOf(t layers.LinkType) LinkType {
	if t == layers.LinkType(LinkTypeLinuxSLL2&0xff) {
		return LinkTypeLinuxSLL2
	}
	return LinkType(t)
}

// LinuxSLL2 is the 20-byte Linux cooked capture v2 header (libpcap's
// LINKTYPE_LINUX_SLL2), which gopacket v1.1.19 does not decode.
type LinuxSLL2 struct {
	Protocol       layers.EthernetType
	InterfaceIndex uint32
	ARPHardware    uint16
	PacketType     layers.LinuxSLLPacketType
	AddrLen        uint8
	// Addr aliases the decoded data; it is AddrLen bytes, at most 8.
	Addr []byte
}

// LinuxSLL2Len is the size of the LinuxSLL2 header.
const LinuxSLL2Len = 20

// DecodeFromBytes decodes the header at the start of data.
func (h *LinuxSLL2) DecodeFromBytes(data []byte) error {
	if len(data) < LinuxSLL2Len {
		return fmt.Errorf("craft: LINUX_SLL2 header of %d bytes: %w", len(data), io.ErrUnexpectedEOF)
	}
	h.Protocol = layers.EthernetType(binary.BigEndian.Uint16(data[0:2]))
	h.InterfaceIndex = binary.BigEndian.Uint32(data[4:8])
	h.ARPHardware = binary.BigEndian.Uint16(data[8:10])
	h.PacketType = layers.LinuxSLLPacketType(data[10])
	h.AddrLen = data[11]
	n := int(h.AddrLen)
	if n > 8 {
		n = 8
	}
	h.Addr = data[12 : 12+n]
	return nil
}

// AppendTo appends the header to b.
func (h *LinuxSLL2) AppendTo(b []byte) []byte {
	var hdr [LinuxSLL2Len]byte
	binary.BigEndian.PutUint16(hdr[0:], uint16(h.Protocol))
	binary.BigEndian.PutUint32(hdr[4:], h.InterfaceIndex)
	binary.BigEndian.PutUint16(hdr[8:], h.ARPHardware)
	hdr[10] = byte(h.PacketType)
	hdr[11] = h.AddrLen
	copy(hdr[12:], h.Addr)
	return append(b, hdr[:]...)
}
