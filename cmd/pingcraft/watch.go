package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/gopacket/layers"
	"github.com/urfave/cli/v2"

	"github.com/pingcraft/pingcraft/capture"
	"github.com/pingcraft/pingcraft/capture/libpcap"
	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/tcpdump"
)

// watchHelp is watch's help beyond its usage line.
const watchHelp = `Frames come from a TPACKET_V3 ring on -i IFACE (-i any: libpcap's cooked
capture on every interface; no -i: the first interface -D lists), with the libpcap filter
expression compiled by libpcap and run in the kernel, or from a pcap or
pcapng file with -r, the same filter run in user space. Lines are tcpdump's;
addresses are never resolved to names. On exit the counts go to stderr.`

func watchFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "interface", Aliases: []string{"i"}, Usage: "capture on `IFACE`"},
		&cli.BoolFlag{Name: "list-interfaces", Aliases: []string{"D"}, Usage: "list the interfaces to capture on, as tcpdump -D, and exit"},
		&cli.StringFlag{Name: "read", Aliases: []string{"r"}, Usage: "read frames from `FILE` (pcap or pcapng; - is standard input)"},
		&cli.StringFlag{Name: "write", Aliases: []string{"w"}, Usage: "write frames to `FILE` (pcap; pcapng with --pcapng; - is standard output)"},
		&cli.BoolFlag{Name: "pcapng", Usage: "write pcapng instead of pcap"},
		&cli.BoolFlag{Name: "print", Usage: "with -w, print the frames too"},
		&cli.BoolFlag{Name: "l", Usage: "line-buffered output (always on: each frame's lines are written as printed)"},
		&cli.BoolFlag{Name: "U", Usage: "with -w, write each frame to the file as it comes (otherwise on exit)"},
		&cli.BoolFlag{Name: "p", Usage: "do not put the interface in promiscuous mode"},
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
	if c.Bool("list-interfaces") {
		return listDevices(c)
	}
	iface, file, out := c.String("interface"), c.String("read"), c.String("write")
	snaplen := c.Int("snaplen")
	switch {
	case iface != "" && file != "":
		return usagef("watch takes -i or -r, not both")
	case c.IsSet("count") && c.Int("count") <= 0:
		return usagef("-c %d: give a positive number of frames", c.Int("count"))
	case out == "-" && c.Bool("print"):
		// tcpdump interleaves the lines with the file in one stdio buffer,
		// which no reader can take apart.
		return usagef("--print with -w -: the lines would be mixed into the file on standard output; write the file elsewhere")
	case snaplen <= 0 || snaplen > capture.MaxSnaplen:
		return usagef("-s %d: give 1 to %d bytes", snaplen, capture.MaxSnaplen)
	}
	name, stderr := prog(c), c.App.ErrWriter
	if iface == "" && file == "" {
		// tcpdump's default: the first of pcap_findalldevs's list, which
		// puts up and running interfaces before the others and loopback
		// last of them; "any" when no other is up.
		devs, err := libpcap.Devices()
		switch {
		case err != nil:
			return watchError(c, name, err, false)
		case len(devs) == 0:
			return worded{name + ": no interfaces available for capture", exitTcpdumpError}
		}
		iface = devs[0].Name
	}
	src, hdr, err := libpcap.OpenContext(c.Context, libpcap.Options{Interface: iface, File: file, Filter: strings.Join(c.Args().Slice(), " "), Snaplen: snaplen, Promisc: !c.Bool("p"),
		FileOpened: func(h libpcap.Header) {
			fmt.Fprintf(stderr, "reading from file %s, %s, snapshot length %d\n", file, linkTypeText(h.Link), h.Snaplen)
		}})
	if err != nil {
		return watchError(c, name, err, false)
	}
	defer src.Close()
	if file == "" {
		// tcpdump's two lines, or one under -v or -w.
		if c.Count("v") == 0 && out == "" {
			fmt.Fprintf(stderr, "%s: verbose output suppressed, use -v[v]... for full protocol decode\n", name)
		} else {
			fmt.Fprintf(stderr, "%s: ", name)
		}
		fmt.Fprintf(stderr, "listening on %s, %s, snapshot length %d bytes\n", iface, linkTypeText(hdr.Link), hdr.Snaplen)
	}

	lo := &capture.LoopOptions{Count: c.Int("count")}
	var closeFile func() error
	switch {
	case out != "" && !c.Bool("print"):
	case c.Bool("json"):
		lo.Frame = tcpdump.NewLinkJSONWriter(c.App.Writer, hdr.Link).Print
	default:
		// Every link type prints: those the printer does not decode as
		// tcpdump's "unsupported" printer dumps them.
		pr, err := tcpdump.NewLinkPrinter(c.App.Writer, hdr.Link, printOptions(c))
		if err != nil {
			return err
		}
		lo.Frame = pr.Print
	}
	// The output file is created only once the capture is open, so bad
	// input never leaves an empty file behind.
	if out != "" {
		o := capture.FileOptions{Link: hdr.Link, LinkExt: hdr.LinkExt, Snaplen: snaplen, PcapNG: c.Bool("pcapng"), PacketBuffered: c.Bool("U"), Keep: hdr.File}
		if file != "" {
			o.Snaplen = hdr.Snaplen // tcpdump copies the file's, -s or not
		}
		var fw *capture.FileWriter
		if out == "-" {
			fw, err = capture.NewFileWriter(c.App.Writer, "standard output", o)
		} else {
			fw, err = capture.CreateFile(out, o)
		}
		if errors.Is(err, capture.ErrSameFile) {
			return worded{fmt.Sprintf("%s: -w %s is the file -r %s reads (the same device and inode): write to another file", name, out, file), exitTcpdumpError}
		}
		if err != nil {
			return watchError(c, name, err, false)
		}
		lo.File, closeFile = fw, fw.Close
	}

	n, err := capture.Loop(c.Context, src, lo)
	if closeFile != nil {
		if cerr := closeFile(); err == nil {
			err = cerr
		}
	}
	if n.Live && out == "" && !c.Bool("json") && c.Context.Err() != nil {
		// tcpdump's newline after a break, in case a line was cut short;
		// not in pingcraft's JSON lines, where an empty one is no object.
		fmt.Fprint(c.App.Writer, "\n")
	}
	if n.Live {
		fmt.Fprintf(stderr, "%d packets captured\n%d packets received by filter\n%d packets dropped by kernel\n",
			n.Captured, n.Received, n.Dropped)
	}
	if err != nil {
		return watchError(c, name, err, true)
	}
	return nil
}

// listDevices prints libpcap's interfaces as tcpdump -D does, numbered
// from 1 in pcap_findalldevs's order, pseudo-devices included.
func listDevices(c *cli.Context) error {
	devs, err := libpcap.Devices()
	if err != nil {
		return watchError(c, prog(c), err, false)
	}
	for i, d := range devs {
		fmt.Fprintln(c.App.Writer, d.Line(i+1))
	}
	return nil
}

// exitTcpdumpError is tcpdump's exit code for every error.
const exitTcpdumpError = 1

// watchError words err as tcpdump does: libpcap's message after the
// program's name (and "pcap_loop: " once frames were read), exit 1. Ctrl-C
// before the source opened exits as a process killed by SIGINT does.
func watchError(c *cli.Context, name string, err error, looping bool) error {
	var fe *capture.FormatError
	var ce *libpcap.CompileError
	switch {
	case errors.Is(err, context.Canceled) && c.Context.Err() != nil:
		return worded{"", 128 + 2}
	case errors.As(err, &fe) && looping && !fe.Opening:
		return worded{name + ": pcap_loop: " + fe.Msg, exitTcpdumpError}
	case errors.As(err, &fe):
		return worded{name + ": " + fe.Msg, exitTcpdumpError}
	case errors.As(err, &ce):
		return worded{name + ": " + ce.Msg, exitTcpdumpError}
	}
	return worded{name + ": " + oneLine(err.Error()), exitTcpdumpError}
}

// linkTypeText names a link type as tcpdump's first line does: libpcap's
// name and description, or the bare number when libpcap has no name.
func linkTypeText(link craft.LinkType) string {
	if name, desc, ok := libpcap.LinkTypeName(link); ok {
		return fmt.Sprintf("link-type %s (%s)", name, desc)
	}
	if link <= 0xff || link == craft.LinkTypeLinuxSLL2 {
		// No libpcap to ask (a build without cgo): craft's names.
		if name := tcpdump.LinkTypeText(layers.LinkType(link)); link != 20 {
			return name
		}
	}
	return fmt.Sprintf("link-type %d", link)
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
