package libpcap

import (
	"strconv"
	"strings"
)

// Device is an interface as pcap_findalldevs describes it.
type Device struct {
	Name        string
	Description string // "" when libpcap has none
	Flags       DeviceFlags
}

// DeviceFlags are pcap_if_t's flags (PCAP_IF_*).
type DeviceFlags uint32

// The PCAP_IF_ flags, from pcap.h.
const (
	DeviceLoopback DeviceFlags = 0x1
	DeviceUp       DeviceFlags = 0x2
	DeviceRunning  DeviceFlags = 0x4
	DeviceWireless DeviceFlags = 0x8

	DeviceConnectionStatus DeviceFlags = 0x30 // the mask of the two bits below
	DeviceConnected        DeviceFlags = 0x10
	DeviceDisconnected     DeviceFlags = 0x20
	DeviceNotApplicable    DeviceFlags = 0x30 // neither: "any", loopback, ...
)

// String is the bracketed part of tcpdump -D's line without the brackets:
// "Up, Running, Connected", "none" for no flag and a status that does not
// apply (tcpdump 4.99's show_devices_and_exit).
func (f DeviceFlags) String() string {
	var words []string
	for _, b := range []struct {
		bit  DeviceFlags
		word string
	}{{DeviceUp, "Up"}, {DeviceRunning, "Running"}, {DeviceLoopback, "Loopback"}, {DeviceWireless, "Wireless"}} {
		if f&b.bit != 0 {
			words = append(words, b.word)
		}
	}
	s := strings.Join(words, ", ")
	if s == "" {
		s = "none"
	}
	status := map[DeviceFlags][2]string{
		0:                  {", Connection status unknown", ", Association status unknown"},
		DeviceConnected:    {", Connected", ", Associated"},
		DeviceDisconnected: {", Disconnected", ", Not associated"},
	}[f&DeviceConnectionStatus]
	if f&DeviceWireless != 0 {
		return s + status[1]
	}
	return s + status[0]
}

// Line is d as tcpdump -D prints it, numbered n (from 1), without the
// newline: "1.eth0 [Up, Running, Connected]".
func (d Device) Line(n int) string {
	s := strconv.Itoa(n) + "." + d.Name
	if d.Description != "" {
		s += " (" + d.Description + ")"
	}
	if d.Flags != 0 {
		// tcpdump leaves the brackets out only when every bit is clear.
		s += " [" + d.Flags.String() + "]"
	}
	return s
}
