package serve

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pingcraft/pingcraft/ping"
	"github.com/pingcraft/pingcraft/resolve"
)

// probeMargin is what a burst leaves of Prometheus' scrape timeout, for
// the answer to reach it.
const probeMargin = 500 * time.Millisecond

// burst is what one /probe saw.
type burst struct {
	requests, responses, dups int
	min, max, sum             time.Duration
	ttl                       uint8
	hasTTL                    bool
	six                       bool
}

func (b *burst) record(ev *ping.Event) {
	switch ev.Kind {
	case ping.EventSent:
		b.requests++
	case ping.EventReply:
		if b.responses == 0 || ev.RTT < b.min {
			b.min = ev.RTT
		}
		b.max = max(b.max, ev.RTT)
		b.sum += ev.RTT
		b.responses++
		if ev.HasTTL {
			b.ttl, b.hasTTL = ev.TTL, true
		}
	case ping.EventDuplicate:
		b.dups++
	}
}

// probe sends m's burst to target and waits for its end, ctx's or the
// last probe's timeout. An error is the target's: it could not be probed.
func probe(ctx context.Context, target string, m *Module) (*burst, error) {
	// Count probes, the run ending once each is answered or timed out (a
	// Deadline would make Count a count of replies, as ping -w does).
	run := &ping.Config{Count: m.Count, Interval: m.Interval, Timeout: m.Timeout, Size: m.Size, TOS: m.TOS}
	fl, member, err := ping.NewSingle(ctx, target, run, &ping.FleetConfig{Mode: m.Mode,
		Path: resolve.Options{Interface: m.Interface, Source: m.Source}})
	if err != nil {
		return nil, err
	}
	defer fl.Close()
	b := &burst{six: member.Path.Target.Is6()}
	// Events come from the engine's goroutines; Run has joined them all
	// before it returns, and only then is b read.
	e, err := fl.Engine(b.record)
	if err != nil {
		return nil, err
	}
	if err := e.Run(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return nil, err
	}
	return b, nil
}

// handleProbe answers GET /probe?target=X&module=M with one burst's
// results, as a blackbox-style prober does: probe_success and
// probe_duration_seconds, with pingcraft's counts and round trips.
func (s *Server) handleProbe(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	target := q.Get("target")
	if target == "" || strings.ContainsAny(target, " \t\r\n") {
		http.Error(w, "give one address or host name as the target parameter: /probe?target=198.18.1.2", http.StatusBadRequest)
		return
	}
	name := q.Get("module")
	if name == "" {
		name = "icmp"
	}
	modules := map[string]Module{"icmp": DefaultModule} // before the first Apply
	if p := s.modules.Load(); p != nil {
		modules = *p
	}
	m, ok := modules[name]
	if !ok {
		http.Error(w, fmt.Sprintf("unknown module %q: use %s, or add it under modules: in the configuration",
			name, strings.Join(slices.Sorted(maps.Keys(modules)), ", ")), http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	if v := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"); v != "" {
		if secs, err := strconv.ParseFloat(v, 64); err == nil && secs > 0 {
			d := time.Duration(secs * float64(time.Second))
			// A timeout shorter than twice the margin: half of it.
			d = max(d-probeMargin, d/2)
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
	}

	start := time.Now()
	b, err := probe(ctx, target, &m)
	took := time.Since(start)
	if err != nil {
		s.log().Warn("probe failed", "target", target, "module", name, "err", err)
	}
	promhttp.HandlerFor(burstRegistry(b, took), promhttp.HandlerOpts{}).ServeHTTP(w, r)
}

// burstRegistry holds the series of one /probe: b is nil when the target
// could not be probed.
func burstRegistry(b *burst, took time.Duration) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	gauge := func(name, help string, v float64) {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
		g.Set(v)
		reg.MustRegister(g)
	}
	success := 0.0
	if b != nil && b.responses > 0 {
		success = 1
	}
	gauge("probe_success", "Whether any probe of the burst was answered.", success)
	gauge("probe_duration_seconds", "How long the probe took, resolution included, in seconds.", took.Seconds())
	if b != nil {
		proto := 4.0
		if b.six {
			proto = 6
		}
		gauge("probe_ip_protocol", "The IP version probed: 4 or 6.", proto)
		gauge("pingcraft_probe_requests", "Echo requests the burst sent.", float64(b.requests))
		gauge("pingcraft_probe_responses", "Echo requests answered in time: duplicates not included.", float64(b.responses))
		gauge("pingcraft_probe_duplicates", "Duplicate echo replies.", float64(b.dups))
		if b.requests > 0 {
			gauge("pingcraft_probe_loss_ratio", "Share of the burst's requests not answered in time, 0 to 1.",
				1-float64(b.responses)/float64(b.requests))
		}
		if b.responses > 0 {
			rtt := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "pingcraft_probe_rtt_seconds",
				Help: "Round trip of the burst's replies, in seconds: min, mean and max."}, []string{"stat"})
			rtt.WithLabelValues("min").Set(b.min.Seconds())
			rtt.WithLabelValues("mean").Set((b.sum / time.Duration(b.responses)).Seconds())
			rtt.WithLabelValues("max").Set(b.max.Seconds())
			reg.MustRegister(rtt)
		}
		if b.hasTTL {
			gauge("pingcraft_probe_reply_ttl", "TTL (hop limit) of the burst's last reply.", float64(b.ttl))
		}
	}
	return reg
}
