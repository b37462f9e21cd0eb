//go:build linux && cgo

package libpcap

import (
	"fmt"

	"github.com/google/gopacket/pcap"

	"github.com/pingcraft/pingcraft/craft"
)

// DataLinks lists the link types libpcap offers on iface, as tcpdump -L
// prints them. It opens the device, so it needs CAP_NET_RAW.
func DataLinks(iface string) ([]DataLink, error) {
	in, err := pcap.NewInactiveHandle(iface)
	if err != nil {
		return nil, fmt.Errorf("libpcap: %s: %w", iface, err)
	}
	defer in.CleanUp()
	h, err := in.Activate()
	if err != nil {
		return nil, fmt.Errorf("libpcap: %s: %w", iface, err)
	}
	defer h.Close()
	dls, err := h.ListDataLinks()
	if err != nil {
		return nil, fmt.Errorf("libpcap: %s: %w", iface, err)
	}
	out := make([]DataLink, len(dls))
	for i, d := range dls {
		out[i] = DataLink{Link: linkTypeOfDLT(pcap.DatalinkNameToVal(d.Name)), Name: d.Name, Description: d.Description}
	}
	return out, nil
}

// TimestampTypes lists the time stamp types libpcap offers on iface, as
// tcpdump -J prints them.
func TimestampTypes(iface string) ([]TimestampType, error) {
	in, err := pcap.NewInactiveHandle(iface)
	if err != nil {
		return nil, fmt.Errorf("libpcap: %s: %w", iface, err)
	}
	defer in.CleanUp()
	var out []TimestampType
	for _, t := range in.SupportedTimestamps() {
		out = append(out, TimestampType{Name: t.String(), Description: tstampTypeDescription(t)})
	}
	return out, nil
}

// ParseLinkType is pcap_datalink_name_to_val, as LINKTYPE_: tcpdump -y's
// names (EN10MB, LINUX_SLL2, ...), any case.
func ParseLinkType(name string) (craft.LinkType, bool) {
	dlt := pcap.DatalinkNameToVal(name)
	if dlt < 0 {
		return 0, false
	}
	return linkTypeOfDLT(dlt), true
}

// ParseTimestampType says whether name is a libpcap time stamp type
// (tcpdump -j).
func ParseTimestampType(name string) bool {
	_, err := pcap.TimestampSourceFromString(name)
	return err == nil
}
