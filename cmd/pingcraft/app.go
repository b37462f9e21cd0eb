package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// Exit codes, as iputils ping: 0 a reply came, 1 none did, 2 an error.
const (
	exitOK    = 0
	exitError = 2
)

// usageError is bad input on the command line: exit 2 with one line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:      "pingcraft",
		Usage:     "craft, send and capture ICMP echo traffic at every depth of the stack",
		Version:   buildVersion(),
		Writer:    stdout,
		ErrWriter: stderr,
		// Errors are printed once, by run, as one line.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError:   onUsageError,
		Commands: []*cli.Command{
			{Name: "craft", Usage: "build one echo probe and show it decoded and in hex; nothing is sent",
				ArgsUsage: "[TARGET]", Description: craftHelp, Flags: craftFlags(), Action: runCraft},
			{Name: "resolve", Usage: "show the path a probe to TARGET takes: interface, source, next hop and its MAC",
				ArgsUsage: "TARGET", Description: resolveHelp, Flags: resolveFlags(), Action: runResolve},
			{Name: "lab", Usage: "build throwaway host -> router -> target namespaces and ping across them at layer 2",
				Description: labHelp, Flags: labFlags(), Action: runLab,
				Subcommands: []*cli.Command{{Name: "down", Usage: "remove labs left up by --keep (or by a killed run)",
					ArgsUsage: "[ID...]", Action: runLabDown}}},
			{Name: "send", Usage: "ping TARGET with probes pingcraft builds, at the depth --mode says",
				ArgsUsage: "TARGET", Description: sendHelp, Flags: sendFlags(), Action: runSend},
			// Many targets: fping's flags and output (see send's help).
			{Name: "send-many", Hidden: true, Usage: "ping many targets at once, with fping's flags and output",
				ArgsUsage: "TARGET... | -g CIDR | -g START END | -f FILE", Flags: manyFlags(), Action: runSendMany},
			{Name: "watch", Usage: "capture and decode traffic as tcpdump does, from an interface or a pcap file",
				ArgsUsage: "[FILTER EXPRESSION...]", Description: watchHelp, UseShortOptionHandling: true,
				Flags: watchFlags(), Action: runWatch},
			{Name: "serve", Usage: "probe groups of targets without end and export Prometheus metrics",
				Description: serveHelp, Flags: serveFlags(), Action: runServe},
		},
	}
	var setUsage func([]*cli.Command)
	setUsage = func(cs []*cli.Command) {
		for _, c := range cs {
			c.OnUsageError = onUsageError
			setUsage(c.Subcommands)
		}
	}
	setUsage(app.Commands)
	return app
}

// onUsageError turns a flag error into one line instead of a help page.
func onUsageError(c *cli.Context, err error, _ bool) error {
	if c.Command == nil || c.Command.Name == "" || c.Command.Name == c.App.Name {
		return usagef("%v: see 'pingcraft --help'", err)
	}
	return usagef("%s: %v: see 'pingcraft %s --help'", c.Command.Name, err, c.Command.Name)
}

// run executes the command line and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	if len(args) > 1 && args[1] == "send" && manyStyle(args[2:]) {
		// Many targets: fping's flags and output (see send's help).
		args = append([]string{args[0], "send-many"}, args[2:]...)
	}
	notFound := false
	app.CommandNotFound = func(_ *cli.Context, name string) {
		notFound = true
		fmt.Fprintf(stderr, "pingcraft: no command %q: see 'pingcraft help'\n", name)
	}
	err := app.RunContext(ctx, args)
	if notFound {
		return exitError
	}
	if err == nil {
		return exitOK
	}
	var exit cli.ExitCoder
	if errors.As(err, &exit) {
		if msg := strings.TrimSpace(err.Error()); msg != "" {
			fmt.Fprintln(stderr, "pingcraft:", msg)
		}
		return exit.ExitCode()
	}
	fmt.Fprintln(stderr, "pingcraft:", oneLine(err.Error()))
	return exitError
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
