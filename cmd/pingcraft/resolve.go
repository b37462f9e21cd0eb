package main

import (
	"errors"
	"fmt"
	"net/netip"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/pingcraft/pingcraft/report"
	"github.com/pingcraft/pingcraft/resolve"
)

// pathFlags are the flags that constrain a path, shared by every command
// that resolves a target.
func pathFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "iface", Aliases: []string{"I"}, Usage: "egress `INTERFACE`, like ping -I"},
		&cli.StringFlag{Name: "source", Aliases: []string{"S"}, Usage: "source `ADDRESS`"},
		&cli.BoolFlag{Name: "4", Usage: "IPv4 only"},
		&cli.BoolFlag{Name: "6", Usage: "IPv6 only"},
	}
}

func pathOptions(c *cli.Context) (*resolve.Options, error) {
	o := &resolve.Options{Interface: c.String("iface")}
	switch {
	case c.Bool("4") && c.Bool("6"):
		return nil, usagef("-4 and -6 exclude each other: give one")
	case c.Bool("4"):
		o.Family = 4
	case c.Bool("6"):
		o.Family = 6
	}
	if s := c.String("source"); s != "" {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, usagef("--source %q is not an IP address", s)
		}
		o.Source = a
	}
	return o, nil
}

// resolveHelp is resolve's help beyond its usage line.
const resolveHelp = `Looks up the route over netlink (as 'ip route get'), then the next hop's
hardware address in the neighbour table, else by ARP (IPv4) or NDP (IPv6).
Sends nothing but that ARP or NDP exchange.`

func resolveFlags() []cli.Flag {
	return append(pathFlags(),
		&cli.BoolFlag{Name: "json", Usage: "print one JSON object"},
	)
}

func runResolve(c *cli.Context) error {
	if c.NArg() != 1 {
		return usagef("resolve takes one TARGET, got %d arguments", c.NArg())
	}
	o, err := pathOptions(c)
	if err != nil {
		return err
	}
	p, err := resolve.New().Resolve(c.Context, c.Args().First(), o)
	if errors.Is(err, os.ErrPermission) {
		// Only ARP and NDP need privilege here, and the ping socket's
		// sysctl does not give it.
		return fmt.Errorf("%w: ARP and NDP need CAP_NET_RAW: run as root or give the binary the capability (setcap cap_net_raw+ep); net.ipv4.ping_group_range does not", err)
	}
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return report.PathJSON(c.App.Writer, p)
	}
	_, err = fmt.Fprint(c.App.Writer, p)
	return err
}
