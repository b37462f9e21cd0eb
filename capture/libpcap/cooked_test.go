package libpcap

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pingcraft/pingcraft/capture"
)

func TestCookedConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     *CookedConfig
		want    CookedConfig
		wantErr string
	}{
		{"nil", nil, CookedConfig{Snaplen: capture.DefaultSnaplen, PollTimeout: capture.DefaultPollTimeout}, ""},
		{"kept", &CookedConfig{Snaplen: 96, PollTimeout: time.Second, Filter: "icmp"}, CookedConfig{Snaplen: 96, PollTimeout: time.Second, Filter: "icmp"}, ""},
		{"snaplen too big", &CookedConfig{Snaplen: capture.MaxSnaplen + 1}, CookedConfig{}, "snaplen 262145"},
		{"poll timeout under 1ms", &CookedConfig{PollTimeout: time.Microsecond}, CookedConfig{}, "poll timeout 1µs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cfg.withDefaults()
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
