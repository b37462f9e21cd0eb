package serve

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pingcraft/pingcraft/ping"
	"github.com/pingcraft/pingcraft/resolve"
)

// labels of every per-target series, as smokeping_prober's users expect.
var labels = []string{"ip", "host", "source", "group"}

// Server probes a Config's groups and serves their metrics. Apply starts
// a configuration; a later Apply replaces it only if it can start.
type Server struct {
	// Log gets one line per reload and per problem; nil discards them.
	Log io.Writer

	reg *prometheus.Registry
	m   metrics

	mu      sync.Mutex // serialises Apply, Close and the drops collector
	buckets []float64
	run     *running
}

type metrics struct {
	requests, dups, sendErrors, corrupted *prometheus.CounterVec
	icmpErrors                            *prometheus.CounterVec
	duration                              *prometheus.HistogramVec
	ttl                                   *prometheus.GaugeVec
}

// running is one applied configuration: its engines and sockets.
type running struct {
	cfg     *Config
	cancel  context.CancelFunc
	done    sync.WaitGroup
	fleets  map[string]*ping.Fleet // by group: it owns the group's sockets
	targets map[string][]string    // group -> label values of each target, in order
}

// New returns a Server with its metrics registered, Go and process
// metrics included.
func New() *Server {
	s := &Server{reg: prometheus.NewRegistry()}
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	counter := func(name, help string, extra ...string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, append(slices.Clone(labels), extra...))
		s.reg.MustRegister(v)
		return v
	}
	s.m.requests = counter("pingcraft_requests_total", "Echo requests sent.")
	s.m.dups = counter("pingcraft_response_duplicates_total", "Duplicate echo replies.")
	s.m.sendErrors = counter("pingcraft_send_errors_total", "Echo requests that never left (ENOBUFS, EPERM, no neighbour): not loss.")
	s.m.corrupted = counter("pingcraft_response_corrupted_total", "Echo replies whose data differed from what was sent; never counted as responses.")
	s.m.icmpErrors = counter("pingcraft_icmp_errors_total", "ICMP errors answering echo requests, by kind.", "type")
	s.m.ttl = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "pingcraft_response_ttl", Help: "TTL (hop limit) of the last echo reply."}, labels)
	s.reg.MustRegister(s.m.ttl, dropsCollector{s})
	s.setBuckets(DefaultBuckets)
	return s
}

// setBuckets (re)creates the response histogram; its history starts over
// when the buckets change. s.mu is held or s is new.
func (s *Server) setBuckets(b []float64) {
	if s.m.duration != nil && slices.Equal(s.buckets, b) {
		return
	}
	if s.m.duration != nil {
		s.reg.Unregister(s.m.duration)
	}
	s.buckets = slices.Clone(b)
	s.m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "pingcraft_response_duration_seconds",
		Help: "Round-trip time of echo replies (duplicates included), in seconds.", Buckets: s.buckets}, labels)
	s.reg.MustRegister(s.m.duration)
}

// Apply resolves and opens everything cfg needs, then stops what was
// running and starts cfg. If anything fails, nothing changes and the
// error says what. A target that does not resolve, or whose next hop does
// not answer, is logged and left out; it does not refuse the configuration.
func (s *Server) Apply(ctx context.Context, cfg *Config) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	type prepared struct {
		g       Group
		fleet   *ping.Fleet
		engine  *ping.Engine
		handles []handles // filled once the histogram is settled, before the engine runs
	}
	var groups []*prepared
	fail := func(err error) error {
		for _, p := range groups {
			p.fleet.Close()
		}
		return err
	}
	resolver, err := resolve.NewBatch()
	if err != nil {
		return err
	}
	defer resolver.Close()
	for _, g := range cfg.Groups {
		run := &ping.Config{Interval: g.Interval, Timeout: g.Timeout, Size: g.Size, TOS: g.TOS,
			// Spread over the interval, so that the group never bursts.
			Gap: g.Interval / time.Duration(len(g.Targets))}
		fl, err := ping.NewFleet(ctx, g.Targets, run, &ping.FleetConfig{Mode: g.Mode, Resolver: resolver,
			Path: resolve.Options{Interface: g.Interface, Source: g.Source}})
		if err != nil {
			return fail(fmt.Errorf("group %q: %w", g.Name, err))
		}
		p := &prepared{g: g, fleet: fl}
		groups = append(groups, p)
		for _, m := range fl.Members() {
			if m.Err != nil {
				s.logf("serve: group %q: target %s is not probed: %v", g.Name, m.Name, m.Err)
			}
		}
		if len(fl.Targets()) == 0 {
			continue
		}
		if p.engine, err = fl.Engine(func(ev *ping.Event) { p.handles[ev.Target].record(ev) }); err != nil {
			return fail(fmt.Errorf("group %q: %w", g.Name, err))
		}
	}

	s.stop()
	s.setBuckets(cfg.Buckets)
	s.forget(cfg)
	rctx, cancel := context.WithCancel(context.Background())
	r := &running{cfg: cfg, cancel: cancel, fleets: map[string]*ping.Fleet{}, targets: map[string][]string{}}
	for _, p := range groups {
		r.fleets[p.g.Name] = p.fleet
		if p.engine == nil {
			continue
		}
		for i, t := range p.fleet.Targets() {
			lv := []string{t.Path.Target.String(), p.fleet.MemberOf(i).Name, t.Path.Source.String(), p.g.Name}
			r.targets[p.g.Name] = append(r.targets[p.g.Name], lv...)
			p.handles = append(p.handles, s.handlesFor(lv))
		}
		r.done.Go(func() {
			if err := p.engine.Run(rctx); err != nil {
				s.logf("serve: group %q stopped: %v", p.g.Name, err)
			}
		})
	}
	s.run = r
	return nil
}

// stop ends the running configuration and closes its sockets. s.mu is held.
func (s *Server) stop() {
	if s.run == nil {
		return
	}
	s.run.cancel()
	s.run.done.Wait()
	for _, f := range s.run.fleets {
		f.Close()
	}
}

// forget deletes the series of targets that next no longer has, so that
// removed targets disappear from /metrics. s.mu is held.
func (s *Server) forget(next *Config) {
	if s.run == nil {
		return
	}
	keep := map[string]bool{}
	for _, g := range next.Groups {
		for _, t := range g.Targets {
			keep[g.Name+"\x00"+t] = true
		}
	}
	for group, lvs := range s.run.targets {
		for i := 0; i+len(labels) <= len(lvs); i += len(labels) {
			lv := lvs[i : i+len(labels)]
			if keep[group+"\x00"+lv[1]] {
				continue
			}
			match := prometheus.Labels{"ip": lv[0], "host": lv[1], "source": lv[2], "group": lv[3]}
			for _, v := range []*prometheus.CounterVec{s.m.requests, s.m.dups, s.m.sendErrors, s.m.corrupted, s.m.icmpErrors} {
				v.DeletePartialMatch(match)
			}
			s.m.duration.DeletePartialMatch(match)
			s.m.ttl.DeletePartialMatch(match)
		}
	}
}

// Close stops probing and closes every socket.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stop()
	s.run = nil
}

func (s *Server) logf(format string, a ...any) {
	if s.Log != nil {
		fmt.Fprintf(s.Log, format+"\n", a...)
	}
}

// handles are one target's series, looked up once.
type handles struct {
	requests, dups, sendErrors, corrupted prometheus.Counter
	duration                              prometheus.Observer
	ttl                                   prometheus.Gauge // from the first reply on: no TTL before
	ttlVec                                *prometheus.GaugeVec
	icmpErrors                            *prometheus.CounterVec
	lv                                    []string
}

func (s *Server) handlesFor(lv []string) handles {
	return handles{
		requests: s.m.requests.WithLabelValues(lv...), dups: s.m.dups.WithLabelValues(lv...),
		sendErrors: s.m.sendErrors.WithLabelValues(lv...), corrupted: s.m.corrupted.WithLabelValues(lv...),
		duration: s.m.duration.WithLabelValues(lv...), ttlVec: s.m.ttl,
		icmpErrors: s.m.icmpErrors, lv: lv,
	}
}

// record turns one engine event into metrics; it runs under the engine's
// lock, so it only touches the series.
func (h *handles) record(ev *ping.Event) {
	switch ev.Kind {
	case ping.EventSent:
		h.requests.Inc()
	case ping.EventReply, ping.EventDuplicate:
		h.duration.Observe(ev.RTT.Seconds())
		if ev.HasTTL {
			if h.ttl == nil {
				h.ttl = h.ttlVec.WithLabelValues(h.lv...)
			}
			h.ttl.Set(float64(ev.TTL))
		}
		if ev.Kind == ping.EventDuplicate {
			h.dups.Inc()
		}
	case ping.EventICMPError:
		h.icmpErrors.WithLabelValues(append(slices.Clone(h.lv), ev.Error.Kind.String())...).Inc()
	case ping.EventSendError:
		h.sendErrors.Inc()
	case ping.EventCorrupted:
		h.corrupted.Inc()
	}
}

// dropsCollector reads each socket's ring drops at scrape time.
type dropsCollector struct{ s *Server }

var dropsDesc = prometheus.NewDesc("pingcraft_ring_drops_total",
	"Frames the receive ring had no room for: replies lost here, not on the network.", []string{"group", "source", "interface"}, nil)

func (d dropsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- dropsDesc }

func (d dropsCollector) Collect(ch chan<- prometheus.Metric) {
	if !d.s.mu.TryLock() {
		return // a reload holds it: this scrape goes without
	}
	defer d.s.mu.Unlock()
	if d.s.run == nil {
		return
	}
	sum := map[[3]string]uint64{}
	for group, f := range d.s.run.fleets {
		for _, c := range f.Conns() {
			if n, err := c.Conn.Drops(); err == nil {
				sum[[3]string{group, c.Source.String(), c.Interface}] += n
			}
		}
	}
	for k, n := range sum {
		ch <- prometheus.MustNewConstMetric(dropsDesc, prometheus.CounterValue, float64(n), k[0], k[1], k[2])
	}
}

// Handler serves /metrics, /healthz and POST /-/reload, which calls reload
// and answers 200, or 400 with the reason the old configuration stays.
func (s *Server) Handler(reload func() error) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("POST /-/reload", func(w http.ResponseWriter, _ *http.Request) {
		if err := reload(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		io.WriteString(w, "reloaded\n")
	})
	return mux
}

// Targets returns how many targets are being probed.
func (s *Server) Targets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.run == nil {
		return 0
	}
	n := 0
	for _, lvs := range s.run.targets {
		n += len(lvs) / len(labels)
	}
	return n
}
