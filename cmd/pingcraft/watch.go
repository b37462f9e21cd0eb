package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/urfave/cli/v2"

	"github.com/pingcraft/pingcraft/capture"
	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/tcpdump"
)

// watchFlags counts the repeatable flags (-vv, -xx, -XX, -ttt).
type watchFlags struct {
	verbose, hex, ascii, stamp int
}

func watchCommand() *cli.Command {
	var wf watchFlags
	return &cli.Command{
		Name:      "watch",
		Usage:     "capture and decode traffic as tcpdump does, from an interface or a pcap file",
		ArgsUsage: "[FILTER EXPRESSION...]",
		Description: `Frames come from a TPACKET_V3 ring on -i IFACE (-i any: libpcap's cooked
capture on every interface), with the libpcap filter
expression compiled by libpcap and run in the kernel, or from a pcap or
pcapng file with -r, the same filter run in user space. Lines are tcpdump's;
addresses are never resolved to names. On exit the counts go to stderr.`,
		UseShortOptionHandling: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "interface", Aliases: []string{"i"}, Usage: "capture on `IFACE`"},
			&cli.StringFlag{Name: "read", Aliases: []string{"r"}, Usage: "read frames from `FILE` (pcap or pcapng)"},
			&cli.StringFlag{Name: "write", Aliases: []string{"w"}, Usage: "write frames to `FILE` (pcap; pcapng with --pcapng)"},
			&cli.BoolFlag{Name: "pcapng", Usage: "write pcapng instead of pcap"},
			&cli.BoolFlag{Name: "U", Usage: "with -w, write each frame to the file as it comes (otherwise on exit)"},
			&cli.IntFlag{Name: "count", Aliases: []string{"c"}, Usage: "stop after `N` frames"},
			&cli.IntFlag{Name: "snaplen", Aliases: []string{"s"}, Value: capture.MaxSnaplen, Usage: "keep at most `BYTES` of each frame"},
			&cli.BoolFlag{Name: "n", Usage: "numeric output (always on: watch never resolves names)"},
			&cli.BoolFlag{Name: "v", Count: &wf.verbose, Usage: "more detail (-vv: more still)"},
			&cli.BoolFlag{Name: "e", Usage: "print the link-level header"},
			&cli.BoolFlag{Name: "x", Count: &wf.hex, Usage: "hex dump from the network header (-xx: from the link header)"},
			&cli.BoolFlag{Name: "X", Count: &wf.ascii, Usage: "as -x, with ASCII (-XX: from the link header)"},
			&cli.BoolFlag{Name: "t", Count: &wf.stamp, Usage: "no time (-tt unix time, -ttt delta, -tttt date, -ttttt since the first)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "less protocol detail"},
			&cli.BoolFlag{Name: "json", Usage: "one JSON object per frame"},
		},
		Action: func(c *cli.Context) error { return runWatch(c, &wf) },
	}
}

// frameSource is a ring, a cooked capture or a file.
type frameSource interface {
	ReadPacket() ([]byte, gopacket.CaptureInfo, error)
}

// liveCapture is a ring or a cooked capture: it counts what it saw.
type liveCapture interface {
	Stats() (capture.Stats, error)
}

func runWatch(c *cli.Context, wf *watchFlags) error {
	iface, file, out := c.String("interface"), c.String("read"), c.String("write")
	expr := strings.Join(c.Args().Slice(), " ")
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
	stderr := c.App.ErrWriter

	var src frameSource
	var link craft.LinkType
	var live liveCapture
	if file != "" {
		r, err := capture.OpenFile(file)
		if err != nil {
			return err
		}
		defer r.Close()
		link = craft.LinkTypeOf(r.LinkType())
		filter, err := capture.NewFilter(link, r.Snaplen(), expr)
		if err != nil {
			return err
		}
		snaplen = min(snaplen, r.Snaplen())
		src = &filteredFile{r: r, f: filter}
		fmt.Fprintf(stderr, "reading from file %s, %s, snapshot length %d\n", file, linkName(link), r.Snaplen())
	} else if iface == "any" {
		cooked, err := capture.OpenCooked(&capture.Config{Interface: iface, Snaplen: snaplen}, expr)
		if err != nil {
			return err
		}
		defer cooked.Close()
		src, live, link = cooked, cooked, craft.LinkTypeLinuxSLL
		fmt.Fprintf(stderr, "pingcraft: listening on any, %s, snapshot length %d bytes\n", linkName(link), snaplen)
	} else {
		ifi, err := net.InterfaceByName(iface)
		if err != nil {
			return fmt.Errorf("watch: interface %s: %w: see 'ip link' for the names", iface, err)
		}
		l, capLink := craft.LinkTypeEthernet, layers.LinkTypeEthernet
		if len(ifi.HardwareAddr) != 6 && ifi.Flags&net.FlagLoopback == 0 {
			l, capLink = craft.LinkTypeRaw, layers.LinkTypeRaw // tun and other links without framing
		}
		prog, err := capture.CompileFilter(capLink, snaplen, expr)
		if err != nil {
			return err
		}
		ring, err := capture.OpenRing(&capture.Config{Interface: iface, Snaplen: snaplen, Program: prog, Link: capLink})
		if err != nil {
			return err
		}
		defer ring.Close()
		src, live, link = ring, ring, l
		fmt.Fprintf(stderr, "pingcraft: listening on %s, %s, snapshot length %d bytes\n", iface, linkName(link), snaplen)
	}

	// The output file is created only once the capture is open, so bad
	// input never leaves an empty file behind.
	var w *capture.FileWriter
	if out != "" {
		var err error
		if w, err = capture.CreateFile(out, layers.LinkType(link), snaplen, c.Bool("pcapng"), c.Bool("U")); err != nil {
			return err
		}
		defer w.Close()
	}
	var emit func([]byte, gopacket.CaptureInfo) error
	switch {
	case c.Bool("json"):
		emit = jsonFrames(c.App.Writer, link)
	case out == "":
		pr, err := tcpdump.NewPrinter(c.App.Writer, layers.LinkType(link), printOptions(c, wf))
		if err != nil {
			return err
		}
		emit = pr.Print
	}

	captured, st, err := watchLoop(c.Context, src, live, c.Int("count"), w, emit)
	if w != nil {
		if cerr := w.Close(); err == nil {
			err = cerr
		}
	}
	if live != nil {
		fmt.Fprintf(stderr, "%d packets captured\n%d packets received by filter\n%d packets dropped by kernel\n",
			captured, st.Packets, st.Drops)
	}
	return err
}

// watchLoop reads frames until count, the end of the file, an error or the
// context's end, writing and printing each, and returns how many it
// captured and the capture's counters. When the context ends a live
// capture first reads what the ring held at that moment, so that captured +
// dropped = received by filter, every frame the filter passed accounted.
func watchLoop(ctx context.Context, src frameSource, live liveCapture, count int, w *capture.FileWriter, emit func([]byte, gopacket.CaptureInfo) error) (int, capture.Stats, error) {
	captured, err := 0, error(nil)
	var final *capture.Stats // the counters when asked to stop
	var drainEnd time.Time
read:
	for err == nil && (count == 0 || captured < count) {
		if ctx.Err() != nil {
			if live == nil {
				break
			}
			if final == nil {
				st, serr := live.Stats()
				if serr != nil {
					return captured, st, serr
				}
				final, drainEnd = &st, time.Now().Add(drainFor)
			}
			if uint64(captured)+final.Drops >= final.Packets || time.Now().After(drainEnd) {
				break
			}
		}
		data, ci, rerr := src.ReadPacket()
		switch {
		case errors.Is(rerr, capture.ErrTimeout):
			continue
		case errors.Is(rerr, io.EOF):
			break read
		case rerr != nil:
			err = rerr
			continue
		}
		captured++
		if w != nil {
			err = w.WritePacket(ci, data)
		}
		if err == nil && emit != nil {
			err = emit(data, ci)
		}
	}
	var st capture.Stats
	switch {
	case final != nil:
		st = *final
	case live != nil:
		var serr error
		if st, serr = live.Stats(); err == nil {
			err = serr
		}
	}
	return captured, st, err
}

// drainFor bounds the final read of a live capture behind a slow output.
const drainFor = 10 * time.Second

// filteredFile passes a file's frames through the user-space filter.
type filteredFile struct {
	r *capture.FileReader
	f *capture.Filter
}

func (ff *filteredFile) ReadPacket() ([]byte, gopacket.CaptureInfo, error) {
	for {
		data, ci, err := ff.r.ReadPacket()
		if err != nil || ff.f.Match(data) {
			return data, ci, err
		}
	}
}

func printOptions(c *cli.Context, wf *watchFlags) *tcpdump.PrintOptions {
	o := &tcpdump.PrintOptions{Verbose: wf.verbose, Ether: c.Bool("e"), Quiet: c.Bool("quiet")}
	switch {
	case wf.ascii > 0:
		o.Hex, o.ASCII = min(wf.ascii, 2), true
	case wf.hex > 0:
		o.Hex = min(wf.hex, 2)
	}
	o.Stamp = []tcpdump.Stamp{tcpdump.StampTime, tcpdump.StampNone, tcpdump.StampUnix, tcpdump.StampDelta,
		tcpdump.StampDate, tcpdump.StampSinceFirst}[min(wf.stamp, 5)]
	return o
}

// linkName is how tcpdump names a link type in its first line.
func linkName(l craft.LinkType) string {
	switch l {
	case craft.LinkTypeEthernet:
		return "link-type EN10MB (Ethernet)"
	case craft.LinkTypeRaw:
		return "link-type RAW (Raw IP)"
	case craft.LinkTypeLinuxSLL:
		return "link-type LINUX_SLL (Linux cooked v1)"
	case craft.LinkTypeLinuxSLL2:
		return "link-type LINUX_SLL2 (Linux cooked v2)"
	case craft.LinkTypeIPv4:
		return "link-type IPV4 (Raw IPv4)"
	case craft.LinkTypeIPv6:
		return "link-type IPV6 (Raw IPv6)"
	}
	return fmt.Sprintf("link-type %d", l)
}

// jsonFrame is one line of watch --json.
type jsonFrame struct {
	Time      time.Time `json:"time"`
	Length    int       `json:"length"`
	Captured  int       `json:"captured"`
	Class     string    `json:"class"`
	Src       string    `json:"src,omitempty"`
	Dst       string    `json:"dst,omitempty"`
	TTL       uint8     `json:"ttl,omitempty"`
	ID        *uint16   `json:"id,omitempty"`
	Seq       *uint16   `json:"seq,omitempty"`
	IPSum     *jsonSum  `json:"ip_checksum,omitempty"`
	ICMPSum   *jsonSum  `json:"icmp_checksum,omitempty"`
	Error     string    `json:"error,omitempty"`
	Truncated bool      `json:"truncated,omitempty"`
	Malformed string    `json:"malformed,omitempty"`
}

// jsonSum is a checksum as received, as it should be, and the verdict.
type jsonSum struct {
	Got    string `json:"got"`
	Want   string `json:"want"`
	Status string `json:"status"`
}

func sumOf(c craft.Checksum) *jsonSum {
	if c.Status == 0 {
		return nil
	}
	return &jsonSum{Got: fmt.Sprintf("0x%04x", c.Got), Want: fmt.Sprintf("0x%04x", c.Want), Status: c.Status.String()}
}

// jsonFrames writes one JSON object per frame, from craft's decoding.
func jsonFrames(w io.Writer, link craft.LinkType) func([]byte, gopacket.CaptureInfo) error {
	enc := json.NewEncoder(w)
	dec, derr := craft.NewDecoder(link)
	var p craft.Packet
	return func(data []byte, ci gopacket.CaptureInfo) error {
		o := jsonFrame{Time: ci.Timestamp, Length: ci.Length, Captured: ci.CaptureLength, Class: "undecoded"}
		if derr == nil {
			err := dec.Decode(data, &p)
			o.Class = p.Class.String()
			if p.Src.IsValid() {
				o.Src, o.Dst, o.TTL = p.Src.String(), p.Dst.String(), p.TTL
			}
			switch p.Class {
			case craft.ClassEchoRequest, craft.ClassEchoReply:
				id, seq := p.ID, p.Seq
				o.ID, o.Seq = &id, &seq
			case craft.ClassError:
				o.Error = p.Error.String()
			}
			o.IPSum, o.ICMPSum = sumOf(p.IPChecksum), sumOf(p.ICMPChecksum)
			o.Truncated, o.Malformed = p.Truncated, p.Malformed
			if err != nil && o.Malformed == "" {
				o.Malformed = err.Error()
			}
		}
		return enc.Encode(&o)
	}
}
