package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pingcraft/pingcraft/serve"
)

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "probe groups of targets without end and export Prometheus metrics",
		Description: `Reads --config (YAML: groups of targets, each with an interval, mode, size,
TOS, source and interface), probes every target of a group once per
interval, spread over it, and serves /metrics, /healthz and POST /-/reload.
SIGHUP reloads too. A configuration that does not parse or cannot start is
refused with the file, line and reason; the running one carries on.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Required: true, Usage: "the configuration `FILE`"},
			&cli.StringFlag{Name: "listen", Value: ":9374", Usage: "`ADDRESS` to serve HTTP on"},
		},
		Action: runServe,
	}
}

func runServe(c *cli.Context) error {
	path := c.String("config")
	cfg, err := serve.Load(path)
	if err != nil {
		return usageError{oneLine(err.Error())}
	}
	stderr := c.App.ErrWriter
	s := serve.New()
	s.Log = stderr
	if err := s.Apply(c.Context, cfg); err != nil {
		return fmt.Errorf("serve: %s: %w", path, err)
	}
	defer s.Close()

	var mu sync.Mutex // one reload at a time, whether by signal or by HTTP
	reload := func() error {
		mu.Lock()
		defer mu.Unlock()
		cfg, err := serve.Load(path)
		if err == nil {
			err = s.Apply(c.Context, cfg)
		}
		if err != nil {
			err = fmt.Errorf("reload refused, the running configuration stays: %s", oneLine(err.Error()))
			fmt.Fprintln(stderr, "pingcraft:", err)
			return err
		}
		fmt.Fprintf(stderr, "pingcraft: reloaded %s: %d targets\n", path, s.Targets())
		return nil
	}

	ln, err := net.Listen("tcp", c.String("listen"))
	if err != nil {
		return fmt.Errorf("serve: listen on %s: %w", c.String("listen"), err)
	}
	srv := &http.Server{Handler: s.Handler(reload), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stderr, "pingcraft: serving %d targets, metrics on http://%s/metrics\n", s.Targets(), ln.Addr())

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-hup:
			reload()
		case err := <-served:
			return fmt.Errorf("serve: %w", err)
		case <-c.Context.Done():
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("serve: %w", err)
			}
			return nil
		}
	}
}
