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
	// RetryMin and RetryMax bound the wait before a target that is not
	// probed is tried again, doubling from one to the other; zero means
	// DefaultRetryMin and DefaultRetryMax.
	RetryMin, RetryMax time.Duration
	// Lookup resolves names; nil means the system's resolver.
	Lookup resolve.Lookup

	reg     *prometheus.Registry
	targets targets
	modules atomic.Pointer[map[string]Module] // /probe's, swapped by Apply
	// The outcome of the last configuration load, as Prometheus' own
	// prometheus_config_last_reload_* say theirs.
	reloadOK, reloadAt prometheus.Gauge
	gzips              sync.Pool // of *gzip.Writer, for /metrics

	mu     sync.Mutex // serialises Apply, Close and the drops collector
	bounds *bounds
	run    *running
}

// Defaults of Server.RetryMin and RetryMax.
const (
	DefaultRetryMin = 5 * time.Second
	DefaultRetryMax = 5 * time.Minute
)

// shardTargets is the most targets one engine runs: a group beyond it is
// probed by several fleets, each with its own ICMP id and sockets, which
// the kernel's ring filter keeps apart.
const shardTargets = 1 << 16

// running is one applied configuration: its engines and sockets.
type running struct {
	cfg    *Config
	bounds *bounds // the histograms', for the targets the retries add
	cancel context.CancelFunc
	done   sync.WaitGroup

	mu     sync.Mutex // guards shards: the retries add to them
	shards []*shard
}

// shard is one fleet of a group and the engine over it.
type shard struct {
	group   string
	fleet   *ping.Fleet // it owns the shard's sockets
	engine  *ping.Engine
	targets []*target // indexed as the engine's targets
}

// New returns a Server with its metrics registered: pingcraft's, its
// build's (pingcraft_build_info, from prometheus/common/version), Go's and
// the process's. The targets' series are not in the registry: /metrics
// writes them itself (see WriteMetrics).
func New() *Server {
	s := &Server{reg: prometheus.NewRegistry()}
	s.reloadOK = prometheus.NewGauge(prometheus.GaugeOpts{Name: "pingcraft_config_last_reload_successful",
		Help: "Whether the last configuration load (start, SIGHUP or POST /-/reload) succeeded: 1 or 0."})
	s.reloadAt = prometheus.NewGauge(prometheus.GaugeOpts{Name: "pingcraft_config_last_reload_success_timestamp_seconds",
		Help: "When the running configuration was loaded, in seconds since the epoch."})
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		versioncollector.NewCollector("pingcraft"), s.reloadOK, s.reloadAt, dropsCollector{s})
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

// pending is a group's configured targets that are not probed yet.
type pending struct {
	g     Group
	names []string
	state []*unprobed
}

// Apply resolves and opens everything cfg needs, then stops what was
// running and starts cfg. If anything fails, nothing changes and the
// error says what. A target that does not resolve is logged, counted
// (pingcraft_target_probed 0, pingcraft_target_resolve_errors_total) and
// tried again in the background; it does not refuse the configuration.
// Kept targets count on; a change of buckets starts their histograms over.
func (s *Server) Apply(ctx context.Context, cfg *Config) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var shards []*shard
	fail := func(err error) error {
		for _, sh := range shards {
			sh.fleet.Close()
		}
		return err
	}
	resolver, err := s.resolver()
	if err != nil {
		return err
	}
	defer resolver.Close()
	var waiting []*pending
	for _, g := range cfg.Groups {
		var pend *pending
		for start := 0; start < len(g.Targets); start += shardTargets {
			names := g.Targets[start:min(start+shardTargets, len(g.Targets))]
			sh, failed, err := openShard(ctx, resolver, g, names)
			if err != nil {
				return fail(fmt.Errorf("group %q: %w", g.Name, err))
			}
			if sh != nil {
				shards = append(shards, sh)
			}
			for _, m := range failed {
				s.log().Warn("target is not probed", "group", g.Name, "target", m.Name, "err", m.Err)
				if pend == nil {
					pend = &pending{g: g}
					waiting = append(waiting, pend)
				}
				u := &unprobed{probed: probedLabels(g.Name, m.Name)}
				u.fails.Store(1)
				pend.names, pend.state = append(pend.names, m.Name), append(pend.state, u)
			}
		}
	}

	s.stop()
	// Kept targets (same labels: group, name, address and source) keep
	// their counts; the others' series go with the old set.
	old := map[string]*target{}
	oldFails := map[string]*unprobed{}
	for _, t := range s.targets.load().probed {
		old[t.labels] = t
	}
	for _, u := range s.targets.load().unprobed {
		oldFails[u.probed] = u
	}
	if s.bounds == nil || !slices.Equal(s.bounds.v, cfg.Buckets) {
		s.bounds = newBounds(cfg.Buckets)
	}
	set := &targetSet{}
	rctx, cancel := context.WithCancel(context.Background())
	r := &running{cfg: cfg, bounds: s.bounds, cancel: cancel}
	for _, p := range waiting {
		for i, u := range p.state {
			if o := oldFails[u.probed]; o != nil {
				o.fails.Add(1)
				p.state[i] = o
			}
		}
		set.unprobed = append(set.unprobed, p.state...)
	}
	for _, sh := range shards {
		adopt(sh, old, s.bounds)
		set.probed = append(set.probed, sh.targets...)
		r.start(rctx, sh, s.log())
	}
	r.shards = shards
	// Every target's series exist from here on, at zero until it counts.
	s.targets.p.Store(set)
	modules := cfg.Modules
	if modules == nil {
		modules = map[string]Module{"icmp": DefaultModule}
	}
	s.modules.Store(&modules)
	s.run = r
	for _, p := range waiting {
		r.done.Go(func() { s.retry(rctx, r, p) })
	}
	return nil
}

// resolver is a batch resolver for one Apply or one retry: links and
// addresses may change between them.
func (s *Server) resolver() (*resolve.Resolver, error) {
	r, err := resolve.NewBatch()
	if err == nil && s.Lookup != nil {
		r.Lookup = s.Lookup
	}
	return r, err
}

// openShard opens a fleet over names of g and its engine. It returns the
// members that could not be resolved; sh is nil when none could.
func openShard(ctx context.Context, resolver *resolve.Resolver, g Group, names []string) (*shard, []ping.Member, error) {
	run := &ping.Config{Interval: g.Interval, Timeout: g.Timeout, Size: g.Size, TOS: g.TOS,
		// Spread over the interval, so that the group never bursts.
		Gap: g.Interval / time.Duration(len(names))}
	fl, err := ping.NewFleet(ctx, names, run, &ping.FleetConfig{Mode: g.Mode, Resolver: resolver,
		Path: resolve.Options{Interface: g.Interface, Source: g.Source}})
	if err != nil {
		return nil, nil, err
	}
	var failed []ping.Member
	for _, m := range fl.Members() {
		if m.Err != nil {
			failed = append(failed, m)
		}
	}
	if len(fl.Targets()) == 0 {
		fl.Close()
		return nil, failed, nil
	}
	sh := &shard{group: g.Name, fleet: fl}
	if sh.engine, err = fl.Engine(func(ev *ping.Event) { sh.targets[ev.Target].record(ev) }); err != nil {
		fl.Close()
		return nil, nil, err
	}
	return sh, failed, nil
}

// adopt makes sh's targets, taking over the counts of old ones with the
// same labels.
func adopt(sh *shard, old map[string]*target, b *bounds) {
	for i, pt := range sh.fleet.Targets() {
		host := sh.fleet.MemberOf(i).Name
		t := newTarget(targetLabels(pt.Path.Target.String(), host, pt.Path.Source.String(), sh.group, nil),
			probedLabels(sh.group, host), b)
		if o, ok := old[t.labels]; ok {
			o.rebucket(b)
			t = o
		}
		sh.targets = append(sh.targets, t)
	}
}

// start runs sh's engine until ctx ends.
func (r *running) start(ctx context.Context, sh *shard, log *slog.Logger) {
	r.done.Go(func() {
		if err := sh.engine.Run(ctx); err != nil && ctx.Err() == nil {
			log.Error("group stopped", "group", sh.group, "err", err)
		}
	})
}

// retry tries p's targets again, waiting RetryMin and then twice as long
// each time up to RetryMax, until each is probed or ctx ends. Those that
// resolve become a shard of their own, whose series join the set.
func (s *Server) retry(ctx context.Context, r *running, p *pending) {
	wait, most := s.RetryMin, s.RetryMax
	if wait <= 0 {
		wait = DefaultRetryMin
	}
	if most <= 0 {
		most = DefaultRetryMax
	}
	for len(p.names) > 0 {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, most)
		// A batch resolver of its own: links may have come since Apply.
		resolver, err := s.resolver()
		if err != nil {
			s.log().Warn("retry", "group", p.g.Name, "err", err)
			continue
		}
		sh, failed, err := openShard(ctx, resolver, p.g, p.names)
		resolver.Close()
		if err != nil {
			if ctx.Err() == nil {
				s.log().Warn("retry", "group", p.g.Name, "err", err)
			}
			for _, u := range p.state {
				u.fails.Add(1)
			}
			continue
		}
		still := map[string]bool{}
		for _, m := range failed {
			still[m.Name] = true
		}
		var names []string
		var state []*unprobed
		for i, n := range p.names {
			if still[n] {
				p.state[i].fails.Add(1)
				names, state = append(names, n), append(state, p.state[i])
			}
		}
		if sh == nil {
			continue
		}
		// Not s.mu: Apply holds it while it waits for this goroutine.
		r.mu.Lock()
		if ctx.Err() != nil { // Apply or Close is stopping r
			r.mu.Unlock()
			sh.fleet.Close()
			return
		}
		adopt(sh, nil, r.bounds)
		r.shards = append(r.shards, sh)
		r.start(ctx, sh, s.log())
		cur := s.targets.load()
		next := &targetSet{probed: append(slices.Clip(cur.probed), sh.targets...)}
		for _, u := range cur.unprobed {
			if !slices.Contains(p.state, u) || slices.Contains(state, u) {
				next.unprobed = append(next.unprobed, u)
			}
		}
		s.targets.p.Store(next)
		r.mu.Unlock()
		s.log().Info("targets probed after a retry", "group", p.g.Name, "targets", len(sh.targets), "still", len(names))
		p.names, p.state = names, state
	}
}

// stop ends the running configuration and closes its sockets. s.mu is held.
func (s *Server) stop() {
	if s.run == nil {
		return
	}
	s.run.mu.Lock()
	s.run.cancel()
	s.run.mu.Unlock()
	s.run.done.Wait()
	for _, sh := range s.run.shards {
		sh.fleet.Close()
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
	d.s.run.mu.Lock()
	for _, sh := range d.s.run.shards {
		for _, c := range sh.fleet.Conns() {
			if n, err := c.Conn.Drops(); err == nil {
				sum[[3]string{sh.group, c.Source.String(), c.Interface}] += n
			}
		}
	}
	d.s.run.mu.Unlock()
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
	mux.HandleFunc("GET /metrics", s.handleMetrics)
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
