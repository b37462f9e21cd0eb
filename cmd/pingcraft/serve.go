package main

import (
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/prometheus/common/promslog"
	commonversion "github.com/prometheus/common/version"
	"github.com/urfave/cli/v2"

	"github.com/pingcraft/pingcraft/serve"
)

// serveHelp is serve's help beyond its usage line.
const serveHelp = `Reads --config.file (YAML: groups of targets, each with an interval, mode,
size, TOS, source and interface; modules for /probe), probes every target of
a group once per interval, spread over it, and serves a landing page at /,
/metrics, /healthz and POST /-/reload; GET /probe?target=X&module=M sends
one burst as the file's module M says (icmp: 3 probes) and answers with
probe_success, its counts and round trips. SIGHUP reloads too. A
configuration that does not parse or cannot start is refused with the file,
line and reason; the running one carries on, and a reload restarts only
the target sets that changed. Groups may take more targets from Prometheus
file_sd files (files:, watched), labels, every address of a name
(addresses: all), a refresh of names and a burst schedule. A target that
does not resolve is logged, counted and tried again. --web.config.file
takes the exporter-toolkit web configuration (TLS, basic auth) that
Prometheus' exporters take.`

func serveFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "config.file", Aliases: []string{"config"}, Required: true, Usage: "the configuration `FILE`"},
		&cli.StringFlag{Name: "web.listen-address", Aliases: []string{"listen"}, Value: serve.DefaultListen, Usage: "`ADDRESS` to serve HTTP on"},
		&cli.StringFlag{Name: "web.config.file", Usage: "exporter-toolkit web configuration `FILE` (TLS, basic auth); none: plain HTTP"},
		&cli.StringFlag{Name: "log.level", Value: "info", Usage: "least `LEVEL` logged: debug, info, warn or error"},
		&cli.StringFlag{Name: "log.format", Value: "logfmt", Usage: "log line `FORMAT`: logfmt or json"},
	}
}

func runServe(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("serve takes no arguments, got %q: targets go in the --config.file", strings.Join(c.Args().Slice(), " "))
	}
	lc := &promslog.Config{Level: promslog.NewLevel(), Format: promslog.NewFormat(), Writer: c.App.ErrWriter}
	if err := lc.Level.Set(c.String("log.level")); err != nil {
		return usagef("serve: --log.level %q: use debug, info, warn or error", c.String("log.level"))
	}
	if err := lc.Format.Set(c.String("log.format")); err != nil {
		return usagef("serve: --log.format %q: use logfmt or json", c.String("log.format"))
	}
	// pingcraft_build_info and the landing page read prometheus/common's
	// version; the binary's own is set at build time.
	commonversion.Version = buildVersion()
	log := promslog.New(lc)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	return serve.Run(c.Context, &serve.Options{ConfigFile: c.String("config.file"), Listen: c.String("web.listen-address"),
		WebConfigFile: c.String("web.config.file"), Log: log.With("component", "serve"), Reload: hup,
		// Run as root, serve would keep every capability for its whole
		// life; its reloads need CAP_NET_RAW alone.
		Listening: keepNetRaw})
}
