//go:build cgo

package libpcap

import "github.com/google/gopacket/pcap"

// Devices lists the interfaces libpcap can capture on, in
// pcap_findalldevs's order (up and running first, loopback after the
// others), as tcpdump -D prints them and as tcpdump picks its default.
func Devices() ([]Device, error) {
	ifs, err := pcap.FindAllDevs()
	if err != nil {
		return nil, err
	}
	devs := make([]Device, len(ifs))
	for i, ifc := range ifs {
		devs[i] = Device{Name: ifc.Name, Description: ifc.Description, Flags: DeviceFlags(ifc.Flags)}
	}
	return devs, nil
}
