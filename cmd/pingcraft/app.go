package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
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

// worded is an error its command has worded as the tool it imitates does:
// run prints msg as it is (nothing when empty) and exits with code.
type worded struct {
	msg  string
	code int
}

func (e worded) Error() string { return e.msg }

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:    "pingcraft",
		Usage:   "craft, send and capture ICMP echo traffic at every depth of the stack",
		Version: versionText(),
		// Shell completion asks the binary (see completion.go).
		EnableBashCompletion: true,
		Writer:               stdout,
		ErrWriter:            stderr,
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
			{Name: "send", Aliases: []string{"ping"}, Usage: "ping TARGET as iputils ping does, with probes pingcraft builds at the depth --mode says",
				ArgsUsage: "TARGET", Description: sendHelp, Flags: sendFlags(), Action: runSend},
			{Name: "fping", Usage: "ping many targets at once as fping does",
				ArgsUsage: "TARGET... | -g CIDR | -g START END | -f FILE", Description: fpingHelp,
				Flags: fpingFlags(), Action: runFping},
			{Name: "watch", Aliases: []string{"tcpdump"}, Usage: "capture and decode traffic as tcpdump does, from an interface or a pcap file",
				ArgsUsage: "[FILTER EXPRESSION...]", Description: watchHelp, Flags: watchFlags(), Action: runWatch},
			{Name: "replay", Usage: "send the IP packets of a capture again on an interface, rewritten, and report their answers",
				ArgsUsage: "FILE.pcap", Description: replayHelp, Flags: replayFlags(), Action: runReplay},
			{Name: "serve", Usage: "probe groups of targets without end and export Prometheus metrics",
				Description: serveHelp, Flags: serveFlags(), Action: runServe},
			{Name: "install-links", Usage: "make ping, fping, tcpdump and their kin links to pingcraft in DIR",
				ArgsUsage: "DIR", Description: installLinksHelp, Flags: installLinksFlags(), Action: runInstallLinks},
			{Name: "completion", Usage: "print a shell completion script", ArgsUsage: "bash|zsh|fish",
				Description: completionHelp, Action: runCompletion},
			{Name: "man", Usage: "print the man page", Description: manHelp, Action: runMan},
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
	_, link := links[filepath.Base(firstOf(args))]
	args, prog := personality(args)
	app.Metadata = map[string]any{"prog": prog, "subcommand": !link}
	if len(args) > 1 && !completing(args) {
		if cmd := app.Command(args[1]); cmd != nil {
			rest, err := getopt(cmd, args[2:])
			if err != nil {
				return badOptions(cmd, prog, link, err, stderr)
			}
			app.Metadata["options"] = optionNames(rest)
			if cmd.Name == "send" && pingHelp(rest) {
				// ping -h is iputils' usage, on stderr, exit 2; --help
				// stays pingcraft's help.
				fmt.Fprint(stderr, pingUsage)
				return exitError
			}
			// The options as given, in order, for commands whose tool
			// reads them in order (fping).
			if cmd.Name == "fping" {
				rest = fpingOwnHelp(rest)
			}
			app.Metadata["opts"] = rest
			args = append(args[:2:2], rest...)
		}
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
	var w worded
	if errors.As(err, &w) {
		if w.msg != "" {
			fmt.Fprintln(stderr, w.msg)
		}
		return w.code
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

// pingHelp reports whether a command line getopt rewrote asks for -h.
func pingHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h":
			return true
		}
	}
	return false
}

// optionNames is the names of the options of a command line getopt
// rewrote, in order.
func optionNames(args []string) []string {
	var names []string
	for _, a := range args {
		if a == "--" {
			break
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(a, "-"), "=")
		names = append(names, name)
	}
	return names
}

// firstOf is args[0], or "" for an empty command line.
func firstOf(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}
