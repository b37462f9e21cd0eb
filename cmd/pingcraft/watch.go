package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/pingcraft/pingcraft/capture"
	"github.com/pingcraft/pingcraft/capture/libpcap"
	"github.com/pingcraft/pingcraft/tcpdump"
)

// watchHelp is watch's help beyond its usage line.
const watchHelp = `Frames come from a TPACKET_V3 ring on -i IFACE (-i any: libpcap's cooked
capture on every interface), with the libpcap filter
expression compiled by libpcap and run in the kernel, or from a pcap or
pcapng file with -r, the same filter run in user space. Lines are tcpdump's;
addresses are never resolved to names. On exit the counts go to stderr.`

func watchFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "interface", Aliases: []string{"i"}, Usage: "capture on `IFACE`"},
		&cli.StringFlag{Name: "read", Aliases: []string{"r"}, Usage: "read frames from `FILE` (pcap or pcapng)"},
		&cli.StringFlag{Name: "write", Aliases: []string{"w"}, Usage: "write frames to `FILE` (pcap; pcapng with --pcapng)"},
		&cli.BoolFlag{Name: "pcapng", Usage: "write pcapng instead of pcap"},
		&cli.BoolFlag{Name: "U", Usage: "with -w, write each frame to the file as it comes (otherwise on exit)"},
		&cli.IntFlag{Name: "count", Aliases: []string{"c"}, Usage: "stop after `N` frames"},
		&cli.IntFlag{Name: "snaplen", Aliases: []string{"s"}, Value: capture.MaxSnaplen, Usage: "keep at most `BYTES` of each frame"},
		&cli.BoolFlag{Name: "n", Usage: "numeric output (always on: watch never resolves names)"},
		&cli.BoolFlag{Name: "v", Usage: "more detail (-vv: more still)"},
		&cli.BoolFlag{Name: "e", Usage: "print the link-level header"},
		&cli.BoolFlag{Name: "x", Usage: "hex dump from the network header (-xx: from the link header)"},
		&cli.BoolFlag{Name: "X", Usage: "as -x, with ASCII (-XX: from the link header)"},
		&cli.BoolFlag{Name: "t", Usage: "no time (-tt unix time, -ttt delta, -tttt date, -ttttt since the first)"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "less protocol detail"},
		&cli.BoolFlag{Name: "json", Usage: "one JSON object per frame"},
	}
}

func runWatch(c *cli.Context) error {
	iface, file, out := c.String("interface"), c.String("read"), c.String("write")
	snaplen := c.Int("snaplen")
	switch {
	case iface == "" && file == "":
		return usagef("watch needs -i IFACE to capture on or -r FILE to read")
	case iface != "" && file != "":
		return usagef("watch takes -i or -r, not both")
	case c.IsSet("count") && c.Int("count") <= 0:
		return usagef("-c %d: give a positive number of frames", c.Int("count"))
	case snaplen <= 0 || snaplen > capture.MaxSnaplen:
		return usagef("-s %d: give 1 to %d bytes", snaplen, capture.MaxSnaplen)
	case out != "" && out == file:
		return usagef("-w %s would overwrite the file -r reads", out)
	}
	src, hdr, err := libpcap.Open(libpcap.Options{Interface: iface, File: file, Filter: strings.Join(c.Args().Slice(), " "), Snaplen: snaplen})
	if err != nil {
		return err
	}
	defer src.Close()
	stderr := c.App.ErrWriter
	if file != "" {
		fmt.Fprintf(stderr, "reading from file %s, %s, snapshot length %d\n", file, tcpdump.LinkTypeText(hdr.Link), hdr.Snaplen)
	} else {
		fmt.Fprintf(stderr, "pingcraft: listening on %s, %s, snapshot length %d bytes\n", iface, tcpdump.LinkTypeText(hdr.Link), hdr.Snaplen)
	}

	// The output file is created only once the capture is open, so bad
	// input never leaves an empty file behind.
	lo := &capture.LoopOptions{Count: c.Int("count")}
	if out != "" {
		o := capture.FileOptions{Link: hdr.Link, Snaplen: min(snaplen, hdr.Snaplen), PcapNG: c.Bool("pcapng"), PacketBuffered: c.Bool("U")}
		if lo.File, err = capture.CreateFile(out, o); err != nil {
			return err
		}
	}
	switch {
	case c.Bool("json"):
		lo.Frame = tcpdump.NewJSONWriter(c.App.Writer, hdr.Link).Print
	case out == "":
		pr, err := tcpdump.NewPrinter(c.App.Writer, hdr.Link, printOptions(c))
		if err != nil {
			return err
		}
		lo.Frame = pr.Print
	}

	n, err := capture.Loop(c.Context, src, lo)
	if lo.File != nil {
		if cerr := lo.File.Close(); err == nil {
			err = cerr
		}
	}
	if n.Live {
		fmt.Fprintf(stderr, "%d packets captured\n%d packets received by filter\n%d packets dropped by kernel\n",
			n.Captured, n.Received, n.Dropped)
	}
	return err
}

// printOptions reads tcpdump's printing flags; -v, -x, -X and -t count.
func printOptions(c *cli.Context) *tcpdump.PrintOptions {
	o := &tcpdump.PrintOptions{Verbose: c.Count("v"), Ether: c.Bool("e"), Quiet: c.Bool("quiet")}
	switch {
	case c.Count("X") > 0:
		o.Hex, o.ASCII = min(c.Count("X"), 2), true
	case c.Count("x") > 0:
		o.Hex = min(c.Count("x"), 2)
	}
	o.Stamp = []tcpdump.Stamp{tcpdump.StampTime, tcpdump.StampNone, tcpdump.StampUnix, tcpdump.StampDelta,
		tcpdump.StampDate, tcpdump.StampSinceFirst}[min(c.Count("t"), 5)]
	return o
}
