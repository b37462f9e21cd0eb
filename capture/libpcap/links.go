package libpcap

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pingcraft/pingcraft/capture"
	"github.com/pingcraft/pingcraft/craft"
)

// DeviceError is a request the device cannot meet, worded as libpcap and
// tcpdump word it; Msg is the line tcpdump prints after its name.
type DeviceError struct{ Msg string }

func (e *DeviceError) Error() string { return "libpcap: " + e.Msg }

// TimestampType is a time stamp type a device offers (tcpdump -J).
type TimestampType struct{ Name, Description string }

// hostStamps are the time stamp types that are the kernel's software
// stamp, which is what the ring gives.
var hostStamps = []string{"host", "host_lowprec", "host_hiprec"}

// timestampType checks a tcpdump -j request against what the device
// offers: a type it does not offer is only a warning, as in tcpdump; one
// it offers that the ring cannot give is refused.
func timestampType(iface, name string, ring bool) (warning string, err error) {
	if name == "" {
		return "", nil
	}
	offered, err := TimestampTypes(iface)
	if err != nil {
		return "", err
	}
	if !slices.ContainsFunc(offered, func(t TimestampType) bool { return t.Name == name }) {
		return fmt.Sprintf("WARNING: When trying to set timestamp type '%s' on %s: That type of time stamp is not supported by that device", name, iface), nil
	}
	if ring && !slices.Contains(hostStamps, name) {
		return "", &DeviceError{fmt.Sprintf("%s: time stamp type %s: watch's ring on an interface takes the kernel's own (host) stamps; use -j host", iface, name)}
	}
	return "", nil
}

// ringLinks are the link types a ring on an interface whose frames are
// native can be labelled with: libpcap offers DOCSIS on Ethernet, the
// same frames under another name.
func ringLinkAllowed(native, asked craft.LinkType) bool {
	return asked == native || native == craft.LinkTypeEthernet && asked == linkTypeDOCSIS
}

// linkTypeDOCSIS is LINKTYPE_DOCSIS.
const linkTypeDOCSIS craft.LinkType = 143

// notSupportedLink is libpcap's pcap_set_datalink refusal.
func notSupportedLink(link craft.LinkType) error {
	name, _, ok := LinkTypeName(link)
	if !ok {
		name = fmt.Sprintf("DLT %d", capture.DLT(link))
	}
	return &DeviceError{strings.TrimSpace(name) + " is not one of the DLTs supported by this device"}
}

// DataLink is a link type a device offers (tcpdump -L).
type DataLink struct {
	Link              craft.LinkType
	Name, Description string
}

// linkTypeOfDLT is the LINKTYPE_ value of a DLT_ value: the same number
// but for the raw IP ones, which differ between systems.
func linkTypeOfDLT(dlt int) craft.LinkType {
	if dlt == 12 || dlt == 14 {
		return craft.LinkTypeRaw
	}
	return craft.LinkType(dlt)
}
