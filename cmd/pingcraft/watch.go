package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/google/gopacket/layers"
	"github.com/urfave/cli/v2"

	"github.com/pingcraft/pingcraft/capture"
	"github.com/pingcraft/pingcraft/capture/libpcap"
	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/resolve"
	"github.com/pingcraft/pingcraft/tcpdump"
)

// watchHelp is watch's help beyond its usage line.
const watchHelp = `Frames come from a TPACKET_V3 ring on -i IFACE (-i any: libpcap's cooked
capture on every interface; no -i: the first interface -D lists), with the libpcap filter
expression compiled by libpcap and run in the kernel, or from a pcap or
pcapng file with -r, the same filter run in user space. Lines are tcpdump's;
addresses are never resolved to names. On exit the counts go to stderr.`

func watchFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "interface", Aliases: []string{"i"}, Usage: "capture on `IFACE` (a name, any, or a number in -D's list)"},
		&cli.BoolFlag{Name: "list-interfaces", Aliases: []string{"D"}, Usage: "list the interfaces to capture on, as tcpdump -D, and exit"},
		&cli.BoolFlag{Name: "list-data-link-types", Aliases: []string{"L"}, Usage: "list the link types of the interface, as tcpdump -L, and exit"},
		&cli.StringFlag{Name: "linktype", Aliases: []string{"y"}, Usage: "capture with link type `TYPE` (-L lists them; any: LINUX_SLL2 or LINUX_SLL)"},
		&cli.BoolFlag{Name: "list-time-stamp-types", Aliases: []string{"J"}, Usage: "list the time stamp types of the interface, as tcpdump -J, and exit"},
		&cli.StringFlag{Name: "time-stamp-type", Aliases: []string{"j"}, Usage: "time stamp type `TYPE` (-J lists them)"},
		&cli.StringFlag{Name: "time-stamp-precision", Usage: "time stamps in `micro` or nano seconds"},
		&cli.BoolFlag{Name: "nano", Usage: "time stamps in nanoseconds"},
		&cli.BoolFlag{Name: "micro", Usage: "time stamps in microseconds (the default)"},
		&cli.StringFlag{Name: "direction", Aliases: []string{"Q"}, Usage: "capture frames going `in`, out or inout (the default)"},
		&cli.StringFlag{Name: "read", Aliases: []string{"r"}, Usage: "read frames from `FILE` (pcap or pcapng; - is standard input)"},
		&cli.StringFlag{Name: "write", Aliases: []string{"w"}, Usage: "write frames to `FILE` (pcap; pcapng with --pcapng; - is standard output)"},
		&cli.BoolFlag{Name: "pcapng", Usage: "write pcapng instead of pcap"},
		&cli.BoolFlag{Name: "print", Usage: "with -w, print the frames too"},
		&cli.StringFlag{Name: "F", Usage: "read the filter expression from `FILE` (# starts a comment)"},
		&cli.StringFlag{Name: "relinquish-privileges", Aliases: []string{"Z"}, Usage: "once the capture is open, become `USER` (as root; without -Z root keeps its user, with no capability)"},
		&cli.BoolFlag{Name: "l", Usage: "line-buffered output (always on: each frame's lines are written as printed)"},
		&cli.BoolFlag{Name: "packet-buffered", Aliases: []string{"U"}, Usage: "with -w, write each frame to the file as it comes (otherwise on exit)"},
		&cli.BoolFlag{Name: "no-promiscuous-mode", Aliases: []string{"p"}, Usage: "do not put the interface in promiscuous mode"},
		&cli.IntFlag{Name: "count", Aliases: []string{"c"}, Usage: "stop after `N` frames"},
		&cli.IntFlag{Name: "snapshot-length", Aliases: []string{"s", "snaplen"}, Value: capture.MaxSnaplen, Usage: "keep at most `BYTES` of each frame"},
		&cli.BoolFlag{Name: "n", Usage: "numeric output (always on: watch never resolves names)"},
		&cli.BoolFlag{Name: "v", Usage: "more detail (-vv: more still)"},
		&cli.BoolFlag{Name: "e", Usage: "print the link-level header"},
		&cli.BoolFlag{Name: "x", Usage: "hex dump from the network header (-xx: from the link header)"},
		&cli.BoolFlag{Name: "X", Usage: "as -x, with ASCII (-XX: from the link header)"},
		&cli.BoolFlag{Name: "A", Usage: "print each frame in ASCII from the network header (-AA: from the link header)"},
		&cli.BoolFlag{Name: "number", Aliases: []string{"#"}, Usage: "number the frames"},
		&cli.BoolFlag{Name: "t", Usage: "no time (-tt unix time, -ttt delta, -tttt date, -ttttt since the first)"},
		&cli.BoolFlag{Name: "dont-verify-checksums", Aliases: []string{"K"}, Usage: "do not verify IP, TCP and UDP checksums"},
		&cli.BoolFlag{Name: "absolute-tcp-sequence-numbers", Aliases: []string{"S"}, Usage: "print TCP sequence numbers as they are, not relative"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "less protocol detail"},
		&cli.BoolFlag{Name: "json", Usage: "one JSON object per frame"},
	}, rotateFlags()...)
}

// watchRequest is watch's command line, checked.
type watchRequest struct {
	iface, file, out string
	filter           string
	snaplen          int
	dir              capture.Direction
	link             craft.LinkType
	linkName         string
	stampType        string
	nano             bool
}

// readWatchRequest checks the command line as tcpdump does, in its words.
func readWatchRequest(c *cli.Context, name string) (*watchRequest, error) {
	r := &watchRequest{iface: c.String("interface"), file: c.String("read"), out: c.String("write"), snaplen: c.Int("snapshot-length")}
	fail := func(format string, a ...any) error {
		return worded{name + ": " + fmt.Sprintf(format, a...), exitTcpdumpError}
	}
	switch {
	case r.iface != "" && r.file != "":
		return nil, usagef("watch takes -i or -r, not both")
	case c.IsSet("count") && c.Int("count") <= 0:
		return nil, usagef("-c %d: give a positive number of frames", c.Int("count"))
	case r.out == "-" && c.Bool("print"):
		// tcpdump interleaves the lines with the file in one stdio buffer,
		// which no reader can take apart.
		return nil, usagef("--print with -w -: the lines would be mixed into the file on standard output; write the file elsewhere")
	case r.snaplen <= 0 || r.snaplen > capture.MaxSnaplen:
		return nil, usagef("-s %d: give 1 to %d bytes", r.snaplen, capture.MaxSnaplen)
	}
	if q := c.String("direction"); c.IsSet("direction") {
		d, ok := capture.ParseDirection(strings.ToLower(q))
		if !ok {
			return nil, fail("unknown capture direction `%s'", q)
		}
		r.dir = d
	}
	if y := c.String("linktype"); c.IsSet("linktype") {
		l, ok := libpcap.ParseLinkType(y)
		if !ok {
			return nil, fail("invalid data link type %s", y)
		}
		r.link, r.linkName = l, y
	}
	if j := c.String("time-stamp-type"); c.IsSet("time-stamp-type") {
		if !libpcap.ParseTimestampType(j) {
			return nil, fail("invalid time stamp type %s", j)
		}
		r.stampType = j
	}
	r.nano = c.Bool("nano") && !c.Bool("micro")
	if p := c.String("time-stamp-precision"); c.IsSet("time-stamp-precision") {
		switch p {
		case "micro":
			r.nano = false
		case "nano":
			r.nano = true
		default:
			return nil, fail("unsupported time stamp precision")
		}
	}
	r.filter = strings.Join(c.Args().Slice(), " ")
	if f := c.String("F"); f != "" {
		text, err := filterFile(f)
		if err != nil {
			return nil, fail("%s", err)
		}
		r.filter = text
	}
	return r, nil
}

// filterFile is tcpdump's read_infile: the file's text, from each '#' to
// the end of its line blanked.
func filterFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) && pe.Op == "open" {
			return "", fmt.Errorf("can't open %s: %s", path, resolve.SystemText(err))
		}
		return "", fmt.Errorf("read %s: %s", path, cmp.Or(resolve.SystemText(err), err.Error()))
	}
	for i := 0; i < len(b); i++ {
		if b[i] == '#' {
			for ; i < len(b) && b[i] != '\n'; i++ {
				b[i] = ' '
			}
		}
	}
	return string(b), nil
}

// watchInterface is the interface a live capture opens: the one asked, a
// number counted in -D's list (when no interface has that name), or
// tcpdump's default, the first of pcap_findalldevs's list, which puts up
// and running interfaces before the others and loopback last of them.
func watchInterface(name, iface string) (string, error) {
	if iface != "" {
		n, err := strconv.Atoi(iface)
		if _, nerr := net.InterfaceByName(iface); nerr == nil || err != nil || iface == "any" {
			return iface, nil
		}
		if n <= 0 {
			return "", worded{name + ": Invalid adapter index", exitTcpdumpError}
		}
		devs, err := libpcap.Devices()
		switch {
		case err != nil:
			return "", err
		case n > len(devs):
			return "", worded{name + ": Invalid adapter index", exitTcpdumpError}
		}
		return devs[n-1].Name, nil
	}
	devs, err := libpcap.Devices()
	switch {
	case err != nil:
		return "", err
	case len(devs) == 0:
		return "", worded{name + ": no interfaces available for capture", exitTcpdumpError}
	}
	return devs[0].Name, nil
}

func runWatch(c *cli.Context) error {
	// tcpdump checks these as it reads its options, before -D.
	if _, err := readRotation(c, filepath.Base(prog(c))); err != nil {
		return err
	}
	if c.Bool("list-interfaces") {
		return listDevices(c)
	}
	// tcpdump names itself by the base of argv[0].
	name, stderr := filepath.Base(prog(c)), c.App.ErrWriter
	r, err := readWatchRequest(c, name)
	if err != nil {
		return err
	}
	ctx, stop := watchContext(c.Context)
	defer stop()
	if r.file == "" {
		// tcpdump asks for LINUX_SLL2 as if -y had been given when -i
		// names any (by a name starting so, as its strncmp checks); its
		// default interface or a number in -D's list stays LINUX_SLL.
		if r.link == 0 && strings.HasPrefix(r.iface, "any") {
			r.link, r.linkName = craft.LinkTypeLinuxSLL2, "LINUX_SLL2"
		}
		if r.iface, err = watchInterface(name, r.iface); err != nil {
			return watchError(c, name, err, false)
		}
		switch {
		case c.Bool("list-data-link-types"):
			return listDataLinks(c, name, r.iface)
		case c.Bool("list-time-stamp-types"):
			return listTimestampTypes(c, name, r.iface)
		}
	}
	src, hdr, err := libpcap.OpenContext(ctx, libpcap.Options{Interface: r.iface, File: r.file, Filter: r.filter, Snaplen: r.snaplen, Promisc: !c.Bool("no-promiscuous-mode"),
		Direction: r.dir, Link: r.link, TimestampType: r.stampType,
		FileOpened: func(h libpcap.Header) {
			fmt.Fprintf(stderr, "reading from file %s, %s, snapshot length %d\n", r.file, linkTypeText(h.Link), h.Snaplen)
			if h.Link == craft.LinkTypeLinuxSLL2 {
				fmt.Fprintln(stderr, "Warning: interface names might be incorrect")
			}
		}})
	if err != nil {
		return watchError(c, name, err, false)
	}
	defer src.Close()
	// Nothing after this point needs privilege: the capture is open.
	if err := watchRelinquish(name, c.String("relinquish-privileges")); err != nil {
		return watchError(c, name, err, false)
	}
	if r.file == "" {
		for _, w := range hdr.Warnings {
			fmt.Fprintf(stderr, "%s: %s\n", name, w)
		}
		if r.link != 0 {
			fmt.Fprintf(stderr, "%s: data link type %s\n", name, cmp.Or(linkTypeName(hdr.Link), r.linkName))
		}
		// tcpdump's two lines, or one under -v or -w.
		if c.Count("v") == 0 && r.out == "" {
			fmt.Fprintf(stderr, "%s: verbose output suppressed, use -v[v]... for full protocol decode\n", name)
		} else {
			fmt.Fprintf(stderr, "%s: ", name)
		}
		fmt.Fprintf(stderr, "listening on %s, %s, snapshot length %d bytes\n", r.iface, linkTypeText(hdr.Link), hdr.Snaplen)
	}

	stdout := io.Writer(c.App.Writer)
	if r.file == "" {
		// A live capture is stopped by a signal, which must not wait on
		// a reader that does not read.
		stdout = watchOutput(ctx, stdout)
	}
	lo := &capture.LoopOptions{Count: c.Int("count")}
	var closeFile func() error
	switch {
	case r.out != "" && !c.Bool("print"):
	case c.Bool("json"):
		lo.Frame = tcpdump.NewLinkJSONWriter(linesOutput{stdout}, hdr.Link).Print
	default:
		// Every link type prints: those the printer does not decode as
		// tcpdump's "unsupported" printer dumps them.
		pr, err := tcpdump.NewLinkPrinter(linesOutput{stdout}, hdr.Link, printOptions(c, r))
		if err != nil {
			return err
		}
		lo.Frame = pr.Print
	}
	// The output file is created only once the capture is open, so bad
	// input never leaves an empty file behind.
	if r.out != "" {
		o := capture.FileOptions{Link: hdr.Link, LinkExt: hdr.LinkExt, Snaplen: r.snaplen, PcapNG: c.Bool("pcapng"), PacketBuffered: c.Bool("packet-buffered"), Keep: hdr.File, Nano: r.nano,
			Interface: r.iface, Application: "pingcraft " + version}
		if r.file != "" {
			o.Snaplen = hdr.Snaplen // tcpdump copies the file's, -s or not
		}
		rw, closeRun, err := newRotation(c, name, r.out, o)
		if err != nil && !errors.Is(err, capture.ErrSameFile) {
			return err
		}
		if rw != nil {
			lo.File, closeFile = rw, closeRun
		} else if err == nil {
			var fw *capture.FileWriter
			if r.out == "-" {
				fw, err = capture.NewFileWriter(stdout, "standard output", o)
			} else {
				fw, err = capture.CreateFile(r.out, o)
			}
			if err == nil {
				lo.File, closeFile = fw, fw.Close
			}
		}
		if errors.Is(err, capture.ErrSameFile) {
			return worded{fmt.Sprintf("%s: -w %s is the file -r %s reads (the same device and inode): write to another file", name, r.out, r.file), exitTcpdumpError}
		}
		if err != nil {
			return watchError(c, name, err, false)
		}
	}

	n, err := capture.Loop(ctx, src, lo)
	if closeFile != nil {
		if cerr := closeFile(); err == nil {
			err = cerr
		}
	}
	// -G -W's last file: a normal stop.
	err = rotationStop(c, err, n.Live)
	var oe *outputError
	if errors.As(err, &oe) && r.out == "" {
		// tcpdump's ndo_error: no counts.
		return worded{fmt.Sprintf("%s: Unable to write output: %s", name, cmp.Or(resolve.SystemText(oe.err), oe.err.Error())), exitTcpdumpWrite}
	}
	if errors.Is(err, syscall.EPIPE) && r.out == "-" {
		err = nil // the reader of the file is gone: a stop, as tcpdump's SIGPIPE
	}
	if n.Live && r.out == "" && !c.Bool("json") && ctx.Err() != nil {
		// tcpdump's newline after a break, in case a line was cut short;
		// not in pingcraft's JSON lines, where an empty one is no object.
		fmt.Fprint(stdout, "\n")
	}
	if n.Live {
		fmt.Fprintf(stderr, "%d packet%s captured\n%d packet%s received by filter\n%d packet%s dropped by kernel\n",
			n.Captured, plural(n.Captured), n.Received, plural(n.Received), n.Dropped, plural(n.Dropped))
	}
	if err != nil {
		return watchError(c, name, err, true)
	}
	return nil
}

// watchRelinquish is relinquish; tests that run watch inside the test
// binary keep their privileges.
var watchRelinquish = relinquish

// linkTypeName is libpcap's name of link, "" if it has none.
func linkTypeName(link craft.LinkType) string {
	name, _, _ := libpcap.LinkTypeName(link)
	return name
}

// plural is tcpdump's PLURAL_SUFFIX.
func plural(n uint64) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// watchContext ends with c, and with the signals on which tcpdump stops as
// on SIGINT: SIGHUP (unless ignored, as under nohup) and SIGPIPE, which
// Go would otherwise die of on standard output.
func watchContext(ctx context.Context) (context.Context, context.CancelFunc) {
	sigs := []os.Signal{syscall.SIGPIPE}
	if !signal.Ignored(syscall.SIGHUP) {
		sigs = append(sigs, syscall.SIGHUP)
	}
	return signal.NotifyContext(ctx, sigs...)
}

// listDataLinks is tcpdump -L, on standard error as there.
func listDataLinks(c *cli.Context, name, iface string) error {
	dls, err := libpcap.DataLinks(iface)
	if err != nil {
		return watchError(c, name, err, false)
	}
	if len(dls) == 0 {
		return worded{name + ": No data link types.", exitTcpdumpError}
	}
	w := c.App.ErrWriter
	fmt.Fprintf(w, "Data link types for %s (use option -y to set):\n", iface)
	for _, d := range dls {
		fmt.Fprintf(w, "  %s (%s)", d.Name, d.Description)
		if !tcpdump.Decodes(d.Link) {
			fmt.Fprint(w, " (printing not supported)")
		}
		fmt.Fprintln(w)
	}
	return nil
}

// listTimestampTypes is tcpdump -J, on standard error as there.
func listTimestampTypes(c *cli.Context, name, iface string) error {
	ts, err := libpcap.TimestampTypes(iface)
	if err != nil {
		return watchError(c, name, err, false)
	}
	w := c.App.ErrWriter
	if len(ts) == 0 {
		fmt.Fprintf(w, "Time stamp type cannot be set for %s\n", iface)
		return nil
	}
	fmt.Fprintf(w, "Time stamp types for %s (use option -j to set):\n", iface)
	for _, t := range ts {
		fmt.Fprintf(w, "  %s (%s)\n", t.Name, t.Description)
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

// exitTcpdumpError is tcpdump's exit code for every error but a failed
// write of its lines, exitTcpdumpWrite (S_ERR_ND_WRITE_FILE).
const (
	exitTcpdumpError = 1
	exitTcpdumpWrite = 14
)

// watchError words err as tcpdump does: libpcap's message after the
// program's name (and "pcap_loop: " once frames were read), exit 1. Ctrl-C
// before the source opened exits as a process killed by SIGINT does.
func watchError(c *cli.Context, name string, err error, looping bool) error {
	var w worded
	if errors.As(err, &w) {
		return w
	}
	var fe *capture.FormatError
	var ce *libpcap.CompileError
	var de *libpcap.DeviceError
	switch {
	case errors.Is(err, context.Canceled) && c.Context.Err() != nil:
		return worded{"", 128 + 2}
	case errors.As(err, &fe) && looping && !fe.Opening:
		return worded{name + ": pcap_loop: " + fe.Msg, exitTcpdumpError}
	case errors.As(err, &fe):
		return worded{name + ": " + fe.Msg, exitTcpdumpError}
	case errors.As(err, &ce):
		return worded{name + ": " + ce.Msg, exitTcpdumpError}
	case errors.As(err, &de):
		return worded{name + ": " + de.Msg, exitTcpdumpError}
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

// printOptions reads tcpdump's printing flags; -v, -x, -X, -A and -t count.
func printOptions(c *cli.Context, r *watchRequest) *tcpdump.PrintOptions {
	o := &tcpdump.PrintOptions{Verbose: c.Count("v"), Ether: c.Bool("e"), Quiet: c.Bool("quiet"),
		Text: min(c.Count("A"), 2), Number: c.Bool("number"), Nano: r.nano,
		NoChecksums: c.Bool("dont-verify-checksums"), AbsoluteSeq: c.Bool("absolute-tcp-sequence-numbers")}
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
