//go:build !linux || !cgo

package libpcap

import (
	"errors"
	"fmt"

	"github.com/pingcraft/pingcraft/craft"
)

func errNoLibpcap(what string) error {
	return fmt.Errorf("libpcap: %s needs a cgo build on Linux (CGO_ENABLED=1, libpcap-dev installed): %w", what, errors.ErrUnsupported)
}

// DataLinks fails: the list is libpcap's.
func DataLinks(iface string) ([]DataLink, error) { return nil, errNoLibpcap("listing link types") }

// TimestampTypes fails: the list is libpcap's.
func TimestampTypes(iface string) ([]TimestampType, error) {
	return nil, errNoLibpcap("listing time stamp types")
}

// ParseLinkType knows only the link types pingcraft names itself.
func ParseLinkType(name string) (craft.LinkType, bool) {
	for _, l := range []craft.LinkType{craft.LinkTypeEthernet, craft.LinkTypeRaw, craft.LinkTypeLinuxSLL, craft.LinkTypeLinuxSLL2} {
		if l.String() == name {
			return l, true
		}
	}
	return 0, false
}

// ParseTimestampType knows libpcap's names.
func ParseTimestampType(name string) bool {
	switch name {
	case "host", "host_lowprec", "host_hiprec", "adapter", "adapter_unsynced", "host_hiprec_unsynced":
		return true
	}
	return false
}
