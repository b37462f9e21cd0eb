package serve

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

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
	lv     []string         // label values: ip, host, source, group
	pairs  []*dto.LabelPair // the same, made once for every scrape
	probed []*dto.LabelPair // group and host, for pingcraft_target_probed

	mu                                    sync.Mutex
	requests, dups, sendErrors, corrupted uint64
	// The histogram: bucket counts (not cumulative; one more than the
	// bounds, for +Inf), their sum and count.
	bounds  []float64
	buckets []uint64
	sum     float64
	count   uint64
	icmp    map[string]*kindCount
	ttl     uint8
	hasTTL  bool // no TTL series before the first reply
}

// kindCount is the ICMP errors of one kind, with their series' labels.
type kindCount struct {
	n     uint64
	pairs []*dto.LabelPair
}

func newTarget(lv []string, bounds []float64) *target {
	return &target{lv: lv, pairs: prometheus.MakeLabelPairs(requestsDesc, lv), probed: prometheus.MakeLabelPairs(probedDesc, []string{lv[3], lv[1]}),
		bounds: bounds, buckets: make([]uint64, len(bounds)+1)}
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
		kind := ev.Error.Kind.String()
		k := t.icmp[kind]
		if k == nil {
			if t.icmp == nil {
				t.icmp = map[string]*kindCount{}
			}
			k = &kindCount{pairs: prometheus.MakeLabelPairs(icmpErrorsDesc, append(slices.Clone(t.lv), kind))}
			t.icmp[kind] = k
		}
		k.n++
	case ping.EventSendError:
		t.sendErrors++
	case ping.EventCorrupted:
		t.corrupted++
	}
}

// collect sends the target's series as they are at one instant. A
// fleet's scrape is tens of thousands of series, so they are written
// straight from one allocation per target, their labels made once.
func (t *target) collect(ch chan<- prometheus.Metric) {
	sc := &scrape{}
	t.mu.Lock()
	sc.requests.set(requestsDesc, t.pairs, prometheus.CounterValue, float64(t.requests))
	sc.dups.set(dupsDesc, t.pairs, prometheus.CounterValue, float64(t.dups))
	sc.sendErrors.set(sendErrorsDesc, t.pairs, prometheus.CounterValue, float64(t.sendErrors))
	sc.corrupted.set(corruptedDesc, t.pairs, prometheus.CounterValue, float64(t.corrupted))
	sc.ttl.set(ttlDesc, t.pairs, prometheus.GaugeValue, float64(t.ttl))
	sc.probed.set(probedDesc, t.probed, prometheus.GaugeValue, 1)
	hasTTL := t.hasTTL
	sc.hist.set(t.pairs, t.bounds, t.buckets, t.sum, t.count)
	var icmp []series
	if len(t.icmp) > 0 {
		icmp = make([]series, 0, len(t.icmp))
		for _, k := range t.icmp {
			icmp = append(icmp, series{})
			icmp[len(icmp)-1].set(icmpErrorsDesc, k.pairs, prometheus.CounterValue, float64(k.n))
		}
	}
	t.mu.Unlock()

	ch <- &sc.requests
	ch <- &sc.hist
	ch <- &sc.dups
	ch <- &sc.sendErrors
	ch <- &sc.corrupted
	ch <- &sc.probed
	for i := range icmp {
		ch <- &icmp[i]
	}
	if hasTTL {
		ch <- &sc.ttl
	}
}

// scrape is one target's series at one scrape.
type scrape struct {
	requests, dups, sendErrors, corrupted, ttl, probed series
	hist                                               histogram
}

// series is one counter or gauge, a prometheus.Metric. The registry only
// reads what Write hands it, so the label pairs are shared.
type series struct {
	desc  *prometheus.Desc
	pairs []*dto.LabelPair
	kind  prometheus.ValueType
	v     float64
	c     dto.Counter
	g     dto.Gauge
}

func (m *series) set(d *prometheus.Desc, pairs []*dto.LabelPair, kind prometheus.ValueType, v float64) {
	m.desc, m.pairs, m.kind, m.v = d, pairs, kind, v
}

func (m *series) Desc() *prometheus.Desc { return m.desc }

func (m *series) Write(out *dto.Metric) error {
	out.Label = m.pairs
	if m.kind == prometheus.CounterValue {
		m.c.Value = &m.v
		out.Counter = &m.c
	} else {
		m.g.Value = &m.v
		out.Gauge = &m.g
	}
	return nil
}

// histogram is the round-trip histogram of one target, a prometheus.Metric.
type histogram struct {
	pairs      []*dto.LabelPair
	count      uint64
	sum        float64
	cumulative []uint64
	buckets    []dto.Bucket
	ptrs       []*dto.Bucket
	h          dto.Histogram
}

// set copies a target's histogram; bounds is never changed in place (a
// rebucket replaces it), so the buckets point into it.
func (m *histogram) set(pairs []*dto.LabelPair, bounds []float64, counts []uint64, sum float64, count uint64) {
	m.pairs, m.sum, m.count = pairs, sum, count
	m.cumulative = make([]uint64, len(bounds))
	m.buckets = make([]dto.Bucket, len(bounds))
	m.ptrs = make([]*dto.Bucket, len(bounds))
	var n uint64
	for i := range bounds {
		n += counts[i]
		m.cumulative[i] = n
		m.buckets[i].CumulativeCount, m.buckets[i].UpperBound = &m.cumulative[i], &bounds[i]
		m.ptrs[i] = &m.buckets[i]
	}
}

func (m *histogram) Desc() *prometheus.Desc { return durationDesc }

func (m *histogram) Write(out *dto.Metric) error {
	out.Label = m.pairs
	m.h.SampleCount, m.h.SampleSum, m.h.Bucket = &m.count, &m.sum, m.ptrs
	out.Histogram = &m.h
	return nil
}

func (t *target) key() string { return strings.Join(t.lv, "\x00") }

// targetSet is what a scrape reads: the probed targets, and the
// configured ones that are not (their name, route or next hop did not
// resolve).
type targetSet struct {
	probed   []*target
	unprobed [][]*dto.LabelPair // group, host
}

// targets is the targetSet of the running configuration: Apply swaps it
// whole, so a scrape never waits for a reload.
type targets struct{ p atomic.Pointer[targetSet] }

func (ts *targets) load() *targetSet {
	if p := ts.p.Load(); p != nil {
		return p
	}
	return &targetSet{}
}

var probedDesc = prometheus.NewDesc("pingcraft_target_probed",
	"Every configured target: 1 if it is probed, 0 if its name, route or next hop did not resolve (the log says why; the next reload tries again).",
	[]string{"group", "host"}, nil)

func (ts *targets) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{requestsDesc, durationDesc, dupsDesc, sendErrorsDesc, corruptedDesc, icmpErrorsDesc, ttlDesc, probedDesc} {
		ch <- d
	}
}

func (ts *targets) Collect(ch chan<- prometheus.Metric) {
	set := ts.load()
	for _, t := range set.probed {
		t.collect(ch)
	}
	for _, lp := range set.unprobed {
		m := &series{}
		m.set(probedDesc, lp, prometheus.GaugeValue, 0)
		ch <- m
	}
}
