package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/pingcraft/pingcraft/lab"
	"github.com/pingcraft/pingcraft/lab/demo"
)

// labHelp is lab's help beyond its usage line.
const labHelp = `Builds three network namespaces joined by veth pairs (198.18.0.0/15 and
fd00:198:18::/48, nothing leaves the machine), resolves the target from the
host, ARP and NDP included, pings it with Ethernet frames pingcraft builds,
and removes everything on exit, error or Ctrl-C.
Needs root (or CAP_SYS_ADMIN and CAP_NET_ADMIN).`

func labFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "keep", Usage: "leave the lab up and print how to enter it"},
		&cli.StringSliceFlag{Name: "target", Usage: "`ADDRESS` to resolve from the host instead of the lab's target (repeatable)"},
	}
}

func runLab(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("lab takes no arguments (did you mean 'pingcraft lab down'?), got %q", c.Args().First())
	}
	return labPermission(demo.Run(c.Context, c.App.Writer, &demo.Options{Keep: c.Bool("keep"), Targets: c.StringSlice("target")}))
}

// labPermission names the fix when the lab was not allowed: namespaces and
// their links need root, which no capability of the binary's or sysctl
// gives as simply.
func labPermission(err error) error {
	if errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("%w: network namespaces need root (CAP_SYS_ADMIN and CAP_NET_ADMIN): run it with sudo", err)
	}
	return err
}

// runLabDown removes the labs named, or every lab left over.
func runLabDown(c *cli.Context) error {
	removed, err := lab.Down(c.Args().Slice()...)
	err = labPermission(err)
	for _, name := range removed {
		fmt.Fprintln(c.App.Writer, "removed", name)
	}
	if c.NArg() == 0 && err == nil {
		// Never another process's lab: say what was left and why.
		kept, kerr := lab.Kept()
		for _, k := range kept {
			fmt.Fprintln(c.App.Writer, "kept", k)
		}
		err = labPermission(kerr)
	}
	if err == nil && len(removed) == 0 {
		fmt.Fprintln(c.App.Writer, "no labs to remove")
	}
	return err
}
