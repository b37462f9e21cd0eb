package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/exporter-toolkit/web"
)

// DefaultListen is serve's address when none is given. Its port is not
// smokeping_prober's 9374, blackbox_exporter's 9115 nor ping_exporter's
// 9427, so that pingcraft runs beside any of them (see the README).
const DefaultListen = ":10374"

// Options are how Run serves.
type Options struct {
	// ConfigFile is the configuration, reread on every reload.
	ConfigFile string
	// Listen is the HTTP address, as net.Listen takes it.
	Listen string
	// WebConfigFile, if set, is an exporter-toolkit web configuration:
	// TLS, basic auth, HTTP headers. It is reread on every connection.
	WebConfigFile string
	// Log gets one line per start, reload and problem; nil discards them.
	Log *slog.Logger
	// Reload, when it delivers, rereads ConfigFile: the caller's SIGHUP.
	Reload <-chan os.Signal
	// Listening, if set, is called once the first configuration probes
	// and the listener is open, before anything is served: where the
	// caller gives up the privilege that only starting needed (a low
	// port, say). Reloads then run with what it kept. An error ends Run.
	Listening func() error
}

// Run loads the configuration, starts probing, and serves /, /metrics,
// /healthz and POST /-/reload until ctx ends. A configuration that does not
// load or start is refused at start (the error) and on reload (a log line
// and a 400), the running one carrying on.
func Run(ctx context.Context, o *Options) error {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.WebConfigFile != "" {
		if err := web.Validate(o.WebConfigFile); err != nil {
			return fmt.Errorf("serve: web configuration %s: %s: fix it or leave --web.config.file out", o.WebConfigFile, oneLine(err.Error()))
		}
	}
	cfg, err := Load(o.ConfigFile)
	if err != nil {
		return err
	}
	s := New()
	s.Log = log
	if err := s.Apply(ctx, cfg); err != nil {
		return fmt.Errorf("serve: %s: %w", o.ConfigFile, err)
	}
	s.Reloaded(true, time.Now())
	defer s.Close()

	var mu sync.Mutex // one reload at a time, whether by signal, by HTTP or by a file_sd change
	dir := filepath.Dir(o.ConfigFile)
	globs := cfg.Watched(dir) // of the running configuration; mu guards it
	reload := func() error {
		mu.Lock()
		defer mu.Unlock()
		cfg, err := Load(o.ConfigFile)
		if err == nil {
			err = s.Apply(ctx, cfg)
		}
		if err == nil {
			globs = cfg.Watched(dir)
		}
		s.Reloaded(err == nil, time.Now())
		if err != nil {
			err = fmt.Errorf("reload refused, the running configuration stays: %s", oneLine(err.Error()))
			log.Error(err.Error(), "file", o.ConfigFile)
			return err
		}
		log.Info("reloaded", "file", o.ConfigFile, "targets", s.Targets())
		return nil
	}

	handler, err := s.Handler(reload)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("serve: listen on %s: %w", o.Listen, err)
	}
	if o.Listening != nil {
		if err := o.Listening(); err != nil {
			ln.Close()
			return fmt.Errorf("serve: %w", err)
		}
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	noSystemd := false
	flags := &web.FlagConfig{WebListenAddresses: &[]string{o.Listen}, WebSystemdSocket: &noSystemd, WebConfigFile: &o.WebConfigFile}
	go func() { served <- web.Serve(ln, srv, flags, log) }()
	log.Info("serving", "targets", s.Targets(), "address", ln.Addr().String(), "file", o.ConfigFile)
	// file_sd files are watched as Prometheus watches them, by looking:
	// a change to what the globs match, or to a file's size or time,
	// reloads (and Apply restarts only the sets that changed).
	poll := time.NewTicker(filesPoll)
	defer poll.Stop()
	mu.Lock()
	seen := fingerprint(globs)
	mu.Unlock()
	for {
		select {
		case <-poll.C:
			mu.Lock()
			now := fingerprint(globs)
			mu.Unlock()
			if now != seen {
				seen = now
				log.Info("file_sd files changed", "file", o.ConfigFile)
				reload()
			}
		case <-o.Reload:
			reload()
		case <-s.Stale():
			log.Info("names resolve to other addresses: reopening their targets", "file", o.ConfigFile)
			reload()
		case err := <-served:
			return fmt.Errorf("serve: %w", err)
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := srv.Shutdown(sctx)
			<-served // the server goroutine has returned
			if err != nil && !errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("serve: %w", err)
			}
			return nil
		}
	}
}

// filesPoll is how often the file_sd files are looked at.
const filesPoll = 2 * time.Second

// fingerprint names what the globs match, with each file's size and
// modification time.
func fingerprint(globs []string) string {
	var b strings.Builder
	for _, g := range globs {
		names, _ := filepath.Glob(g)
		for _, n := range names {
			if fi, err := os.Stat(n); err == nil {
				fmt.Fprintf(&b, "%s %d %d\n", n, fi.Size(), fi.ModTime().UnixNano())
			}
		}
	}
	return b.String()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
