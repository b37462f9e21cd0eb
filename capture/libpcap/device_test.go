package libpcap

import "testing"

// TestDeviceLine: tcpdump 4.99's words for each flag and connection status,
// wireless ones included, which no lab here has.
func TestDeviceLine(t *testing.T) {
	for _, tc := range []struct {
		d    Device
		want string
	}{
		{Device{Name: "eth0", Flags: DeviceUp | DeviceRunning | DeviceConnected}, "1.eth0 [Up, Running, Connected]"},
		{Device{Name: "lo", Flags: DeviceUp | DeviceRunning | DeviceLoopback | DeviceNotApplicable}, "1.lo [Up, Running, Loopback]"},
		{Device{Name: "any", Description: "Pseudo-device that captures on all interfaces", Flags: DeviceUp | DeviceRunning | DeviceNotApplicable},
			"1.any (Pseudo-device that captures on all interfaces) [Up, Running]"},
		{Device{Name: "nflog", Flags: DeviceNotApplicable}, "1.nflog [none]"},
		{Device{Name: "v1", Flags: DeviceDisconnected}, "1.v1 [none, Disconnected]"},
		{Device{Name: "x", Flags: DeviceUp}, "1.x [Up, Connection status unknown]"},
		{Device{Name: "x"}, "1.x"},
		{Device{Name: "wl0", Flags: DeviceUp | DeviceWireless | DeviceConnected}, "1.wl0 [Up, Wireless, Associated]"},
		{Device{Name: "wl0", Flags: DeviceWireless | DeviceDisconnected}, "1.wl0 [Wireless, Not associated]"},
		{Device{Name: "wl0", Flags: DeviceWireless}, "1.wl0 [Wireless, Association status unknown]"},
	} {
		if got := tc.d.Line(1); got != tc.want {
			t.Errorf("flags %#x: %q, want %q", uint32(tc.d.Flags), got, tc.want)
		}
	}
}
