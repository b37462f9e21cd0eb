package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/pingcraft/pingcraft/serve"
)

// serveHelp is serve's help beyond its usage line.
const serveHelp = `Reads --config (YAML: groups of targets, each with an interval, mode, size,
TOS, source and interface), probes every target of a group once per
interval, spread over it, and serves /metrics, /healthz and POST /-/reload.
SIGHUP reloads too. A configuration that does not parse or cannot start is
refused with the file, line and reason; the running one carries on. A
target that does not resolve is logged and left out.`

func serveFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "config", Required: true, Usage: "the configuration `FILE`"},
		&cli.StringFlag{Name: "listen", Value: ":9374", Usage: "`ADDRESS` to serve HTTP on"},
	}
}

func runServe(c *cli.Context) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	return serve.Run(c.Context, &serve.Options{ConfigFile: c.String("config"), Listen: c.String("listen"),
		Log: c.App.ErrWriter, Reload: hup})
}
