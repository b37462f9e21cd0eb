package capture

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/gopacket/layers"
)

func TestConfigDefaults(t *testing.T) {
	tests := []struct {
		name    string
		cfg     *Config
		want    Config
		wantErr string
	}{
		{"defaults", &Config{Interface: "h0"}, Config{
			Interface: "h0", Snaplen: DefaultSnaplen, BlockSize: DefaultBlockSize, NumBlocks: DefaultNumBlocks,
			BlockTimeout: DefaultBlockTimeout, PollTimeout: DefaultPollTimeout, Link: layers.LinkTypeEthernet, Version: TPacketV3,
		}, ""},
		{"kept", &Config{Interface: "h0", Snaplen: 96, BlockSize: 1 << 20, NumBlocks: 4, BlockTimeout: 10 * time.Millisecond, PollTimeout: time.Second, Link: layers.LinkTypeRaw}, Config{
			Interface: "h0", Snaplen: 96, BlockSize: 1 << 20, NumBlocks: 4, BlockTimeout: 10 * time.Millisecond, PollTimeout: time.Second, Link: layers.LinkTypeRaw, Version: TPacketV3,
		}, ""},
		{"nil", nil, Config{}, "no interface"},
		{"no interface", &Config{}, Config{}, "no interface"},
		{"snaplen too big", &Config{Interface: "h0", Snaplen: MaxSnaplen + 1}, Config{}, "snaplen 262145"},
		{"negative snaplen", &Config{Interface: "h0", Snaplen: -1}, Config{}, "snaplen -1"},
		{"block not a page multiple", &Config{Interface: "h0", BlockSize: 6000}, Config{}, "block size 6000"},
		{"negative blocks", &Config{Interface: "h0", NumBlocks: -2}, Config{}, "-2 blocks"},
		{"block timeout under 1ms", &Config{Interface: "h0", BlockTimeout: time.Microsecond}, Config{}, "block timeout 1µs"},
		{"link type", &Config{Interface: "h0", Link: layers.LinkTypeLinuxSLL}, Config{}, "link type Linux SLL"},
		{"v2", &Config{Interface: "h0", Version: TPacketV2, Snaplen: 1500, BlockSize: 8192}, Config{
			Interface: "h0", Snaplen: 1500, BlockSize: 8192, NumBlocks: DefaultNumBlocks, BlockTimeout: DefaultBlockTimeout,
			PollTimeout: DefaultPollTimeout, Link: layers.LinkTypeEthernet, Version: TPacketV2,
		}, ""},
		// A 65535-byte snaplen needs 128 KiB slots.
		{"v2 slot beyond the block", &Config{Interface: "h0", Version: TPacketV2, BlockSize: 64 << 10}, Config{}, "use a multiple of 131072"},
		{"poll timeout under 1ms", &Config{Interface: "h0", PollTimeout: -time.Second}, Config{}, "poll timeout -1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cfg.withDefaults(4096)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("withDefaults() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("withDefaults() (-want +got):\n%s", diff)
			}
		})
	}
}
