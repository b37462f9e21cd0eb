// Package demo is `pingcraft lab`, the README's main job: it builds a lab,
// resolves targets across it from the host with the neighbour tables empty,
// so that the ARP and NDP exchanges show, pings each with probes pingcraft
// builds, and removes everything on exit, error or interrupt.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pingcraft/pingcraft/lab"
	"github.com/pingcraft/pingcraft/ping"
	"github.com/pingcraft/pingcraft/report"
	"github.com/pingcraft/pingcraft/resolve"
)

// Options say what the demo does beyond its default.
type Options struct {
	// Keep leaves the lab up and says how to enter and remove it.
	Keep bool
	// Targets are resolved and pinged from the host instead of the lab's
	// target (both families).
	Targets []string
}

// Run builds a lab and shows it at work on w.
func Run(ctx context.Context, w io.Writer, o *Options) (err error) {
	if o == nil {
		o = &Options{}
	}
	start := time.Now()
	l, err := lab.New(ctx)
	if err != nil {
		return interrupted(ctx, err)
	}
	if !o.Keep {
		defer func() {
			if cerr := l.Close(); cerr != nil && err == nil {
				err = cerr
			}
			if err == nil {
				fmt.Fprintf(w, "\nlab %s removed\n", l.ID)
			}
		}()
	}
	fmt.Fprintf(w, "lab %s built in %s\n", l.ID, time.Since(start).Round(time.Microsecond))
	fmt.Fprintf(w, "  host   %-15s %-17s (%s)\n", l.Host4, l.Host6, l.Host.Name)
	fmt.Fprintf(w, "  router %-15s %-17s / %s %s\n", l.Router4, l.Router6, l.RouterFar4, l.RouterFar6)
	fmt.Fprintf(w, "  target %-15s %-17s (%s)\n", l.Target4, l.Target6, l.Target.Name)

	targets := o.Targets
	if len(targets) == 0 {
		targets = []string{l.Target4.String(), l.Target6.String()}
	}
	for _, target := range targets {
		fmt.Fprintf(w, "\nresolving %s from the host\n", target)
		if err := l.Host.Do(func() error { return resolveAndPing(ctx, w, target) }); err != nil {
			return interrupted(ctx, err)
		}
	}
	if o.Keep {
		fmt.Fprintf(w, "\nlab %s kept. Enter the host with:\n  ip netns exec %s bash\n", l.ID, l.Host.Name)
		fmt.Fprintf(w, "try: ping %s, ping %s, ping -t 1 %s (time exceeded), ping %s (unreachable)\n",
			l.Target4, l.Target6, l.Target4, l.Unreachable4.Addr().Next())
		fmt.Fprintf(w, "remove it with: pingcraft lab down %s\n", l.ID)
	}
	return nil
}

// resolveAndPing shows target's path, ARP or NDP included, and pings it
// three times as Ethernet frames pingcraft builds, in the calling thread's
// namespace: the lab's links are all veths. Auto would take the raw socket
// for a run this short, which shows nothing of layer 2.
func resolveAndPing(ctx context.Context, w io.Writer, target string) error {
	cfg := &ping.Config{Count: 3, Interval: 200 * time.Millisecond, Timeout: 2 * time.Second, Size: ping.DefaultSize}
	fl, m, err := ping.NewSingle(ctx, target, cfg, &ping.FleetConfig{Mode: ping.ModeEthernet})
	if err != nil {
		return err
	}
	defer fl.Close()
	p := m.Path
	switch p.MACSource {
	case resolve.MACFromARP:
		fmt.Fprintf(w, "  ARP who-has %s tell %s -> is-at %s\n", p.NextHop, p.Source, p.NextHopMAC)
	case resolve.MACFromNDP:
		fmt.Fprintf(w, "  NDP neighbor solicitation for %s on %s -> advertised %s\n", p.NextHop, p.Interface, p.NextHopMAC)
	}
	fmt.Fprint(w, p)
	fmt.Fprintf(w, "\nsending from the host, --mode %s\n", m.Mode)
	pr := &report.Ping{W: w, Name: target}
	eng, err := fl.Engine(pr.Event)
	if err != nil {
		return err
	}
	pr.Header(p.Target, cfg.Size, "", 0, 0)
	start := time.Now()
	if err := eng.Run(ctx); err != nil {
		return err
	}
	st := eng.Stats(0)
	pr.Summary(&st, time.Since(start), 0)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if st.Received == 0 && p.MACSource == resolve.MACUnknown {
		return fmt.Errorf("lab: no reply from %s over mode %s, nor to ARP or NDP: is it up and on this link?", target, m.Mode)
	}
	if st.Received == 0 {
		return fmt.Errorf("lab: no reply from %s over mode %s", target, m.Mode)
	}
	return nil
}

// interrupted says plainly that an interrupted lab was cleaned up.
func interrupted(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return fmt.Errorf("lab: interrupted; everything it built was removed")
	}
	return err
}
