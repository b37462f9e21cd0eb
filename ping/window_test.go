package ping

import (
	"errors"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pingcraft/pingcraft/resolve"
)

// fpingRun is how fping's flags arrive in a Config: without -c each target
// is tried until it answers (-r 3, -B 1.5), -p is each target's interval,
// -i the gap between any two probes.
func fpingRun(timeout time.Duration) Config {
	return Config{UntilReply: true, Retries: 3, Backoff: 1.5, Timeout: timeout, Interval: time.Second, Gap: 10 * time.Millisecond}
}

// TestWindowSize: a target's window covers what it can have outstanding
// (its timeout over its spacing, twice over for late replies), but never
// more than it sends in all: -c, the tries of fping's default run, what a
// deadline leaves time for.
func TestWindowSize(t *testing.T) {
	long := 1000000000 * time.Millisecond // fping -t 1000000000
	for _, tt := range []struct {
		name string
		cfg  Config
		n    int
		want int
	}{
		{"ping defaults", Config{Interval: time.Second, Timeout: 10 * time.Second}, 1, 32},
		{"ping -c 3 -W huge", Config{Count: 3, Interval: time.Second, Timeout: long}, 1, 4},
		{"ping -c 1", Config{Count: 1, Interval: time.Second, Timeout: time.Second}, 1, 1},
		{"ping -w 10 -W huge", Config{Deadline: 10 * time.Second, Interval: time.Second, Timeout: long}, 1, 16},
		{"ping -c 5 -w 10: -c counts replies, the deadline bounds", Config{Count: 5, Deadline: 10 * time.Second, Interval: time.Second, Timeout: long}, 1, 16},
		{"ping -W huge, no count", Config{Interval: time.Second, Timeout: long}, 1, maxWindow},
		{"ping -l 3", Config{Preload: 3, Interval: time.Second, Timeout: time.Second}, 1, 16},
		{"flood -W huge -w 1: replies pace it, not the interval", Config{Flood: true, Deadline: time.Second, Interval: 10 * time.Millisecond, Timeout: long}, 1, maxWindow},
		{"flood -c 100", Config{Flood: true, Count: 100, Interval: 10 * time.Millisecond, Timeout: 10 * time.Second}, 1, 128},
		{"fping -t huge -g /20", fpingRun(long), 4094, 4},
		{"fping -r 0", func() Config { c := fpingRun(time.Second); c.Retries = 0; return c }(), 10, 1},
		{"fping -c 10 -p 1000 -t huge", Config{Count: 10, Interval: time.Second, Timeout: long, Gap: 10 * time.Millisecond}, 4094, 16},
		// --rate 10 spaces one target's probes 100ms apart whatever -p says.
		{"rate 10/s, -p 1 -t 10s", Config{Rate: 10, Interval: time.Millisecond, Timeout: 10 * time.Second}, 2, 256},
		{"gap 20ms, -p 1 -t 1s", Config{Gap: 20 * time.Millisecond, Interval: time.Millisecond, Timeout: time.Second}, 2, 128},
		// A 10µs gap may catch up 1,000 probes back to back, of different
		// targets: each target still waits its period between two.
		{"fping -c 20 -p 1000 -t 1000 -i 0.01", Config{Count: 20, Interval: time.Second, Timeout: time.Second, Gap: 10 * time.Microsecond}, 100000, 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := withDefaults(&tt.cfg, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if got := windowSize(&c, tt.n); got != tt.want {
				t.Errorf("windowSize = %d, want %d (outstanding %d)", got, tt.want, c.outstanding(tt.n))
			}
		})
	}
}

// TestWindowRefused: a run whose windows would outgrow maxWindowBytes is
// refused at once, in a line naming the limit, instead of allocating
// gigabytes (fping -l -t 1000000000 -g /20 took 14.6 GB).
func TestWindowRefused(t *testing.T) {
	cfg := &Config{Interval: time.Second, Timeout: 1000000000 * time.Millisecond, Gap: 10 * time.Millisecond}
	_, err := withDefaults(cfg, 4094)
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("error %v, want a refusal", err)
	}
	for _, want := range []string{"4094 targets remembering 65536 probes each", "12.0 GiB", "limit of 1.0 GiB", "shorten the timeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	// The same run with a count, or fping's default tries, fits.
	for _, c := range []Config{{Count: 10, Interval: time.Second, Timeout: cfg.Timeout}, fpingRun(cfg.Timeout)} {
		if _, err := withDefaults(&c, 4094); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

// TestWindowMemory measures the engine's heap per target for the run that
// ran out of memory, fping -t 1000000000 -g /20: its windows must hold
// what can be outstanding (4 tries), not 65,536 probes (3 MiB) each.
func TestWindowMemory(t *testing.T) {
	const n = 4094
	cfg := fpingRun(1000000000 * time.Millisecond)
	conn := &loopConn{}
	targets := make([]Target, n)
	paths := make([]resolve.Path, n)
	a := netip.MustParseAddr("198.18.64.0")
	for i := range targets {
		a = a.Next()
		paths[i] = resolve.Path{Target: a}
		targets[i] = Target{Path: &paths[i], Conn: conn}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	e, err := New(&cfg, targets, nil)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n
	t.Logf("%d B of engine heap per target (window of %d probes)", per, len(e.targets[0].window))
	// A target's state beside its window is a few hundred bytes; 4 KiB
	// leaves room for the allocator's rounding and still catches a window
	// sized by timeout ÷ period.
	if per > 4096 {
		t.Errorf("%d B per target, want at most 4 KiB", per)
	}
	runtime.KeepAlive(e)
}
