package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// links are the names under which pingcraft is the tool it imitates, as
// busybox is: the command each runs and the options its name implies.
var links = map[string][]string{
	"ping":    {"send"},
	"ping4":   {"send", "-4"},
	"ping6":   {"send", "-6"},
	"fping":   {"fping"},
	"fping6":  {"fping", "-6"},
	"tcpdump": {"watch"},
}

// linkNames is links' keys in a stable order.
func linkNames() []string {
	names := make([]string, 0, len(links))
	for n := range links {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// personality rewrites a command line started under one of links' names
// into pingcraft's and returns the name messages give: argv[0] as typed, as
// the real tools print it, or the tool's own name under a subcommand.
func personality(args []string) ([]string, string) {
	if len(args) == 0 {
		return []string{"pingcraft"}, "pingcraft"
	}
	if cmd, ok := links[filepath.Base(args[0])]; ok {
		return append(append([]string{"pingcraft"}, cmd...), args[1:]...), args[0]
	}
	if len(args) > 1 {
		switch args[1] {
		case "send", "ping":
			return args, "ping"
		case "fping":
			return args, "fping"
		case "watch", "tcpdump":
			return args, "tcpdump"
		}
	}
	return args, "pingcraft"
}

// prog is the name the running command's messages start with.
func prog(c *cli.Context) string {
	if p, ok := c.App.Metadata["prog"].(string); ok {
		return p
	}
	return "pingcraft"
}

// completing reports whether the shell asks for completions, which urfave
// answers itself.
func completing(args []string) bool {
	return len(args) > 0 && args[len(args)-1] == "--generate-bash-completion"
}

// badOptions reports a command line getopt refused, as the command's tool
// does, and returns the exit code; link says pingcraft was started under
// one of links' names.
func badOptions(cmd *cli.Command, prog string, link bool, err error, w io.Writer) int {
	switch cmd.Name {
	case "send":
		var oe *optError
		if link && errors.As(err, &oe) && oe.long && !oe.missing {
			// iputils' getopt has no long options: it reads "--foo" as
			// the option '-'. pingcraft's own long ones stay available.
			err = errors.New("invalid option -- '-'")
		}
		fmt.Fprintf(w, "%s: %v\n%s", prog, err, pingUsage)
		return exitError
	case "fping":
		fmt.Fprintf(w, "%s: %s\nsee 'fping -h' for usage information\n", prog, fpingOptError(err))
		return fpingUsageExit
	}
	fmt.Fprintf(w, "pingcraft: %s: %v: see 'pingcraft %s --help'\n", cmd.Name, err, cmd.Name)
	return exitError
}

const installLinksHelp = `Makes DIR/ping, ping4, ping6, fping, fping6 and tcpdump symbolic links to
this binary; started under one of those names, pingcraft is that tool (as
'pingcraft send', 'pingcraft fping' and 'pingcraft watch' are). An existing
file of the same name is left alone unless --force; put DIR before the real
tools' directory in PATH to make pingcraft the one that runs.`

func installLinksFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "replace files of the same name"},
	}
}

func runInstallLinks(c *cli.Context) error {
	if c.NArg() != 1 {
		return usagef("install-links takes one DIR: where the links go")
	}
	dir := c.Args().First()
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("install-links: cannot find this binary: %w", err)
	}
	if self, err = filepath.EvalSymlinks(self); err != nil {
		return fmt.Errorf("install-links: %w", err)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return usagef("install-links %s: not a directory: create it first", dir)
	}
	var done []string
	for _, name := range linkNames() {
		path := filepath.Join(dir, name)
		if target, err := os.Readlink(path); err == nil && target == self {
			continue
		}
		if _, err := os.Lstat(path); err == nil {
			if !c.Bool("force") {
				return usagef("install-links: %s exists: remove it or give --force (links made so far: %s)", path, strings.Join(done, " "))
			}
			if err := os.Remove(path); err != nil {
				return fmt.Errorf("install-links: %w", err)
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("install-links: %w", err)
		}
		if err := os.Symlink(self, path); err != nil {
			return fmt.Errorf("install-links: %w", err)
		}
		done = append(done, name)
	}
	fmt.Fprintf(c.App.Writer, "%s: %s -> %s\n", dir, strings.Join(linkNames(), " "), self)
	return nil
}

// fpingOptError is a refused option in the words of fping's optparse,
// which names long options as it does letters.
func fpingOptError(err error) string {
	var oe *optError
	if !errors.As(err, &oe) {
		if name, ok := strings.CutPrefix(err.Error(), "option '--"); ok {
			name, _, _ = strings.Cut(name, "'")
			return fmt.Sprintf("option takes no arguments -- '%s'", name)
		}
		return err.Error()
	}
	if oe.missing {
		return fmt.Sprintf("option requires an argument -- '%s'", oe.opt)
	}
	return fmt.Sprintf("invalid option -- '%s'", oe.opt)
}
