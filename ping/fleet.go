package ping

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/resolve"
)

// FleetConfig says how a Fleet reaches its targets. A nil *FleetConfig
// means defaults.
type FleetConfig struct {
	// Mode is how every target's probes leave; 0 means ModeAuto, which
	// picks each target's own (AutoMode) and falls back as Open does, to
	// the ping socket when the caller lacks CAP_NET_RAW.
	Mode Mode
	// Path constrains every target's route (interface, source, family) and
	// bounds ARP and NDP (tries, timeout). NoSolicit is ignored: the Fleet
	// asks for a next hop's MAC only when a transport needs it.
	Path resolve.Options
	// ID is the ICMP id of the probes; 0 picks a random one.
	ID uint16
	// Resolver resolves names and routes; nil means a batch resolver on
	// the running system (resolve.NewBatch), released before NewFleet
	// returns.
	Resolver *resolve.Resolver
	// DryRun resolves the targets and their next hops' MACs and opens
	// nothing: the Members say where and how probes would go.
	DryRun bool

	// open opens a transport: Open, or a fake in tests.
	open func(*resolve.Path, Mode, *OpenConfig) (Conn, Mode, error)
}

// Member is one target of a Fleet, as it was given.
type Member struct {
	// Name is the target as given.
	Name string
	// Path is where its probes go; nil when Err is set.
	Path *resolve.Path
	// Mode is how its probes leave.
	Mode Mode
	// Err says why the target is not probed: its name, route or next hop
	// could not be resolved. It wraps resolve's sentinels (ErrNoName,
	// ErrNoRoute, ErrNoNeighbour, ...).
	Err error
}

// ConnInfo describes one of a Fleet's transports.
type ConnInfo struct {
	Conn      Conn
	Mode      Mode
	Interface string
	Source    netip.Addr
}

// Fleet is the one probing pipeline every command shares: it resolves
// targets, asks for the MACs of their next hops once each, falls back to
// the ping socket without privilege, opens one Conn per interface, source,
// family and mode with receive buffers sized for the run's bursts, and
// hands the targets to an Engine. A target that cannot be resolved is a
// Member with an error, not a failed Fleet. The Fleet owns its Conns:
// Close closes them.
type Fleet struct {
	run     *Config
	id      uint16
	members []Member
	targets []Target
	member  []int // the member of each target
	conns   []ConnInfo
}

// connKey is what targets sharing a Conn have in common.
type connKey struct {
	mode   Mode
	iface  string
	source netip.Addr
	six    bool
}

// macKey is a next hop on an interface.
type macKey struct {
	index int
	hop   netip.Addr
}

type macResult struct {
	path *resolve.Path // the path that learnt it
	err  error
}

// NewFleet prepares a run of run's probes to names. It fails for what the
// whole run cannot do: a refused configuration (ErrRefused), a transport
// that will not open (ErrNoPrivilege), a canceled ctx.
func NewFleet(ctx context.Context, names []string, run *Config, fc *FleetConfig) (_ *Fleet, err error) {
	c, err := withDefaults(run, len(names))
	if err != nil {
		return nil, err
	}
	o := FleetConfig{}
	if fc != nil {
		o = *fc
	}
	if o.Mode == 0 {
		o.Mode = ModeAuto
	}
	if o.open == nil {
		o.open = Open
	}
	if o.ID == 0 {
		if o.ID, err = NewID(); err != nil {
			return nil, err
		}
	}
	r := o.Resolver
	if r == nil {
		if r, err = resolve.NewBatch(); err != nil {
			return nil, err
		}
		defer r.Close()
	}
	opts := o.Path
	opts.NoSolicit = true
	opts.Mark = c.Mark // policy routing may send marked probes elsewhere

	f := &Fleet{run: run, id: o.ID, members: make([]Member, len(names))}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	oc := OpenConfig{ID: o.ID, Flood: c.Flood, Size: c.Size, InFlight: c.runInFlight(len(names)), PMTUDisc: c.PMTUDisc,
		Socket: c.socketOptions(), Probes: c.probes(len(names)), Faults: c.Faults}
	// First every path, then the MACs of their next hops, all at once.
	paths := make([]*resolve.Path, len(names))
	for i, name := range names {
		m := &f.members[i]
		m.Name = name
		p, err := r.Resolve(ctx, name, &opts)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			m.Err = err
			continue
		}
		m.Mode = o.Mode
		if m.Mode == ModeAuto {
			m.Mode = autoModeFor(p, &oc)
		}
		if err := fits(p, m.Mode); err != nil {
			return nil, err
		}
		if err := Refuse(&c, p, m.Mode); err != nil {
			return nil, err
		}
		paths[i] = p
	}
	macs, err := f.solicit(ctx, r, paths, &o)
	if err != nil {
		return nil, err
	}
	conns := map[connKey]int{}
	for i, p := range paths {
		if p == nil {
			continue
		}
		m := &f.members[i]
		pending, kernel := false, false
		if needsMAC(p, m.Mode) {
			got, asked := macs[macKey{p.Index, p.NextHop}]
			switch {
			case !asked:
				pending = true
			case got.err == nil:
				p.NextHopMAC, p.MACSource = got.path.NextHopMAC, got.path.MACSource
			case o.Mode == ModeAuto && errors.Is(got.err, os.ErrPermission):
				m.Mode = ModeDgram
			case errors.Is(got.err, os.ErrPermission):
				return nil, got.err
			case o.Mode == ModeAuto:
				// No answer at once: the kernel owns the target, resolving
				// with its own retries for each probe and sending the host
				// unreachable a raw socket receives, as iputils sees it.
				m.Mode, kernel = ModeRaw, true
			case o.DryRun:
				m.Err = got.err
				continue
			default:
				pending = true
			}
		}
		m.Path = p
		if o.DryRun {
			continue
		}
		k := connKey{m.Mode, p.Interface, p.Source, p.Target.Is6()}
		ci, ok := conns[k]
		if !ok {
			open := m.Mode
			if o.Mode == ModeAuto && m.Mode != ModeDgram && !kernel {
				open = ModeAuto // falls back from what AutoMode picked
			}
			conn, mode, err := o.open(p, open, &oc)
			if kernel && errors.Is(err, os.ErrPermission) {
				conn, mode, err = o.open(p, ModeDgram, &oc)
			}
			if err != nil {
				return nil, err
			}
			ci = len(f.conns)
			f.conns = append(f.conns, ConnInfo{Conn: conn, Mode: mode, Interface: p.Interface, Source: p.Source})
			conns[k] = ci
		}
		m.Mode = f.conns[ci].Mode
		if pending && (m.Mode == ModeEthernet || m.Mode == ModeIP) {
			nc, ok := f.conns[ci].Conn.(*neighbourConn)
			if !ok {
				tries, timeout := o.Path.Tries, o.Path.Timeout
				if tries <= 0 {
					tries = resolve.DefaultTries
				}
				if timeout <= 0 {
					timeout = resolve.DefaultTimeout
				}
				nc = newNeighbourConn(f.conns[ci].Conn, r.OpenAsker, tries, timeout)
				f.conns[ci].Conn = nc
				for j := range f.targets {
					if f.targets[j].Conn == nc.Conn {
						f.targets[j].Conn = nc
					}
				}
			}
			if err := nc.add(p); err != nil {
				return nil, err
			}
		}
		if err := Refuse(&c, p, m.Mode); err != nil {
			return nil, err
		}
		f.targets = append(f.targets, Target{Path: p, Conn: f.conns[ci].Conn})
		f.member = append(f.member, i)
	}
	return f, nil
}

// needsMAC reports whether probes to p over m need its next hop's MAC and
// do not have it: ARP and NDP need CAP_NET_RAW, as the AF_PACKET
// transports do, and without it auto means the ping socket, which needs no
// MAC.
func needsMAC(p *resolve.Path, m Mode) bool {
	return p.Kind == resolve.KindEthernet && (m == ModeEthernet || m == ModeIP) && p.MACSource == resolve.MACUnknown
}

// maxSolicits bounds the ARP and NDP requests in flight at once, each a
// socket of its own.
const maxSolicits = 256

// solicit asks every next hop that paths need a MAC of, once each and all
// at once: a silent one delays the run by one timeout, not by one per
// target. In mode auto one try will do: the kernel retries for a target
// that did not answer (see NewFleet). A dry run or an explicit mode waits
// for the configured tries; an explicit mode then asks again for the
// probes of a next hop that did not answer, in the background
// (neighbourConn).
func (f *Fleet) solicit(ctx context.Context, r *resolve.Resolver, paths []*resolve.Path, o *FleetConfig) (map[macKey]macResult, error) {
	opts := o.Path
	if o.Mode == ModeAuto && !o.DryRun {
		opts.Tries = 1
	}
	macs := map[macKey]macResult{}
	asked := map[macKey]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, maxSolicits)
	ns := newSpawner()
	defer ns.close()
	for i, p := range paths {
		if p == nil || !needsMAC(p, f.members[i].Mode) { // the mode NewFleet picked
			continue
		}
		k := macKey{p.Index, p.NextHop}
		if asked[k] {
			continue
		}
		asked[k] = true
		// The link is looked up once, here, so that the goroutines only
		// read the resolver's cache.
		if _, err := r.System.InterfaceByIndex(p.Index); err != nil {
			mu.Lock()
			macs[k] = macResult{err: err}
			mu.Unlock()
			continue
		}
		cp := *p
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ns.run(func() {
				err := r.Solicit(ctx, &cp, &opts)
				mu.Lock()
				macs[k] = macResult{path: &cp, err: err}
				mu.Unlock()
			})
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return macs, nil
}

// ID is the ICMP id the Fleet's Conns were opened with; a ping socket
// has the kernel's own (Conn.ID).
func (f *Fleet) ID() uint16 { return f.id }

// NewSingle is NewFleet for one target, whose Member it returns: when the
// target cannot be probed, its error is the error.
func NewSingle(ctx context.Context, name string, run *Config, fc *FleetConfig) (*Fleet, *Member, error) {
	f, err := NewFleet(ctx, []string{name}, run, fc)
	if err != nil {
		return nil, nil, err
	}
	if m := &f.members[0]; m.Err != nil {
		f.Close()
		return nil, nil, m.Err
	}
	return f, &f.members[0], nil
}

// Members returns every target as given, in order, probed or not.
func (f *Fleet) Members() []Member { return f.members }

// Targets returns the targets that are probed, in the order given: what
// the Engine runs over, indexed as its events are.
func (f *Fleet) Targets() []Target { return f.targets }

// MemberOf returns the member of the Engine's target i.
func (f *Fleet) MemberOf(i int) *Member { return &f.members[f.member[i]] }

// Conns returns the Fleet's transports.
func (f *Fleet) Conns() []ConnInfo { return f.conns }

// Engine returns an engine over the Fleet's probed targets, with the run's
// configuration (see New).
func (f *Fleet) Engine(onEvent func(*Event)) (*Engine, error) {
	if len(f.targets) == 0 {
		for _, m := range f.members {
			if m.Err != nil {
				return nil, fmt.Errorf("ping: no target can be probed: %s: %w", m.Name, m.Err)
			}
		}
		return nil, errors.New("ping: no targets")
	}
	return New(f.run, f.targets, onEvent)
}

// Drops returns what the receive paths of all the Fleet's transports lost
// (ring drops), and of the target's own transport when target >= 0.
func (f *Fleet) Drops(target int) (uint64, error) {
	var sum uint64
	var errs []error
	for _, ci := range f.conns {
		if target >= 0 && ci.Conn != f.targets[target].Conn {
			continue
		}
		n, err := ci.Conn.Drops()
		sum += n
		errs = append(errs, err)
	}
	return sum, errors.Join(errs...)
}

// Close closes every transport. It is idempotent.
func (f *Fleet) Close() error {
	var errs []error
	for _, ci := range f.conns {
		errs = append(errs, ci.Conn.Close())
	}
	f.conns = nil
	return errors.Join(errs...)
}

// FirstProbe is the first probe a run would send to path with id: what a
// dry run shows.
func FirstProbe(run *Config, p *resolve.Path, id uint16) (*craft.Echo, error) {
	c, err := withDefaults(run, 1)
	if err != nil {
		return nil, err
	}
	pl := craft.Payload{Size: c.Size, Pattern: c.Pattern, Auth: craft.NewAuthenticator(c.Key)}
	e := c.echo(p, id, 1, pl.Append(nil, &craft.Probe{ID: id, N: 1, Dst: p.Target, Sent: time.Now()}))
	return &e, nil
}
