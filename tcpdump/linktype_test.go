package tcpdump

import (
	"testing"

	"github.com/google/gopacket/layers"
)

func TestLinkTypeText(t *testing.T) {
	tests := []struct {
		name string
		link layers.LinkType
		want string
	}{
		{"ethernet", layers.LinkTypeEthernet, "link-type EN10MB (Ethernet)"},
		{"raw", layers.LinkTypeRaw, "link-type RAW (Raw IP)"},
		{"linux sll", layers.LinkTypeLinuxSLL, "link-type LINUX_SLL (Linux cooked v1)"},
		{"linux sll2 as pcapgo reports it", layers.LinkType(20), "link-type LINUX_SLL2 (Linux cooked v2)"},
		{"ipv4", layers.LinkType(228), "link-type IPV4 (Raw IPv4)"},
		{"ipv6", layers.LinkType(229), "link-type IPV6 (Raw IPv6)"},
		{"other", layers.LinkTypeNull, "link-type 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LinkTypeText(tt.link); got != tt.want {
				t.Errorf("LinkTypeText(%d) = %q, want %q", tt.link, got, tt.want)
			}
		})
	}
}
