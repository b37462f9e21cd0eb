package serve

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pingcraft/pingcraft/ping"
)

// labels of every per-target series, as smokeping_prober's users expect.
var labels = []string{"ip", "host", "source", "group"}

var (
	requestsDesc = prometheus.NewDesc("pingcraft_requests_total", "Echo requests sent.", labels, nil)
	durationDesc = prometheus.NewDesc("pingcraft_response_duration_seconds",
		"Round-trip time of echo replies, in seconds: one observation per answered request, duplicates not included.", labels, nil)
	dupsDesc       = prometheus.NewDesc("pingcraft_response_duplicates_total", "Duplicate echo replies: not responses.", labels, nil)
	sendErrorsDesc = prometheus.NewDesc("pingcraft_send_errors_total",
		"Echo requests that never left (ENOBUFS, EPERM, no neighbour): not loss.", labels, nil)
	corruptedDesc = prometheus.NewDesc("pingcraft_response_corrupted_total",
		"Echo replies whose data differed from what was sent; never counted as responses.", labels, nil)
	icmpErrorsDesc = prometheus.NewDesc("pingcraft_icmp_errors_total", "ICMP errors answering echo requests, by kind.",
		append(slices.Clone(labels), "type"), nil)
	ttlDesc = prometheus.NewDesc("pingcraft_response_ttl", "TTL (hop limit) of the last echo reply.", labels, nil)
)

// target is one probed target's counts. The engine's events write them
// and a scrape copies them under the same lock, so that one scrape never
// shows a reply whose request it has not counted: requests are never
// below responses.
type target struct {
	lv []string // label values: ip, host, source, group

	mu                                    sync.Mutex
	requests, dups, sendErrors, corrupted uint64
	// The histogram: bucket counts (not cumulative; one more than the
	// bounds, for +Inf), their sum and count.
	bounds  []float64
	buckets []uint64
	sum     float64
	count   uint64
	icmp    map[string]uint64 // by kind
	ttl     uint8
	hasTTL  bool // no TTL series before the first reply
}

func newTarget(lv []string, bounds []float64) *target {
	return &target{lv: lv, bounds: bounds, buckets: make([]uint64, len(bounds)+1)}
}

// rebucket starts the histogram over with new bounds; the counters stay.
func (t *target) rebucket(bounds []float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if slices.Equal(t.bounds, bounds) {
		return
	}
	t.bounds, t.buckets, t.sum, t.count = bounds, make([]uint64, len(bounds)+1), 0, 0
}

// record turns one engine event into counts; it runs under the engine's
// lock, so it only counts.
func (t *target) record(ev *ping.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch ev.Kind {
	case ping.EventSent:
		t.requests++
	case ping.EventReply:
		// A bucket's upper bound is inclusive (le), as Prometheus has it.
		s := ev.RTT.Seconds()
		t.buckets[sort.SearchFloat64s(t.bounds, s)]++
		t.sum += s
		t.count++
		if ev.HasTTL {
			t.ttl, t.hasTTL = ev.TTL, true
		}
	case ping.EventDuplicate:
		// Not a response: counted in the histogram it would make loss
		// negative and skew the latency of a looping or mirrored path.
		t.dups++
	case ping.EventICMPError:
		if t.icmp == nil {
			t.icmp = map[string]uint64{}
		}
		t.icmp[ev.Error.Kind.String()]++
	case ping.EventSendError:
		t.sendErrors++
	case ping.EventCorrupted:
		t.corrupted++
	}
}

// collect sends the target's series as they are at one instant.
func (t *target) collect(ch chan<- prometheus.Metric) {
	t.mu.Lock()
	requests, dups, sendErrors, corrupted := t.requests, t.dups, t.sendErrors, t.corrupted
	cumulative := make(map[float64]uint64, len(t.bounds))
	var n uint64
	for i, b := range t.bounds {
		n += t.buckets[i]
		cumulative[b] = n
	}
	sum, count := t.sum, t.count
	var icmp map[string]uint64
	if len(t.icmp) > 0 {
		icmp = make(map[string]uint64, len(t.icmp))
		for k, v := range t.icmp {
			icmp[k] = v
		}
	}
	ttl, hasTTL := t.ttl, t.hasTTL
	t.mu.Unlock()

	counter := func(d *prometheus.Desc, v uint64, lv ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), lv...)
	}
	counter(requestsDesc, requests, t.lv...)
	ch <- prometheus.MustNewConstHistogram(durationDesc, count, sum, cumulative, t.lv...)
	counter(dupsDesc, dups, t.lv...)
	counter(sendErrorsDesc, sendErrors, t.lv...)
	counter(corruptedDesc, corrupted, t.lv...)
	for kind, v := range icmp {
		counter(icmpErrorsDesc, v, append(slices.Clone(t.lv), kind)...)
	}
	if hasTTL {
		ch <- prometheus.MustNewConstMetric(ttlDesc, prometheus.GaugeValue, float64(ttl), t.lv...)
	}
}

func (t *target) key() string { return strings.Join(t.lv, "\x00") }

// targets is the set of probed targets a scrape reads: Apply swaps it
// whole, so a scrape never waits for a reload.
type targets struct{ p atomic.Pointer[[]*target] }

func (ts *targets) load() []*target {
	if p := ts.p.Load(); p != nil {
		return *p
	}
	return nil
}

func (ts *targets) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{requestsDesc, durationDesc, dupsDesc, sendErrorsDesc, corruptedDesc, icmpErrorsDesc, ttlDesc} {
		ch <- d
	}
}

func (ts *targets) Collect(ch chan<- prometheus.Metric) {
	for _, t := range ts.load() {
		t.collect(ch)
	}
}
