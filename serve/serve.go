package serve

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/pingcraft/pingcraft/ping"
	"github.com/pingcraft/pingcraft/resolve"
)

// Server probes a Config's groups and serves their metrics. Apply starts
// a configuration; a later Apply replaces it only if it can start.
type Server struct {
	// Log gets one line per reload and per problem; nil discards them.
	Log *slog.Logger

	reg     *prometheus.Registry
	targets targets
	modules atomic.Pointer[map[string]Module] // /probe's, swapped by Apply
	// The outcome of the last configuration load, as Prometheus' own
	// prometheus_config_last_reload_* say theirs.
	reloadOK, reloadAt prometheus.Gauge

	mu      sync.Mutex // serialises Apply, Close and the drops collector
	buckets []float64
	run     *running
}

// running is one applied configuration: its engines and sockets.
type running struct {
	cfg    *Config
	cancel context.CancelFunc
	done   sync.WaitGroup
	fleets map[string]*ping.Fleet // by group: it owns the group's sockets
}

// New returns a Server with its metrics registered: pingcraft's, its
// build's (pingcraft_build_info, from prometheus/common/version), Go's and
// the process's.
func New() *Server {
	s := &Server{reg: prometheus.NewRegistry()}
	s.reloadOK = prometheus.NewGauge(prometheus.GaugeOpts{Name: "pingcraft_config_last_reload_successful",
		Help: "Whether the last configuration load (start, SIGHUP or POST /-/reload) succeeded: 1 or 0."})
	s.reloadAt = prometheus.NewGauge(prometheus.GaugeOpts{Name: "pingcraft_config_last_reload_success_timestamp_seconds",
		Help: "When the running configuration was loaded, in seconds since the epoch."})
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		versioncollector.NewCollector("pingcraft"), s.reloadOK, s.reloadAt, &s.targets, dropsCollector{s})
	return s
}

// Reloaded records the outcome of a configuration load at now.
func (s *Server) Reloaded(ok bool, now time.Time) {
	if !ok {
		s.reloadOK.Set(0)
		return
	}
	s.reloadOK.Set(1)
	s.reloadAt.Set(float64(now.UnixNano()) / 1e9)
}

// Apply resolves and opens everything cfg needs, then stops what was
// running and starts cfg. If anything fails, nothing changes and the
// error says what. A target that does not resolve, or whose next hop does
// not answer, is logged and left out; it does not refuse the configuration.
// Kept targets count on; a change of buckets starts their histograms over.
func (s *Server) Apply(ctx context.Context, cfg *Config) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	type prepared struct {
		g       Group
		fleet   *ping.Fleet
		engine  *ping.Engine
		targets []*target // filled before the engine runs
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
				s.log().Warn("target is not probed", "group", g.Name, "target", m.Name, "err", m.Err)
			}
		}
		if len(fl.Targets()) == 0 {
			continue
		}
		if p.engine, err = fl.Engine(func(ev *ping.Event) { p.targets[ev.Target].record(ev) }); err != nil {
			return fail(fmt.Errorf("group %q: %w", g.Name, err))
		}
	}

	s.stop()
	// Kept targets (same group, name, address and source) keep their
	// counts; the others' series go with the old set.
	old := map[string]*target{}
	for _, t := range s.targets.load().probed {
		old[t.key()] = t
	}
	set := &targetSet{}
	s.buckets = slices.Clone(cfg.Buckets)
	rctx, cancel := context.WithCancel(context.Background())
	r := &running{cfg: cfg, cancel: cancel, fleets: map[string]*ping.Fleet{}}
	for _, p := range groups {
		r.fleets[p.g.Name] = p.fleet
		for _, m := range p.fleet.Members() {
			if m.Err != nil {
				set.unprobed = append(set.unprobed, prometheus.MakeLabelPairs(probedDesc, []string{p.g.Name, m.Name}))
			}
		}
		if p.engine == nil {
			continue
		}
		for i, pt := range p.fleet.Targets() {
			t := newTarget([]string{pt.Path.Target.String(), p.fleet.MemberOf(i).Name, pt.Path.Source.String(), p.g.Name}, s.buckets)
			if o, ok := old[t.key()]; ok {
				o.rebucket(s.buckets)
				t = o
			}
			p.targets = append(p.targets, t)
		}
		set.probed = append(set.probed, p.targets...)
		r.done.Go(func() {
			if err := p.engine.Run(rctx); err != nil {
				s.log().Error("group stopped", "group", p.g.Name, "err", err)
			}
		})
	}
	// Every target's series exist from here on, at zero until it counts.
	s.targets.p.Store(set)
	modules := cfg.Modules
	if modules == nil {
		modules = map[string]Module{"icmp": DefaultModule}
	}
	s.modules.Store(&modules)
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

// Close stops probing and closes every socket.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stop()
	s.run = nil
}

func (s *Server) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
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

// Handler serves the landing page at /, /metrics, GET /probe (one burst
// to one target, see handleProbe), /healthz and POST /-/reload, which calls reload and answers 200, or 400 with the reason
// the old configuration stays.
func (s *Server) Handler(reload func() error) (http.Handler, error) {
	landing, err := web.NewLandingPage(web.LandingConfig{
		Name:        "pingcraft",
		Description: "ICMP loss and latency of groups of targets, for Prometheus",
		Version:     version.Info(),
		Profiling:   "false", // no /debug/pprof here
		Links: []web.LandingLinks{
			{Address: "metrics", Text: "Metrics"},
			{Address: "healthz", Text: "Health", Description: "ok while serving"},
		},
		// One burst to a target, as Prometheus' multi-target pattern asks.
		Form: web.LandingForm{Action: "probe", Inputs: []web.LandingFormInput{
			{Label: "Target", Type: "text", Name: "target", Placeholder: "198.18.1.2"},
			{Label: "Module", Type: "text", Name: "module", Value: "icmp"},
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("serve: landing page: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", landing)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /probe", s.handleProbe)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("POST /-/reload", func(w http.ResponseWriter, _ *http.Request) {
		if err := reload(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		io.WriteString(w, "reloaded\n")
	})
	return mux, nil
}

// Targets returns how many targets are being probed.
func (s *Server) Targets() int { return len(s.targets.load().probed) }
