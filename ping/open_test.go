package ping

import (
	"net/netip"
	"syscall"
	"testing"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/resolve"
)

// TestAutoModeShortRun: a short run in mode auto opens the raw socket where
// auto would open a frame mode, falls back from it as auto does, and keeps
// the frame mode for what raw cannot carry or for runs that are not short.
func TestAutoModeShortRun(t *testing.T) {
	eth := &resolve.Path{Target: them, Source: us, Interface: "eth0", Index: 2, Kind: resolve.KindEthernet}
	tun := &resolve.Path{Target: them, Source: us, Interface: "tun0", Index: 3, Kind: resolve.KindNone}
	eth6 := &resolve.Path{Target: netip.MustParseAddr("fd00:198:18:1::2"), Source: netip.MustParseAddr("fd00:198:18::2"),
		Interface: "eth0", Index: 2, Kind: resolve.KindEthernet}
	for _, tc := range []struct {
		name   string
		p      *resolve.Path
		mode   Mode
		oc     OpenConfig
		noRaw  bool
		want   Mode
		reason string
	}{
		{"one probe", eth, ModeAuto, OpenConfig{Probes: 1}, false, ModeRaw, ""},
		{"16 probes", eth, ModeAuto, OpenConfig{Probes: 16}, false, ModeRaw, ""},
		{"17 probes", eth, ModeAuto, OpenConfig{Probes: 17}, false, ModeEthernet, "not short"},
		{"unbounded", eth, ModeAuto, OpenConfig{}, false, ModeEthernet, "not short"},
		{"flood", eth, ModeAuto, OpenConfig{Probes: 5, Flood: true}, false, ModeEthernet, "a flood"},
		{"no link layer", tun, ModeAuto, OpenConfig{Probes: 1}, false, ModeRaw, ""},
		{"bad checksum over IPv6", eth6, ModeAuto, OpenConfig{Probes: 1, Faults: craft.FaultICMPHeaderChecksum}, false, ModeEthernet, "raw ICMPv6 rewrites it"},
		{"bad checksum over IPv4", eth, ModeAuto, OpenConfig{Probes: 1, Faults: craft.FaultICMPHeaderChecksum}, false, ModeRaw, ""},
		{"no privilege", eth, ModeAuto, OpenConfig{Probes: 1}, true, ModeDgram, ""},
		{"explicit mode", eth, ModeEthernet, OpenConfig{Probes: 1}, false, ModeEthernet, "asked for"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, got, err := openWith(func(_ *resolve.Path, m Mode, _ *OpenConfig) (Conn, error) {
				if tc.noRaw && m != ModeDgram {
					return nil, syscall.EPERM
				}
				return newFakeConn(nil), nil
			}, tc.p, tc.mode, &tc.oc)
			if err != nil || got != tc.want {
				t.Errorf("opened %v (%v), want %v %s", got, err, tc.want, tc.reason)
			}
		})
	}
}
