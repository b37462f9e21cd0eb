package serve

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"maps"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/ping"
)

var lv = []string{"198.18.1.2", "target.example", "198.18.0.2", "lab"}

// testTarget is a target labelled lv: ip, host, source, group.
func testTarget(lv []string, buckets []float64) *target {
	return newTarget(targetLabels(lv[0], lv[1], lv[2], lv[3], nil), probedLabels(lv[3], lv[1]), newBounds(buckets))
}

// gatherer reads what set writes back through Prometheus' own text
// parser, which refuses a family split in two or a malformed line.
func gatherer(set *targetSet) prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		var b bytes.Buffer
		w := bufio.NewWriter(&b)
		set.write(w)
		w.Flush()
		p := expfmt.NewTextParser(model.UTF8Validation)
		byName, err := p.TextToMetricFamilies(&b)
		if err != nil {
			return nil, err
		}
		var mfs []*dto.MetricFamily
		for _, name := range slices.Sorted(maps.Keys(byName)) {
			mf := byName[name]
			// In the registry's order, so that diffs read alike.
			slices.SortStableFunc(mf.Metric, func(a, b *dto.Metric) int { return strings.Compare(a.String(), b.String()) })
			mfs = append(mfs, mf)
		}
		return mfs, nil
	})
}

func registry(ts ...*target) prometheus.Gatherer { return gatherer(&targetSet{probed: ts}) }

// TestTargetSeries: every series of a target is there before its first
// event, and a duplicate reply is counted as a duplicate, not a response.
func TestTargetSeries(t *testing.T) {
	tg := testTarget(lv, []float64{0.001, 0.01})
	reg := registry(tg)
	const labels = `group="lab",host="target.example",ip="198.18.1.2",source="198.18.0.2"`
	before := `
# HELP pingcraft_requests_total Echo requests sent.
# TYPE pingcraft_requests_total counter
pingcraft_requests_total{` + labels + `} 0
# HELP pingcraft_response_duplicates_total Duplicate echo replies: not responses.
# TYPE pingcraft_response_duplicates_total counter
pingcraft_response_duplicates_total{` + labels + `} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(before), "pingcraft_requests_total", "pingcraft_response_duplicates_total"); err != nil {
		t.Errorf("before any probe: %v", err)
	}
	if n, err := testutil.GatherAndCount(reg); err != nil || n != 6 {
		t.Errorf("before any probe: %d series (%v), want requests, histogram, duplicates, send errors, corrupted, probed", n, err)
	}

	for _, ev := range []ping.Event{
		{Kind: ping.EventSent}, {Kind: ping.EventReply, RTT: 500 * time.Microsecond, TTL: 63, HasTTL: true},
		{Kind: ping.EventDuplicate, RTT: 5 * time.Second, TTL: 60, HasTTL: true},
		{Kind: ping.EventBadChecksum, RTT: time.Millisecond, TTL: 60, HasTTL: true},
		{Kind: ping.EventSent}, {Kind: ping.EventReply, RTT: 5 * time.Millisecond, TTL: 62, HasTTL: true},
		{Kind: ping.EventSent}, {Kind: ping.EventICMPError, Error: craft.ICMPError{Kind: craft.ErrUnreachable}},
		{Kind: ping.EventSent}, {Kind: ping.EventSendError},
		{Kind: ping.EventSent}, {Kind: ping.EventCorrupted},
	} {
		tg.record(&ev)
	}
	after := `
# HELP pingcraft_requests_total Echo requests sent.
# TYPE pingcraft_requests_total counter
pingcraft_requests_total{` + labels + `} 5
# HELP pingcraft_response_duplicates_total Duplicate echo replies: not responses.
# TYPE pingcraft_response_duplicates_total counter
pingcraft_response_duplicates_total{` + labels + `} 1
# HELP pingcraft_response_duration_seconds Round-trip time of echo replies, in seconds: one observation per answered request, duplicates not included.
# TYPE pingcraft_response_duration_seconds histogram
pingcraft_response_duration_seconds_bucket{` + labels + `,le="0.001"} 1
pingcraft_response_duration_seconds_bucket{` + labels + `,le="0.01"} 2
pingcraft_response_duration_seconds_bucket{` + labels + `,le="+Inf"} 2
pingcraft_response_duration_seconds_sum{` + labels + `} 0.0055
pingcraft_response_duration_seconds_count{` + labels + `} 2
# HELP pingcraft_response_ttl TTL (hop limit) of the last echo reply.
# TYPE pingcraft_response_ttl gauge
pingcraft_response_ttl{` + labels + `} 62
# HELP pingcraft_icmp_errors_total ICMP errors answering echo requests, by kind.
# TYPE pingcraft_icmp_errors_total counter
pingcraft_icmp_errors_total{` + labels + `,type="unreachable"} 1
# HELP pingcraft_send_errors_total Echo requests that never left (ENOBUFS, EPERM, no neighbour): not loss.
# TYPE pingcraft_send_errors_total counter
pingcraft_send_errors_total{` + labels + `} 1
# HELP pingcraft_response_corrupted_total Echo replies whose data differed from what was sent or whose ICMP checksum was bad; never counted as responses.
# TYPE pingcraft_response_corrupted_total counter
pingcraft_response_corrupted_total{` + labels + `} 2
# HELP pingcraft_target_probed Every configured target: 1 if it is probed, 0 if its name, route or next hop did not resolve (the log says why; it is tried again).
# TYPE pingcraft_target_probed gauge
pingcraft_target_probed{group="lab",host="target.example"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(after)); err != nil {
		t.Error(err)
	}
}

// TestUnprobed: a configured target that is not probed has one series,
// pingcraft_target_probed at 0, and none of a probed target's.
func TestUnprobed(t *testing.T) {
	gone := &unprobed{probed: probedLabels("lab", "gone.example")}
	gone.fails.Store(3)
	reg := gatherer(&targetSet{probed: []*target{testTarget(lv, DefaultBuckets)}, unprobed: []*unprobed{gone}})
	want := `
# HELP pingcraft_target_probed Every configured target: 1 if it is probed, 0 if its name, route or next hop did not resolve (the log says why; it is tried again).
# TYPE pingcraft_target_probed gauge
pingcraft_target_probed{group="lab",host="gone.example"} 0
pingcraft_target_probed{group="lab",host="target.example"} 1
# HELP pingcraft_target_resolve_errors_total Attempts to resolve a target's name, route and next hop that failed; a target not probed is tried again with backoff.
# TYPE pingcraft_target_resolve_errors_total counter
pingcraft_target_resolve_errors_total{group="lab",host="gone.example"} 3
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "pingcraft_target_probed", "pingcraft_target_resolve_errors_total"); err != nil {
		t.Error(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.Metric {
			for _, l := range m.Label {
				if l.GetValue() == "gone.example" && mf.GetName() != "pingcraft_target_probed" && mf.GetName() != "pingcraft_target_resolve_errors_total" {
					t.Errorf("%s for the target that is not probed", mf.GetName())
				}
			}
		}
	}
}

// TestBucketBounds: an RTT equal to a bound falls in that bucket (le).
func TestBucketBounds(t *testing.T) {
	tg := testTarget(lv, []float64{0.001, 0.002})
	for _, rtt := range []time.Duration{time.Millisecond, 1500 * time.Microsecond, 3 * time.Millisecond} {
		tg.record(&ping.Event{Kind: ping.EventReply, RTT: rtt})
	}
	if diff := cmp.Diff([]uint64{1, 1, 1}, tg.buckets); diff != "" {
		t.Errorf("buckets (-want +got):\n%s", diff)
	}
	tg.rebucket(newBounds([]float64{0.001, 0.002}))
	if tg.count != 3 {
		t.Errorf("the same bounds again reset the histogram")
	}
	tg.record(&ping.Event{Kind: ping.EventSent})
	tg.rebucket(newBounds([]float64{0.01}))
	if tg.count != 0 || len(tg.buckets) != 2 || tg.requests != 1 {
		t.Errorf("new bounds: count %d, %d buckets, %d requests; want the histogram over, the requests kept", tg.count, len(tg.buckets), tg.requests)
	}
}

// TestScrapeConsistent: while an engine sends and answers as fast as it
// can, no scrape shows more responses than requests. With the counts in
// separate metric vectors read one after the other, this fails within a
// few scrapes.
func TestScrapeConsistent(t *testing.T) {
	tg := testTarget(lv, DefaultBuckets)
	reg := registry(tg)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			tg.record(&ping.Event{Kind: ping.EventSent})
			tg.record(&ping.Event{Kind: ping.EventReply, RTT: time.Millisecond})
		}
	})
	defer func() { close(stop); wg.Wait() }()
	for i := range 2000 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var requests, responses uint64
		for _, mf := range mfs {
			switch mf.GetName() {
			case "pingcraft_requests_total":
				requests = uint64(mf.Metric[0].GetCounter().GetValue())
			case "pingcraft_response_duration_seconds":
				responses = histogramCount(mf.Metric[0])
			}
		}
		if responses > requests {
			t.Fatalf("scrape %d: %d responses, %d requests", i, responses, requests)
		}
	}
}

func histogramCount(m *dto.Metric) uint64 { return m.GetHistogram().GetSampleCount() }

// BenchmarkScrape: one scrape of 10,000 targets, each with replies in
// its histogram and an ICMP error: what Prometheus costs serve at a fleet's
// size.
func BenchmarkScrape(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			set := &targetSet{probed: busyTargets(n)}
			w := bufio.NewWriterSize(io.Discard, scrapeBuffer)
			b.ReportAllocs()
			for b.Loop() {
				set.write(w)
				w.Flush()
			}
		})
	}
}

// busyTargets are n targets that have each sent, been answered and met an
// ICMP error.
func busyTargets(n int) []*target {
	ts := make([]*target, n)
	bs := newBounds(DefaultBuckets)
	for i := range ts {
		host := fmt.Sprintf("target%d.example", i)
		ts[i] = newTarget(targetLabels("198.18.1.2", host, "198.18.0.2", "lab", nil), probedLabels("lab", host), bs)
		for _, ev := range []ping.Event{{Kind: ping.EventSent}, {Kind: ping.EventReply, RTT: time.Millisecond, HasTTL: true},
			{Kind: ping.EventICMPError, Error: craft.ICMPError{Kind: craft.ErrUnreachable}}} {
			ts[i].record(&ev)
		}
	}
	return ts
}

// BenchmarkTargetMemory: the heap one busy target's counts and labels
// hold, as B/target.
func BenchmarkTargetMemory(b *testing.B) {
	const n = 10000
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		ts := busyTargets(n)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/target")
		runtime.KeepAlive(ts)
	}
}

// TestHandleMetrics: /metrics answers in the text format, gzipped when
// asked, the registry's series and the targets' in one body that
// Prometheus' parser reads.
func TestHandleMetrics(t *testing.T) {
	s := New()
	s.targets.p.Store(&targetSet{probed: []*target{testTarget(lv, DefaultBuckets)}})
	for _, gz := range []bool{false, true} {
		req := httptest.NewRequest("GET", "/metrics", nil)
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		rec := httptest.NewRecorder()
		s.handleMetrics(rec, req)
		var body io.Reader = rec.Body
		if gz {
			if rec.Header().Get("Content-Encoding") != "gzip" {
				t.Fatalf("asked for gzip, got Content-Encoding %q", rec.Header().Get("Content-Encoding"))
			}
			zr, err := gzip.NewReader(rec.Body)
			if err != nil {
				t.Fatal(err)
			}
			body = zr
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
			t.Errorf("Content-Type %q", ct)
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		mfs, err := p.TextToMetricFamilies(body)
		if err != nil {
			t.Fatalf("gzip %v: %v", gz, err)
		}
		for _, name := range []string{"pingcraft_build_info", "pingcraft_requests_total", "pingcraft_response_duration_seconds", "go_goroutines"} {
			if mfs[name] == nil {
				t.Errorf("gzip %v: no %s", gz, name)
			}
		}
	}
}
