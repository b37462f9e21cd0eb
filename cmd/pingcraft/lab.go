package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pingcraft/pingcraft/lab"
	"github.com/pingcraft/pingcraft/ping"
	"github.com/pingcraft/pingcraft/resolve"
)

func labCommand() *cli.Command {
	return &cli.Command{
		Name:  "lab",
		Usage: "build throwaway host -> router -> target namespaces and ping across them at layer 2",
		Description: `Builds three network namespaces joined by veth pairs (198.18.0.0/15 and
fd00:198:18::/48, nothing leaves the machine), resolves the target from the
host, ARP and NDP included, pings it with Ethernet frames pingcraft builds,
and removes everything on exit, error or Ctrl-C.
Needs root (or CAP_SYS_ADMIN and CAP_NET_ADMIN).`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "keep", Usage: "leave the lab up and print how to enter it"},
			&cli.StringSliceFlag{Name: "target", Usage: "`ADDRESS` to resolve from the host instead of the lab's target (repeatable)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("lab takes no arguments (did you mean 'pingcraft lab down'?), got %q", c.Args().First())
			}
			return runLab(c.Context, c.App.Writer, c.Bool("keep"), c.StringSlice("target"))
		},
		Subcommands: []*cli.Command{{
			Name:      "down",
			Usage:     "remove labs left up by --keep (or by a killed run)",
			ArgsUsage: "[ID...]",
			Action: func(c *cli.Context) error {
				removed, err := lab.Down(c.Args().Slice()...)
				for _, name := range removed {
					fmt.Fprintln(c.App.Writer, "removed", name)
				}
				if err == nil && len(removed) == 0 {
					fmt.Fprintln(c.App.Writer, "no labs to remove")
				}
				return err
			},
		}},
	}
}

func runLab(ctx context.Context, w io.Writer, keep bool, targets []string) (err error) {
	start := time.Now()
	l, err := lab.New(ctx)
	if err != nil {
		return labErr(ctx, err)
	}
	if !keep {
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

	if len(targets) == 0 {
		targets = []string{l.Target4.String(), l.Target6.String()}
	}
	for _, target := range targets {
		fmt.Fprintf(w, "\nresolving %s from the host\n", target)
		var p *resolve.Path
		var rerr error
		if err := l.Host.Do(func() error {
			p, rerr = resolve.New().Resolve(ctx, target, nil)
			return nil
		}); err != nil {
			return err
		}
		if rerr != nil {
			return labErr(ctx, rerr)
		}
		switch p.MACSource {
		case resolve.MACFromARP:
			fmt.Fprintf(w, "  ARP who-has %s tell %s -> is-at %s\n", p.NextHop, p.Source, p.NextHopMAC)
		case resolve.MACFromNDP:
			fmt.Fprintf(w, "  NDP neighbor solicitation for %s on %s -> advertised %s\n", p.NextHop, p.Interface, p.NextHopMAC)
		}
		fmt.Fprint(w, p)
		if err := labPing(ctx, w, l, target, p); err != nil {
			return labErr(ctx, err)
		}
	}

	if keep {
		fmt.Fprintf(w, "\nlab %s kept. Enter the host with:\n  ip netns exec %s bash\n", l.ID, l.Host.Name)
		fmt.Fprintf(w, "try: ping %s, ping %s, ping -t 1 %s (time exceeded), ping %s (unreachable)\n",
			l.Target4, l.Target6, l.Target4, l.Unreachable4.Addr().Next())
		fmt.Fprintf(w, "remove it with: pingcraft lab down %s\n", l.ID)
	}
	return nil
}

// labErr says plainly that an interrupted lab was cleaned up.
func labErr(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return fmt.Errorf("lab: interrupted; everything it built was removed")
	}
	return err
}

// labPing pings across the lab at layer 2: frames pingcraft builds, sent
// from the host, replies read from the ring.
func labPing(ctx context.Context, w io.Writer, l *lab.Lab, name string, p *resolve.Path) error {
	mode := ping.AutoMode(p)
	fmt.Fprintf(w, "\nsending from the host, --mode %s\n", mode)
	return l.Host.Do(func() error {
		cfg := &ping.Config{Count: 3, Interval: 200 * time.Millisecond, Timeout: 2 * time.Second, Size: ping.DefaultSize}
		id, err := ping.NewID()
		if err != nil {
			return err
		}
		conn, mode, err := ping.Open(p, mode, &ping.OpenConfig{ID: id})
		if err != nil {
			return err
		}
		defer conn.Close()
		pr := &ping.Printer{W: w, Name: name}
		eng, err := ping.New(cfg, []ping.Target{{Path: p, Conn: conn}}, pr.Event)
		if err != nil {
			return err
		}
		pr.Header(p.Target, cfg.Size, "")
		start := time.Now()
		if err := eng.Run(ctx); err != nil {
			return err
		}
		st := eng.Stats(0)
		pr.Summary(&st, time.Since(start), 0)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if st.Received == 0 {
			return fmt.Errorf("lab: no reply from %s over --mode %s", name, mode)
		}
		return nil
	})
}
