package report

import (
	"io"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/pingcraft/pingcraft/ping"
)

// BenchmarkFpingHostMemory is the fping printer's heap per host of a -c
// run over 100,000 hosts, every host answered and timed out once, names
// aside (they are the caller's): what the printer adds to a target beyond
// the engine's (ping's BenchmarkTargetMemory). Reported as B/host. Its
// events are what the engine emits for the run; they must allocate
// nothing (allocs/event).
func BenchmarkFpingHostMemory(b *testing.B) {
	const n = 100000
	names := make([]string, n)
	addrs := make([]netip.Addr, n)
	a := netip.MustParseAddr("198.18.0.0")
	for i := range names {
		a = a.Next()
		addrs[i], names[i] = a, a.String()
	}
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		p := &Fping{W: io.Discard, Names: names, Count: true, Quiet: true}
		ev := ping.Event{At: time.Unix(1, 0)}
		for seq := uint16(1); seq <= 2; seq++ {
			for i := range names {
				ev.Target, ev.Addr, ev.Seq = i, addrs[i], seq
				ev.Kind = ping.EventSent
				p.Event(&ev)
				ev.Kind, ev.RTT = ping.EventReply, 100*time.Microsecond
				if seq == 2 {
					ev.Kind = ping.EventTimeout
				}
				p.Event(&ev)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/host")
		b.ReportMetric(float64(after.Mallocs-before.Mallocs-1)/(4*n), "allocs/event")
		p.Summary(time.Second)
		runtime.KeepAlive(p)
	}
}

// TestFpingTimedOutBefore: an ICMP error ends a probe only when the probe
// had not timed out yet; the engine times a host's probes out in order,
// seqs wrapping at 65536.
func TestFpingTimedOutBefore(t *testing.T) {
	for _, tc := range []struct {
		name    string
		late    uint16
		hasLate bool
		seq     uint16
		want    bool
	}{
		{"none timed out", 0, false, 1, false},
		{"the one that timed out", 3, true, 3, true},
		{"an older one", 3, true, 2, true},
		{"a newer one", 3, true, 4, false},
		{"older across the wrap", 2, true, 65534, true},
		{"newer across the wrap", 65534, true, 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := fpingHost{lastLate: tc.late, hasLate: tc.hasLate}
			if got := h.timedOutBefore(tc.seq); got != tc.want {
				t.Errorf("timedOutBefore(%d) after %d = %v, want %v", tc.seq, tc.late, got, tc.want)
			}
		})
	}
}
