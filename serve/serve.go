package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/pingcraft/pingcraft/ping"
	"github.com/pingcraft/pingcraft/resolve"
)

// Server probes a Config's groups and serves their metrics. Apply starts
// a configuration; a later Apply replaces it only if it can start, and
// keeps running what it did not change.
type Server struct {
	// Log gets one line per reload and per problem; nil discards them.
	Log *slog.Logger
	// RetryMin and RetryMax bound the wait before a target that is not
	// probed is tried again, doubling from one to the other; zero means
	// DefaultRetryMin and DefaultRetryMax.
	RetryMin, RetryMax time.Duration
	// Lookup resolves names; nil means the system's resolver.
	Lookup resolve.Lookup
	// TTL says how long a name's address records may be kept, for
	// refresh: ttl; nil asks the DNS servers of /etc/resolv.conf.
	TTL func(ctx context.Context, name string) (time.Duration, bool)

	reg     *prometheus.Registry
	targets targets
	modules atomic.Pointer[map[string]Module] // /probe's, swapped by Apply
	// The outcome of the last configuration load, as Prometheus' own
	// prometheus_config_last_reload_* say theirs.
	reloadOK, reloadAt prometheus.Gauge
	gzips              sync.Pool // of *gzip.Writer, for /metrics

	mu     sync.Mutex // serialises Apply and Close
	bounds *bounds

	// liveMu guards live and publishing the targetSet from it: Apply and
	// the retries publish. It is taken before any set's mu.
	liveMu sync.Mutex
	live   map[string]*setRun // by setKey

	stale chan struct{} // a refresh found a set stale (see Stale)
}

// Stale delivers when a refresh found that names resolve to other
// addresses than those probed: applying the configuration again reopens
// their sets, and only theirs.
func (s *Server) Stale() <-chan struct{} { return s.stale }

// Defaults of Server.RetryMin and RetryMax.
const (
	DefaultRetryMin = 5 * time.Second
	DefaultRetryMax = 5 * time.Minute
)

// shardTargets is the most targets serve gives one engine: a set beyond
// it is probed by several fleets, each with its own ICMP id and sockets,
// which the kernel's ring filter keeps apart. It is no limit of the
// engine's (one Fleet takes any number of targets: replies are matched by
// address, id, seq and authenticator, none of it per id). Shards keep
// each engine's lock, scheduler and receive ring to that many targets, so
// that a big group is probed from goroutines on every core, and an edit
// to one part of a big file restarts the shards whose names changed.
const shardTargets = 1 << 16

// setRun is one running target set: a group's targets from one place (its
// own list, or one entry of one file) and at most shardTargets of them.
// It lives as long as the configuration keeps it unchanged: a reload
// that changes one file resolves and restarts only that file's sets.
type setRun struct {
	key    string
	group  string
	cancel context.CancelFunc
	done   sync.WaitGroup

	mu      sync.Mutex // guards shards and pending: the retry adds to them
	shards  []*shard
	pending *pending
	// stale: a refresh found a name's addresses changed; the next Apply
	// opens the set again.
	stale atomic.Bool
}

// shard is one fleet of a set and the engine over it.
type shard struct {
	group   string
	labels  []labelPair
	fleet   *ping.Fleet  // it owns the shard's sockets
	engine  *ping.Engine // nil for a burst schedule
	onEvent func(*ping.Event)
	// probes are the engine's targets, of the fleet's; hosts their names
	// as configured, and targets their counts, indexed alike.
	probes  []ping.Target
	hosts   []string
	targets []*target
	// hostOf maps an address probed for a name (addresses: all) to the
	// name; nil when each member is its own host.
	hostOf map[string]string
	// resolved is what each name resolved to, for a refresh to compare.
	resolved map[string]string
	// A burst schedule's run, every interval.
	burst    Burst
	burstRun *ping.Config
	interval time.Duration
}

// New returns a Server with its metrics registered: pingcraft's, its
// build's (pingcraft_build_info, from prometheus/common/version), Go's and
// the process's. The targets' series are not in the registry: /metrics
// writes them itself (see WriteMetrics).
func New() *Server {
	s := &Server{reg: prometheus.NewRegistry(), stale: make(chan struct{}, 1)}
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

// pending is a set's targets that are not probed yet.
type pending struct {
	names []string
	state []*unprobed
}

// setSpec is one target set of a configuration, before it runs.
type setSpec struct {
	key    string
	g      Group
	names  []string
	labels []labelPair // the group's and the file's
}

// specs cuts cfg's groups into target sets.
func specs(cfg *Config) []setSpec {
	var out []setSpec
	for _, g := range cfg.Groups {
		for _, ts := range g.sets() {
			labels := mergeLabels(g.Labels, ts.Labels)
			for start := 0; start < len(ts.Targets); start += shardTargets {
				names := ts.Targets[start:min(start+shardTargets, len(ts.Targets))]
				// Everything that makes the set's probes and series: two
				// configurations that agree on it run it alike.
				key := fmt.Sprintf("%q %v %v %v %d %d %v %q %v %q %d\x00%s", g.Name, g.Interval, g.Timeout, g.Mode, g.Size, g.TOS,
					g.Source, g.Interface, g.Burst, labels, start, strings.Join(names, "\n"))
				out = append(out, setSpec{key: key, g: g, names: names, labels: labels})
			}
		}
	}
	return out
}

// Apply resolves and opens what cfg needs and the running configuration
// does not have, then stops what cfg no longer has and starts the rest.
// If anything fails, nothing changes and the error says what. A target
// that does not resolve is logged, counted (pingcraft_target_probed 0,
// pingcraft_target_resolve_errors_total) and tried again in the
// background; it does not refuse the configuration. Kept targets count
// on; a change of buckets starts their histograms over.
func (s *Server) Apply(ctx context.Context, cfg *Config) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	want := specs(cfg)
	s.liveMu.Lock()
	live := s.live
	s.liveMu.Unlock()

	type opened struct {
		spec    setSpec
		shard   *shard
		pending *pending
	}
	var fresh []opened
	fail := func(err error) error {
		for _, o := range fresh {
			if o.shard != nil {
				o.shard.fleet.Close()
			}
		}
		return err
	}
	var resolver *resolve.Resolver
	defer func() {
		if resolver != nil {
			resolver.Close()
		}
	}()
	for _, sp := range want {
		if sr := live[sp.key]; sr != nil && !sr.stale.Load() {
			continue // running as it is
		}
		if resolver == nil {
			var err error
			if resolver, err = s.resolver(); err != nil {
				return err
			}
		}
		sh, failed, err := openShard(ctx, s.log(), resolver, sp.g, sp.names, sp.labels)
		if err != nil {
			return fail(fmt.Errorf("group %q: %w", sp.g.Name, err))
		}
		o := opened{spec: sp, shard: sh}
		for _, m := range failed {
			s.log().Warn("target is not probed", "group", sp.g.Name, "target", m.Name, "err", m.Err)
			if o.pending == nil {
				o.pending = &pending{}
			}
			u := &unprobed{probed: probedLabels(sp.g.Name, m.Name)}
			u.fails.Store(1)
			o.pending.names, o.pending.state = append(o.pending.names, m.Name), append(o.pending.state, u)
		}
		fresh = append(fresh, o)
	}

	// From here on nothing fails. Sets cfg no longer has stop; their
	// targets' counts go to new sets with the same labels (a target moved
	// from one file to another, or buckets changed).
	keep := map[string]bool{}
	for _, o := range fresh {
		keep[o.spec.key] = false
	}
	for _, sp := range want {
		if _, reopened := keep[sp.key]; !reopened {
			keep[sp.key] = true
		}
	}
	old := map[string]*target{}
	oldFails := map[string]*unprobed{}
	for key, sr := range live {
		if keep[key] {
			continue
		}
		sr.stop()
		for _, sh := range sr.shards {
			for _, t := range sh.targets {
				old[t.labels] = t
			}
		}
		if sr.pending != nil {
			for _, u := range sr.pending.state {
				oldFails[u.probed] = u
			}
		}
	}
	// The retries of kept sets read bounds and publish: liveMu from here.
	s.liveMu.Lock()
	defer s.liveMu.Unlock()
	if s.bounds == nil || !slices.Equal(s.bounds.v, cfg.Buckets) {
		s.bounds = newBounds(cfg.Buckets)
	}
	next := map[string]*setRun{}
	for key, sr := range live {
		if keep[key] {
			sr.mu.Lock()
			for _, sh := range sr.shards {
				for _, t := range sh.targets {
					t.rebucket(s.bounds)
				}
			}
			sr.mu.Unlock()
			next[key] = sr
		}
	}
	for _, o := range fresh {
		ctx, cancel := context.WithCancel(context.Background())
		sr := &setRun{key: o.spec.key, group: o.spec.g.Name, cancel: cancel, pending: o.pending}
		if o.shard != nil {
			adopt(o.shard, old, s.bounds)
			sr.shards = []*shard{o.shard}
			sr.start(ctx, o.shard, s.log())
		}
		if o.spec.g.Refresh > 0 || o.spec.g.RefreshTTL {
			sr.done.Go(func() { s.refresh(ctx, sr, o.spec) })
		}
		if o.pending != nil {
			for i, u := range o.pending.state {
				if f := oldFails[u.probed]; f != nil {
					f.fails.Add(1)
					o.pending.state[i] = f
				}
			}
			sr.done.Go(func() { s.retry(ctx, sr, o.spec) })
		}
		next[o.spec.key] = sr
	}
	s.live = next
	// Every target's series exist from here on, at zero until it counts.
	s.publish()
	modules := cfg.Modules
	if modules == nil {
		modules = map[string]Module{"icmp": DefaultModule}
	}
	s.modules.Store(&modules)
	return nil
}

// publish makes the live sets' targets what a scrape reads, in the order
// of their sets' keys, so that scrapes list them alike. s.liveMu is held.
func (s *Server) publish() {
	set := &targetSet{}
	for _, key := range slices.Sorted(maps.Keys(s.live)) {
		sr := s.live[key]
		sr.mu.Lock()
		for _, sh := range sr.shards {
			set.probed = append(set.probed, sh.targets...)
		}
		if sr.pending != nil {
			set.unprobed = append(set.unprobed, sr.pending.state...)
		}
		sr.mu.Unlock()
	}
	s.targets.p.Store(set)
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
func openShard(ctx context.Context, log *slog.Logger, resolver *resolve.Resolver, g Group, names []string, labels []labelPair) (*shard, []ping.Member, error) {
	sh := &shard{group: g.Name, labels: labels, burst: g.Burst, interval: g.Interval, resolved: map[string]string{}}
	var failed []ping.Member
	fleetNames := names
	if g.AllAddresses {
		// Every address of each name, the first name of an address
		// winning: an engine probes an address once.
		fleetNames, sh.hostOf = nil, map[string]string{}
		for _, n := range names {
			addrs, err := lookupAll(ctx, resolver, n)
			if err != nil {
				failed = append(failed, ping.Member{Name: n, Err: err})
				continue
			}
			sh.resolved[n] = addrKey(addrs)
			for _, a := range addrs {
				if lit := a.String(); sh.hostOf[lit] == "" {
					sh.hostOf[lit] = n
					fleetNames = append(fleetNames, lit)
				}
			}
		}
		if len(fleetNames) == 0 {
			return nil, failed, ctx.Err()
		}
	}
	run := &ping.Config{Interval: g.Interval, Timeout: g.Timeout, Size: g.Size, TOS: g.TOS,
		// Spread over the interval, so that the group never bursts.
		Gap: g.Interval / time.Duration(len(fleetNames))}
	fl, err := ping.NewFleet(ctx, fleetNames, run, &ping.FleetConfig{Mode: g.Mode, Resolver: resolver,
		Path: resolve.Options{Interface: g.Interface, Source: g.Source}})
	if err != nil {
		return nil, nil, err
	}
	for _, m := range fl.Members() {
		switch {
		case m.Err != nil && sh.hostOf != nil:
			// One address of a name without a route: the name's other
			// addresses are probed, and a reload tries it again. It is not
			// retried alone: its name's series would be there twice.
			log.Warn("address is not probed", "group", g.Name, "target", sh.hostOf[m.Name], "ip", m.Name, "err", m.Err)
		case m.Err != nil:
			failed = append(failed, m)
		case sh.hostOf == nil && m.Path.Target.String() != m.Name:
			sh.resolved[m.Name] = m.Path.Target.String()
		}
	}
	// An engine probes an address once: of two names that resolve to the
	// same address (a name and its address, in two files), the first is
	// probed and the other logged, not a refused configuration.
	byAddr := map[netip.Addr]string{}
	for i, pt := range fl.Targets() {
		host := fl.MemberOf(i).Name
		if sh.hostOf != nil {
			host = sh.hostOf[host]
		}
		if first, dup := byAddr[pt.Path.Target]; dup {
			log.Warn("target is not probed: its address is another's", "group", g.Name, "target", host, "ip", pt.Path.Target, "probed as", first)
			continue
		}
		byAddr[pt.Path.Target] = host
		sh.probes, sh.hosts = append(sh.probes, pt), append(sh.hosts, host)
	}
	if len(sh.probes) == 0 {
		fl.Close()
		return nil, failed, nil
	}
	sh.fleet = fl
	sh.onEvent = func(ev *ping.Event) { sh.targets[ev.Target].record(ev) }
	if g.Burst.Count > 1 {
		// One engine a burst, each with a key of its own, so that a
		// late reply to the last burst is not taken for one of this.
		sh.burstRun = &ping.Config{Count: g.Burst.Count, Interval: g.Burst.Gap, Timeout: g.Timeout, Size: g.Size, TOS: g.TOS,
			Gap: g.Burst.Gap / time.Duration(len(sh.probes))}
		_, err = ping.New(sh.burstRun, sh.probes, nil) // refused now, not at the first burst
	} else {
		sh.engine, err = ping.New(run, sh.probes, sh.onEvent)
	}
	if err != nil {
		fl.Close()
		return nil, nil, err
	}
	return sh, failed, nil
}

// adopt makes sh's targets, taking over the counts of old ones with the
// same labels.
func adopt(sh *shard, old map[string]*target, b *bounds) {
	for i, pt := range sh.probes {
		host := sh.hosts[i]
		probed := probedLabels(sh.group, host)
		if sh.hostOf != nil {
			// A name's addresses are each a target: told apart by ip.
			probed = probedLabels(sh.group, host, pt.Path.Target.String())
		}
		t := newTarget(targetLabels(pt.Path.Target.String(), host, pt.Path.Source.String(), sh.group, sh.labels), probed, b)
		if o, ok := old[t.labels]; ok {
			o.rebucket(b)
			t = o
		}
		sh.targets = append(sh.targets, t)
	}
}

// lookupAll is every address name resolves to, or name itself when it is
// an address.
func lookupAll(ctx context.Context, r *resolve.Resolver, name string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(name); err == nil {
		return []netip.Addr{a}, nil
	}
	lookup := r.Lookup
	if lookup == nil {
		lookup = net.DefaultResolver.LookupNetIP
	}
	lctx, cancel := context.WithTimeout(ctx, resolve.LookupTimeout)
	defer cancel()
	addrs, err := lookup(lctx, "ip", name)
	if err == nil && len(addrs) == 0 {
		err = errors.New("no address")
	}
	if err != nil {
		return nil, fmt.Errorf("resolve: name %s: %w", name, errors.Join(resolve.ErrNoName, err))
	}
	for i := range addrs {
		addrs[i] = addrs[i].Unmap()
	}
	return addrs, nil
}

// addrKey is a name's addresses, in a form a refresh compares.
func addrKey(addrs []netip.Addr) string {
	ss := make([]string, len(addrs))
	for i, a := range addrs {
		ss[i] = a.String()
	}
	slices.Sort(ss)
	return strings.Join(ss, ",")
}

// Bounds of refresh: ttl. A TTL of 0 (do not cache) would be a lookup
// per probe; an hour is as long as a set waits to see a move.
const (
	MinTTLRefresh = time.Second
	MaxTTLRefresh = time.Hour
	NoTTLRefresh  = time.Minute
)

// refresh looks sr's names up every Refresh (or each when its TTL runs
// out) and, when one resolves to other addresses than those probed, marks
// sr stale and says so on s.Stale: the next Apply reopens it.
func (s *Server) refresh(ctx context.Context, sr *setRun, sp setSpec) {
	resolver := &resolve.Resolver{Lookup: s.Lookup}
	ttl := s.TTL
	if ttl == nil {
		ttl = dnsTTL
	}
	wait := func(name string) time.Duration {
		if !sp.g.RefreshTTL {
			return sp.g.Refresh
		}
		if _, err := netip.ParseAddr(name); err == nil {
			return MaxTTLRefresh // an address never moves
		}
		d, ok := ttl(ctx, name)
		if !ok {
			return NoTTLRefresh
		}
		return min(max(d, MinTTLRefresh), MaxTTLRefresh)
	}
	sr.mu.Lock()
	was := map[string]string{}
	for _, sh := range sr.shards {
		maps.Copy(was, sh.resolved)
	}
	sr.mu.Unlock()
	due := make(map[string]time.Time, len(was))
	for name := range was {
		due[name] = time.Now().Add(wait(name))
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for len(due) > 0 {
		var first time.Time
		for _, at := range due {
			if first.IsZero() || at.Before(first) {
				first = at
			}
		}
		timer.Reset(time.Until(first))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		now := time.Now()
		for name, at := range due {
			if at.After(now) {
				continue
			}
			due[name] = now.Add(wait(name))
			addrs, err := lookupAll(ctx, resolver, name)
			if err != nil {
				continue // a failing resolver changes nothing probed
			}
			got := addrs[0].String()
			if sp.g.AllAddresses {
				got = addrKey(addrs)
			}
			if got != was[name] {
				s.log().Info("name resolves to other addresses", "group", sp.g.Name, "target", name, "was", was[name], "now", got)
				sr.stale.Store(true)
				select {
				case s.stale <- struct{}{}:
				default:
				}
				return
			}
		}
	}
}

// dnsTTL is how long name's address records may be kept: the least TTL of
// the A and AAAA answers of the first server of /etc/resolv.conf that
// answers, through its search list as the system's resolver goes.
func dnsTTL(ctx context.Context, name string) (time.Duration, bool) {
	conf, err := dns.ClientConfigFromFile("/etc/resolv.conf")
	if err != nil || len(conf.Servers) == 0 {
		return 0, false
	}
	c := &dns.Client{Timeout: 2 * time.Second}
	for _, qname := range conf.NameList(name) {
		least, found := uint32(0), false
		for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
			m := new(dns.Msg)
			m.SetQuestion(qname, qtype)
			for _, server := range conf.Servers {
				r, _, err := c.ExchangeContext(ctx, m, net.JoinHostPort(server, conf.Port))
				if err != nil {
					continue
				}
				for _, rr := range r.Answer {
					if t := rr.Header().Rrtype; t == qtype || t == dns.TypeCNAME {
						if !found || rr.Header().Ttl < least {
							least = rr.Header().Ttl
						}
						found = true
					}
				}
				break
			}
		}
		if found {
			return time.Duration(least) * time.Second, true
		}
	}
	return 0, false
}

// start runs sh's engine until ctx ends.
func (sr *setRun) start(ctx context.Context, sh *shard, log *slog.Logger) {
	if sh.engine != nil {
		sr.done.Go(func() {
			if err := sh.engine.Run(ctx); err != nil && ctx.Err() == nil {
				log.Error("group stopped", "group", sh.group, "err", err)
			}
		})
		return
	}
	sr.done.Go(func() {
		tick := time.NewTicker(sh.interval)
		defer tick.Stop()
		for {
			e, err := ping.New(sh.burstRun, sh.probes, sh.onEvent)
			if err == nil {
				err = e.Run(ctx)
			}
			if err != nil && ctx.Err() == nil {
				log.Error("burst failed", "group", sh.group, "err", err)
			}
			// A burst longer than the interval delays the next, as a
			// ticker drops the ticks it missed.
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
}

// stop ends sr's engines and retries and closes its sockets.
func (sr *setRun) stop() {
	sr.mu.Lock()
	sr.cancel()
	sr.mu.Unlock()
	sr.done.Wait()
	for _, sh := range sr.shards {
		sh.fleet.Close()
	}
}

// retry tries sr's pending targets again, waiting RetryMin and then twice
// as long each time up to RetryMax, until each is probed or ctx ends.
// Those that resolve become a shard of their own, whose series join the
// set.
func (s *Server) retry(ctx context.Context, sr *setRun, sp setSpec) {
	wait, most := s.RetryMin, s.RetryMax
	if wait <= 0 {
		wait = DefaultRetryMin
	}
	if most <= 0 {
		most = DefaultRetryMax
	}
	for {
		sr.mu.Lock()
		p := sr.pending
		sr.mu.Unlock()
		if p == nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, most)
		// A batch resolver of its own: links may have come since Apply.
		resolver, err := s.resolver()
		if err != nil {
			s.log().Warn("retry", "group", sp.g.Name, "err", err)
			continue
		}
		sh, failed, err := openShard(ctx, s.log(), resolver, sp.g, p.names, sp.labels)
		resolver.Close()
		if err != nil {
			if ctx.Err() == nil {
				s.log().Warn("retry", "group", sp.g.Name, "err", err)
			}
			for _, u := range p.state {
				u.fails.Add(1)
			}
			continue
		}
		if sh == nil {
			for _, u := range p.state {
				u.fails.Add(1)
			}
			continue
		}
		still := map[string]bool{}
		for _, m := range failed {
			still[m.Name] = true
		}
		var left *pending
		for i, n := range p.names {
			if still[n] {
				if left == nil {
					left = &pending{}
				}
				p.state[i].fails.Add(1)
				left.names, left.state = append(left.names, n), append(left.state, p.state[i])
			}
		}
		// Not s.mu: Apply holds it while it waits for this goroutine.
		s.liveMu.Lock()
		sr.mu.Lock()
		if ctx.Err() != nil { // Apply or Close is stopping sr
			sr.mu.Unlock()
			s.liveMu.Unlock()
			sh.fleet.Close()
			return
		}
		adopt(sh, nil, s.bounds)
		sr.shards = append(sr.shards, sh)
		sr.pending = left
		sr.start(ctx, sh, s.log())
		sr.mu.Unlock()
		if s.live[sr.key] == sr {
			s.publish()
		}
		s.liveMu.Unlock()
		s.log().Info("targets probed after a retry", "group", sp.g.Name, "targets", len(sh.targets))
	}
}

// Close stops probing and closes every socket.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.liveMu.Lock()
	live := s.live
	s.live = nil
	s.liveMu.Unlock()
	for _, sr := range live {
		sr.stop()
	}
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
	sum := map[[3]string]uint64{}
	d.s.liveMu.Lock()
	for _, sr := range d.s.live {
		sr.mu.Lock()
		for _, sh := range sr.shards {
			for _, c := range sh.fleet.Conns() {
				if n, err := c.Conn.Drops(); err == nil {
					sum[[3]string{sh.group, c.Source.String(), c.Interface}] += n
				}
			}
		}
		sr.mu.Unlock()
	}
	d.s.liveMu.Unlock()
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
