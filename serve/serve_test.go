package serve

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestReloaded: a refused reload says so and keeps the time of the
// configuration that runs; a good one moves it.
func TestReloaded(t *testing.T) {
	s := New()
	loaded := time.Unix(1796134366, 500_000_000)
	gauges := func(ok int, at string) string {
		return `
# HELP pingcraft_config_last_reload_success_timestamp_seconds When the running configuration was loaded, in seconds since the epoch.
# TYPE pingcraft_config_last_reload_success_timestamp_seconds gauge
pingcraft_config_last_reload_success_timestamp_seconds ` + at + `
# HELP pingcraft_config_last_reload_successful Whether the last configuration load (start, SIGHUP or POST /-/reload) succeeded: 1 or 0.
# TYPE pingcraft_config_last_reload_successful gauge
pingcraft_config_last_reload_successful ` + string(rune('0'+ok)) + "\n"
	}
	names := []string{"pingcraft_config_last_reload_successful", "pingcraft_config_last_reload_success_timestamp_seconds"}
	for _, step := range []struct {
		ok   bool
		at   time.Time
		want string
	}{
		{true, loaded, gauges(1, "1.7961343665e+09")},
		{false, loaded.Add(time.Minute), gauges(0, "1.7961343665e+09")},
		{true, loaded.Add(2 * time.Minute), gauges(1, "1.7961344865e+09")},
	} {
		s.Reloaded(step.ok, step.at)
		if err := testutil.GatherAndCompare(s.reg, strings.NewReader(step.want), names...); err != nil {
			t.Errorf("after a load at %v, ok %v: %v", step.at, step.ok, err)
		}
	}
	if n, err := testutil.GatherAndCount(s.reg, "pingcraft_build_info"); err != nil || n != 1 {
		t.Errorf("pingcraft_build_info: %d series (%v), want 1", n, err)
	}
}
