package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// Options are how Run serves.
type Options struct {
	// ConfigFile is the configuration, reread on every reload.
	ConfigFile string
	// Listen is the HTTP address, as net.Listen takes it.
	Listen string
	// Log gets one line per start, reload and problem; nil discards them.
	Log io.Writer
	// Reload, when it delivers, rereads ConfigFile: the caller's SIGHUP.
	Reload <-chan os.Signal
}

// Run loads the configuration, starts probing, and serves /metrics,
// /healthz and POST /-/reload until ctx ends. A configuration that does not
// load or start is refused at start (the error) and on reload (a log line
// and a 400), the running one carrying on.
func Run(ctx context.Context, o *Options) error {
	cfg, err := Load(o.ConfigFile)
	if err != nil {
		return err
	}
	s := New()
	s.Log = o.Log
	if err := s.Apply(ctx, cfg); err != nil {
		return fmt.Errorf("serve: %s: %w", o.ConfigFile, err)
	}
	defer s.Close()

	var mu sync.Mutex // one reload at a time, whether by signal or by HTTP
	reload := func() error {
		mu.Lock()
		defer mu.Unlock()
		cfg, err := Load(o.ConfigFile)
		if err == nil {
			err = s.Apply(ctx, cfg)
		}
		if err != nil {
			err = fmt.Errorf("reload refused, the running configuration stays: %s", oneLine(err.Error()))
			s.logf("pingcraft: %v", err)
			return err
		}
		s.logf("pingcraft: reloaded %s: %d targets", o.ConfigFile, s.Targets())
		return nil
	}

	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("serve: listen on %s: %w", o.Listen, err)
	}
	srv := &http.Server{Handler: s.Handler(reload), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	s.logf("pingcraft: serving %d targets, metrics on http://%s/metrics", s.Targets(), ln.Addr())
	for {
		select {
		case <-o.Reload:
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

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
