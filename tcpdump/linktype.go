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
	// libpcap's descriptions; craft names the DLTs as libpcap does.
	descs := [...]struct {
		link craft.LinkType
		desc string
	}{
		{craft.LinkTypeEthernet, "Ethernet"},
		{craft.LinkTypeRaw, "Raw IP"},
		{craft.LinkTypeLinuxSLL, "Linux cooked v1"},
		{craft.LinkTypeLinuxSLL2, "Linux cooked v2"},
		{craft.LinkTypeIPv4, "Raw IPv4"},
		{craft.LinkTypeIPv6, "Raw IPv6"},
	}
	for _, d := range descs {
		if d.link == l {
			return "link-type " + l.String() + " (" + d.desc + ")"
		}
	}
	return fmt.Sprintf("link-type %d", l)
}
