package main

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/google/gopacket"
	"github.com/urfave/cli/v2"

	"github.com/pingcraft/pingcraft/capture"
	"github.com/pingcraft/pingcraft/craft"
)

// craftHelp is craft's help beyond its usage line.
const craftHelp = `Without TARGET, shows the classic checksum bug on a known answer: an echo
request (id 69, seq 420, data 01 02 03 04) from 192.168.50.161 to 1.1.1.1,
once with the checksum over header and payload (0xf210) and once over the
8-byte header alone (0xf616), the value receivers drop.`

func craftFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "depth", Value: "ip", Usage: "what to build: ethernet, ip or icmp"},
		&cli.StringFlag{Name: "source", Aliases: []string{"S"}, Usage: "source `ADDRESS` (required for ip and ethernet depth)"},
		&cli.StringFlag{Name: "src-mac", Usage: "source `MAC` (ethernet depth)"},
		&cli.StringFlag{Name: "dst-mac", Usage: "destination `MAC` (ethernet depth)"},
		&cli.StringFlag{Name: "id", Value: "0", Usage: "ICMP identifier, 0 to 65535"},
		&cli.StringFlag{Name: "seq", Value: "1", Usage: "ICMP sequence number, 0 to 65535"},
		&cli.IntFlag{Name: "size", Aliases: []string{"s"}, Value: 56, Usage: "payload `BYTES`"},
		&cli.StringFlag{Name: "ttl", Aliases: []string{"t"}, Value: strconv.Itoa(craft.DefaultTTL), Usage: "TTL or hop limit, 1 to 255"},
		&cli.StringFlag{Name: "tos", Aliases: []string{"Q"}, Value: "0", Usage: "TOS or traffic class, 0 to 255"},
		&cli.BoolFlag{Name: "df", Usage: "set IPv4 don't-fragment"},
		&cli.StringFlag{Name: "icmp-type", Value: "echo", Usage: "the query: echo, timestamp, mask or info (IPv4 only but echo)"},
		&cli.StringFlag{Name: "pattern", Aliases: []string{"p"}, Usage: "fill `HEX` pattern, up to 16 bytes"},
		&cli.BoolFlag{Name: "bad-checksum", Usage: "write the classic header-only ICMP checksum"},
		&cli.BoolFlag{Name: "bad-ip-checksum", Usage: "write a wrong IPv4 header checksum"},
		&cli.StringFlag{Name: "write", Aliases: []string{"w"}, Usage: "also write the packet to `FILE` as pcap (--depth ip: raw IP; ethernet: EN10MB)"},
	}
}

func runCraft(c *cli.Context) error {
	if c.NArg() == 0 {
		return craftKnownAnswer(c.App.Writer)
	}
	if c.NArg() > 1 {
		return usagef("craft takes one TARGET, got %d: %s", c.NArg(), strings.Join(c.Args().Slice(), " "))
	}
	e, depth, err := echoFromFlags(c)
	if err != nil {
		return err
	}
	if path := c.String("write"); path != "" {
		if err := writeProbe(path, e, depth); err != nil {
			return err
		}
	}
	return showProbe(c.App.Writer, "", e, depth)
}

func echoFromFlags(c *cli.Context) (*craft.Echo, craft.Depth, error) {
	var depth craft.Depth
	switch c.String("depth") {
	case "ethernet":
		depth = craft.DepthEthernet
	case "ip":
		depth = craft.DepthIP
	case "icmp":
		depth = craft.DepthICMP
	default:
		return nil, 0, usagef("--depth %q: use ethernet, ip or icmp", c.String("depth"))
	}
	dst, err := netip.ParseAddr(c.Args().First())
	if err != nil {
		return nil, 0, usagef("target %q is not an IP address: give an IPv4 or IPv6 literal", c.Args().First())
	}
	e := &craft.Echo{Dst: dst}
	if s := c.String("source"); s != "" {
		if e.Src, err = netip.ParseAddr(s); err != nil {
			return nil, 0, usagef("--source %q is not an IP address", s)
		}
	}
	for _, m := range []struct {
		flag string
		to   *net.HardwareAddr
	}{{"src-mac", &e.SrcMAC}, {"dst-mac", &e.DstMAC}} {
		if s := c.String(m.flag); s != "" {
			if *m.to, err = net.ParseMAC(s); err != nil {
				return nil, 0, usagef("--%s %q is not a MAC address: use the form 02:00:00:00:00:01", m.flag, s)
			}
		}
	}
	if depth == craft.DepthEthernet && (e.SrcMAC == nil || e.DstMAC == nil) {
		return nil, 0, usagef("--depth ethernet needs --src-mac and --dst-mac")
	}
	if depth != craft.DepthICMP && !e.Src.IsValid() {
		return nil, 0, usagef("--depth %s needs --source ADDRESS", depth)
	}
	var v [4]uint64
	for i, f := range []struct {
		name     string
		min, max uint64
	}{{"id", 0, 0xffff}, {"seq", 0, 0xffff}, {"ttl", 1, 255}, {"tos", 0, 255}} {
		// Base 0: 0x10 and 010 as C's strtoul reads them.
		n, err := strconv.ParseUint(c.String(f.name), 0, 64)
		if err != nil || n < f.min || n > f.max {
			return nil, 0, usagef("--%s %q: give a whole number from %d to %d", f.name, c.String(f.name), f.min, f.max)
		}
		v[i] = n
	}
	e.ID, e.Seq = uint16(v[0]), uint16(v[1])
	e.TTL, e.TOS, e.DontFragment = uint8(v[2]), uint8(v[3]), c.Bool("df")
	max := craft.MaxPayloadIPv4
	if e.Is6() {
		max = craft.MaxPayloadIPv6
	}
	size := c.Int("size")
	if size < 0 || size > max {
		return nil, 0, usagef("--size %d is out of range: use 0 to %d", size, max)
	}
	if e.Query, err = craft.ParseQuery(c.String("icmp-type")); err != nil {
		return nil, 0, usageError{err.Error()}
	}
	if e.Query != craft.QueryEcho {
		if e.Is6() {
			return nil, 0, usagef("--icmp-type %s: ICMPv6 has no %s query; it is ICMPv4's", e.Query, e.Query)
		}
		if c.IsSet("size") || c.IsSet("pattern") {
			return nil, 0, usagef("--icmp-type %s carries no data: leave out -s and -p", e.Query)
		}
		if e.Query == craft.QueryTimestamp {
			e.Times[0] = craft.MillisecondsToday(time.Now())
		}
		return e, depth, craftFaults(c, e)
	}
	pl := craft.Payload{Size: size}
	if p := c.String("pattern"); p != "" {
		if pl.Pattern, err = craft.ParsePattern(p); err != nil {
			return nil, 0, usageError{err.Error()}
		}
	}
	// No run, no key: the authenticator field stays zero.
	e.Payload = pl.Append(nil, &craft.Probe{ID: e.ID, N: uint64(e.Seq), Dst: e.Dst, Sent: time.Now()})
	return e, depth, craftFaults(c, e)
}

func craftFaults(c *cli.Context, e *craft.Echo) error {
	if c.Bool("bad-checksum") {
		e.Faults |= craft.FaultICMPHeaderChecksum
	}
	if c.Bool("bad-ip-checksum") {
		e.Faults |= craft.FaultIPChecksum
	}
	return nil
}

func craftKnownAnswer(w io.Writer) error {
	e := &craft.Echo{
		ID: 69, Seq: 420, Payload: []byte{1, 2, 3, 4},
		Src: netip.MustParseAddr("192.168.50.161"), Dst: netip.MustParseAddr("1.1.1.1"),
	}
	if err := showProbe(w, "checksum over header and payload", e, craft.DepthIP); err != nil {
		return err
	}
	fmt.Fprintln(w)
	e.Faults = craft.FaultICMPHeaderChecksum
	return showProbe(w, "checksum over the 8-byte header only (the classic bug)", e, craft.DepthIP)
}

// writeProbe writes the packet as a one-frame pcap file, for tcpdump,
// tshark or pingcraft replay.
func writeProbe(path string, e *craft.Echo, depth craft.Depth) error {
	link := craft.LinkTypeEthernet
	switch depth {
	case craft.DepthICMP:
		return usagef("-w %s: --depth icmp has no IP header to write: give --depth ip or ethernet", path)
	case craft.DepthIP:
		link = craft.LinkTypeRaw
	}
	buf := gopacket.NewSerializeBuffer()
	if err := e.Serialize(buf, depth); err != nil {
		return err
	}
	w, err := capture.CreateFile(path, capture.FileOptions{Link: link, Snaplen: capture.MaxSnaplen})
	if err != nil {
		return fmt.Errorf("craft: %w", err)
	}
	b := buf.Bytes()
	if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Now(), CaptureLength: len(b), Length: len(b)}, b); err != nil {
		w.Close()
		return fmt.Errorf("craft: %w", err)
	}
	return w.Close()
}

func showProbe(w io.Writer, title string, e *craft.Echo, depth craft.Depth) error {
	dump, err := craft.Dump(e, depth)
	if err != nil {
		return err
	}
	if title != "" {
		fmt.Fprintf(w, "# %s\n", title)
	}
	_, err = io.WriteString(w, dump)
	return err
}
