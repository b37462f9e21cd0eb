package tcpdump

import (
	"fmt"

	"github.com/google/gopacket/layers"

	"github.com/pingcraft/pingcraft/craft"
)

// LinkTypeText is how tcpdump names a link type on its first line
// ("listening on h0, link-type EN10MB (Ethernet), ..."): libpcap's name and
// description of the DLT. link is as gopacket reports it: LINUX_SLL2 may
// come as 20.
func LinkTypeText(link layers.LinkType) string {
	l := craft.LinkTypeOf(link)
	switch l {
	case craft.LinkTypeEthernet:
		return "link-type EN10MB (Ethernet)"
	case craft.LinkTypeRaw:
		return "link-type RAW (Raw IP)"
	case craft.LinkTypeLinuxSLL:
		return "link-type LINUX_SLL (Linux cooked v1)"
	case craft.LinkTypeLinuxSLL2:
		return "link-type LINUX_SLL2 (Linux cooked v2)"
	case craft.LinkTypeIPv4:
		return "link-type IPV4 (Raw IPv4)"
	case craft.LinkTypeIPv6:
		return "link-type IPV6 (Raw IPv6)"
	}
	return fmt.Sprintf("link-type %d", l)
}
