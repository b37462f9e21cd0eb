package serve

import (
	"bufio"
	"compress/gzip"
	"io"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/pingcraft/pingcraft/ping"
)

// The per-target families. They are written straight from each target's
// counts as the text exposition format, not gathered through
// client_golang: gathering builds a protobuf message for every series of
// every target at each scrape (about 5 KB a target, all alive at once),
// which at 10,000 targets was most of serve's memory.
const (
	requestsName   = "pingcraft_requests_total"
	durationName   = "pingcraft_response_duration_seconds"
	dupsName       = "pingcraft_response_duplicates_total"
	sendErrorsName = "pingcraft_send_errors_total"
	corruptedName  = "pingcraft_response_corrupted_total"
	icmpErrorsName = "pingcraft_icmp_errors_total"
	ttlName        = "pingcraft_response_ttl"
	probedName     = "pingcraft_target_probed"
	resolveName    = "pingcraft_target_resolve_errors_total"
)

// family is one family's header, written once per scrape.
type family struct{ name, help, kind string }

func (f family) header(w *bufio.Writer) {
	w.WriteString("# HELP ")
	w.WriteString(f.name)
	w.WriteByte(' ')
	w.WriteString(f.help)
	w.WriteString("\n# TYPE ")
	w.WriteString(f.name)
	w.WriteByte(' ')
	w.WriteString(f.kind)
	w.WriteByte('\n')
}

var (
	requestsFamily = family{requestsName, "Echo requests sent.", "counter"}
	durationFamily = family{durationName,
		"Round-trip time of echo replies, in seconds: one observation per answered request, duplicates not included.", "histogram"}
	dupsFamily       = family{dupsName, "Duplicate echo replies: not responses.", "counter"}
	sendErrorsFamily = family{sendErrorsName, "Echo requests that never left (ENOBUFS, EPERM, no neighbour): not loss.", "counter"}
	corruptedFamily  = family{corruptedName, "Echo replies whose data differed from what was sent or whose ICMP checksum was bad; never counted as responses.", "counter"}
	icmpErrorsFamily = family{icmpErrorsName, "ICMP errors answering echo requests, by kind.", "counter"}
	ttlFamily        = family{ttlName, "TTL (hop limit) of the last echo reply.", "gauge"}
	probedFamily     = family{probedName,
		"Every configured target: 1 if it is probed, 0 if its name, route or next hop did not resolve (the log says why; it is tried again).", "gauge"}
	resolveFamily = family{resolveName,
		"Attempts to resolve a target's name, route and next hop that failed; a target not probed is tried again with backoff.", "counter"}
)

// bounds are a histogram's upper bounds with their le label values,
// formatted once for every target and scrape.
type bounds struct {
	v  []float64
	le []string // `le="0.001"`
}

func newBounds(v []float64) *bounds {
	b := &bounds{v: slices.Clone(v)}
	for _, x := range v {
		b.le = append(b.le, `le="`+formatFloat(x)+`"`)
	}
	return b
}

// target is one probed target's counts: a few hundred bytes, its labels
// rendered once. The engine's events write them under the target's lock
// and a scrape reads each family's value under it, the histogram before
// the requests (see write), so that one scrape never shows a reply whose
// request it has not counted: requests are never below responses.
type target struct {
	labels string // group="…",host="…",ip="…",source="…", and any of its file's
	probed string // group="…",host="…"

	mu                                    sync.Mutex
	requests, dups, sendErrors, corrupted uint64
	// The histogram: bucket counts (not cumulative; one more than the
	// bounds, for +Inf), their sum and count.
	bounds  *bounds
	buckets []uint64
	sum     float64
	count   uint64
	icmp    []kindCount
	ttl     uint8
	hasTTL  bool // no TTL series before the first reply
}

// kindCount is the ICMP errors of one kind.
type kindCount struct {
	kind  string
	label string // type="…", made once
	n     uint64
}

// labelPair is one extra label of a target, from its file or group.
type labelPair struct{ name, value string }

// targetLabels renders a target's label set, sorted by name as
// client_golang writes labels.
func targetLabels(ip, host, source, group string, extra []labelPair) string {
	ls := append([]labelPair{{"group", group}, {"host", host}, {"ip", ip}, {"source", source}}, extra...)
	slices.SortStableFunc(ls, func(a, b labelPair) int { return strings.Compare(a.name, b.name) })
	var sb strings.Builder
	for i, l := range ls {
		if i > 0 {
			sb.WriteByte(',')
		}
		writeLabel(&sb, l.name, l.value)
	}
	return sb.String()
}

// probedLabels renders the labels of a configured target's
// pingcraft_target_probed, and of a name's address when ip is given too.
func probedLabels(group, host string, ip ...string) string {
	var b strings.Builder
	writeLabel(&b, "group", group)
	b.WriteByte(',')
	writeLabel(&b, "host", host)
	for _, a := range ip {
		b.WriteByte(',')
		writeLabel(&b, "ip", a)
	}
	return b.String()
}

// writeLabel writes name="value", escaped as the text format wants.
func writeLabel(b *strings.Builder, name, value string) {
	b.WriteString(name)
	b.WriteString(`="`)
	for i := 0; i < len(value); i++ {
		switch c := value[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

func newTarget(labels, probed string, b *bounds) *target {
	return &target{labels: labels, probed: probed, bounds: b, buckets: make([]uint64, len(b.v)+1)}
}

// rebucket starts the histogram over with new bounds; the counters stay.
func (t *target) rebucket(b *bounds) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.bounds == b || slices.Equal(t.bounds.v, b.v) {
		t.bounds = b
		return
	}
	t.bounds, t.buckets, t.sum, t.count = b, make([]uint64, len(b.v)+1), 0, 0
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
		t.buckets[sort.SearchFloat64s(t.bounds.v, s)]++
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
		for i := range t.icmp {
			if t.icmp[i].kind == kind {
				t.icmp[i].n++
				return
			}
		}
		t.icmp = append(t.icmp, kindCount{kind, `type="` + kind + `"`, 1})
	case ping.EventSendError:
		t.sendErrors++
	case ping.EventCorrupted, ping.EventBadChecksum:
		// iputils counts both as "corrupted"; neither is a response.
		t.corrupted++
	}
}

// unprobed is a configured target that is not probed: its name, route or
// next hop did not resolve. Its failures count on across retries.
type unprobed struct {
	probed string // group="…",host="…"
	fails  atomic.Uint64
}

// targetSet is what a scrape reads: the probed targets, and the
// configured ones that are not.
type targetSet struct {
	probed   []*target
	unprobed []*unprobed
}

// targets is the targetSet of the running configuration: Apply and the
// retries swap it whole, so a scrape never waits for either.
type targets struct{ p atomic.Pointer[targetSet] }

func (ts *targets) load() *targetSet {
	if p := ts.p.Load(); p != nil {
		return p
	}
	return &targetSet{}
}

// scrapeBuffer is the room a scrape formats into before it writes.
const scrapeBuffer = 64 << 10

// write writes every target's series in the text format. The families
// come one after the other, each target's value read under its lock; the
// histogram comes before the requests, so that a target's requests, read
// later, are never fewer than the responses it showed.
func (set *targetSet) write(w *bufio.Writer) {
	var num []byte
	line := func(name, labels, extra string, v float64) {
		w.WriteString(name)
		w.WriteByte('{')
		w.WriteString(labels)
		if extra != "" {
			w.WriteByte(',')
			w.WriteString(extra)
		}
		w.WriteString("} ")
		num = appendFloat(num[:0], v)
		num = append(num, '\n')
		w.Write(num)
	}
	counter := func(f family, get func(t *target) uint64) {
		f.header(w)
		for _, t := range set.probed {
			t.mu.Lock()
			v := get(t)
			t.mu.Unlock()
			line(f.name, t.labels, "", float64(v))
		}
	}

	durationFamily.header(w)
	var buckets []uint64
	for _, t := range set.probed {
		t.mu.Lock()
		b, sum, count := t.bounds, t.sum, t.count
		buckets = append(buckets[:0], t.buckets...)
		t.mu.Unlock()
		var n uint64
		for i, le := range b.le {
			n += buckets[i]
			line(durationName+"_bucket", t.labels, le, float64(n))
		}
		line(durationName+"_bucket", t.labels, `le="+Inf"`, float64(count))
		line(durationName+"_sum", t.labels, "", sum)
		line(durationName+"_count", t.labels, "", float64(count))
	}
	counter(requestsFamily, func(t *target) uint64 { return t.requests })
	counter(dupsFamily, func(t *target) uint64 { return t.dups })
	counter(sendErrorsFamily, func(t *target) uint64 { return t.sendErrors })
	counter(corruptedFamily, func(t *target) uint64 { return t.corrupted })

	header := false
	var kinds []kindCount
	for _, t := range set.probed {
		t.mu.Lock()
		kinds = append(kinds[:0], t.icmp...)
		t.mu.Unlock()
		for _, k := range kinds {
			if !header {
				icmpErrorsFamily.header(w)
				header = true
			}
			line(icmpErrorsName, t.labels, k.label, float64(k.n))
		}
	}
	header = false
	for _, t := range set.probed {
		t.mu.Lock()
		ttl, has := t.ttl, t.hasTTL
		t.mu.Unlock()
		if !has {
			continue
		}
		if !header {
			ttlFamily.header(w)
			header = true
		}
		line(ttlName, t.labels, "", float64(ttl))
	}

	probedFamily.header(w)
	for _, t := range set.probed {
		line(probedName, t.probed, "", 1)
	}
	for _, u := range set.unprobed {
		line(probedName, u.probed, "", 0)
	}
	if len(set.unprobed) > 0 {
		resolveFamily.header(w)
		for _, u := range set.unprobed {
			line(resolveName, u.probed, "", float64(u.fails.Load()))
		}
	}
}

// formatFloat formats v as client_golang's text encoder does.
func formatFloat(v float64) string { return string(appendFloat(nil, v)) }

func appendFloat(b []byte, v float64) []byte {
	switch {
	case v == 0:
		return append(b, '0')
	case v == 1:
		return append(b, '1')
	case math.IsInf(v, +1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// textFormat is what /metrics answers in: the text format every
// Prometheus takes, whatever else it asks for first.
var textFormat = expfmt.NewFormat(expfmt.TypeTextPlain)

// WriteMetrics writes every series serve exports, in the text format: the
// registry's (build, reloads, ring drops, Go, process), then the targets'.
func (s *Server) WriteMetrics(w io.Writer) error {
	mfs, err := s.reg.Gather()
	if err != nil {
		return err
	}
	return s.writeMetrics(w, mfs)
}

func (s *Server) writeMetrics(w io.Writer, mfs []*dto.MetricFamily) error {
	bw := bufio.NewWriterSize(w, scrapeBuffer)
	enc := expfmt.NewEncoder(bw, textFormat)
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return err
		}
	}
	s.targets.load().write(bw)
	return bw.Flush()
}

// handleMetrics serves /metrics, gzipped when the scraper takes it, as
// promhttp does; at the fastest level, since a 10,000-target scrape is
// tens of megabytes of text.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	mfs, err := s.reg.Gather()
	if err != nil {
		// As promhttp's HTTPErrorOnError: nothing written yet.
		http.Error(w, "gathering metrics: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", string(textFormat))
	var out io.Writer = w
	if gzipAccepted(r.Header.Get("Accept-Encoding")) {
		gz, _ := s.gzips.Get().(*gzip.Writer)
		if gz == nil {
			gz, _ = gzip.NewWriterLevel(w, gzip.BestSpeed)
		} else {
			gz.Reset(w)
		}
		defer func() {
			gz.Close()
			s.gzips.Put(gz)
		}()
		w.Header().Set("Content-Encoding", "gzip")
		out = gz
	}
	if err := s.writeMetrics(out, mfs); err != nil {
		s.log().Error("scrape", "err", err)
	}
}

func gzipAccepted(h string) bool {
	for _, part := range strings.Split(h, ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(enc) == "gzip" && strings.TrimSpace(q) != "q=0" {
			return true
		}
	}
	return false
}
