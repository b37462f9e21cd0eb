package main

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/gopacket"
	"github.com/urfave/cli/v2"

	"github.com/pingcraft/pingcraft/capture"
	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/replay"
	"github.com/pingcraft/pingcraft/resolve"
	"github.com/pingcraft/pingcraft/tcpdump"
)

// frameFlags are send's flags for any frame.
func frameFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "frame", Usage: "send the frame `HEX|FILE.pcap[:N]` (an IP packet with --mode ip), lengths and checksums fixed, and print what comes back"},
		&cli.BoolFlag{Name: "raw", Usage: "with --frame, send the bytes as given: no length or checksum fixed"},
	}
}

// loadFrame reads --frame: a capture file's Nth frame (the first without
// :N), or hex (spaces, colons and a 0x allowed).
func loadFrame(spec string, ip bool) ([]byte, craft.LinkType, error) {
	path, n := spec, 1
	if i := strings.LastIndexByte(spec, ':'); i > 0 {
		if k, err := strconv.Atoi(spec[i+1:]); err == nil {
			if _, serr := os.Stat(spec); serr != nil {
				path, n = spec[:i], k
			}
		}
	}
	if _, err := os.Stat(path); err == nil {
		if n < 1 {
			return nil, 0, usagef("--frame %s: frames are counted from 1", spec)
		}
		r, err := capture.OpenFile(path)
		if err != nil {
			var fe *capture.FormatError
			if errors.As(err, &fe) {
				return nil, 0, usagef("--frame %s: %s", path, fe.Msg)
			}
			return nil, 0, usagef("--frame %s: %s", path, oneLine(err.Error()))
		}
		defer r.Close()
		for i := 1; ; i++ {
			data, ci, err := r.ReadPacket()
			if err != nil {
				return nil, 0, usagef("--frame %s: the file holds %d frames, not %d", spec, i-1, n)
			}
			if i == n {
				if ci.Length > len(data) {
					return nil, 0, usagef("--frame %s: the capture kept %d of its %d bytes: a frame cut short cannot be sent", spec, len(data), ci.Length)
				}
				return bytes.Clone(data), r.Link(), nil
			}
		}
	}
	h := strings.NewReplacer(" ", "", ":", "", "\n", "", "\t", "").Replace(strings.TrimPrefix(strings.TrimPrefix(spec, "0x"), "0X"))
	data, err := hex.DecodeString(h)
	if err != nil || len(data) == 0 {
		return nil, 0, usagef("--frame %q: neither a file nor hex bytes: give a pcap file (FILE.pcap[:N]) or the frame in hex", spec)
	}
	if ip {
		return data, craft.LinkTypeRaw, nil
	}
	return data, craft.LinkTypeEthernet, nil
}

// runFrame is send --frame: one frame out, lengths and checksums fixed
// unless --raw, and every answer that comes back within the timeout
// printed as tcpdump prints it.
func runFrame(c *cli.Context) error {
	mode := c.String("mode")
	if mode != "auto" && mode != "ethernet" && mode != "ip" {
		return usagef("--frame sends at ethernet or ip depth, not --mode %s", mode)
	}
	data, link, err := loadFrame(c.String("frame"), mode == "ip")
	if err != nil {
		return err
	}
	wait := time.Second
	if s := c.String("timeout"); s != "" {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f <= 0 {
			return usagef("-W %s: give the seconds to wait for answers", s)
		}
		wait = time.Duration(f * float64(time.Second))
	}
	// Where it goes: the IP destination's route, or -I.
	var dst netip.Addr
	if d, err := (&replay.Rewrite{}).Destination(link, data, len(data)); err == nil {
		dst = d
	} else if !errors.Is(err, replay.ErrNotIP) {
		return usagef("--frame: %s", err)
	}
	iface := c.String("iface")
	var nextHop net.HardwareAddr
	if dst.IsValid() {
		res, err := resolve.NewBatch()
		if err != nil {
			return err
		}
		p, err := res.Resolve(c.Context, dst.String(), &resolve.Options{Interface: iface})
		res.Close()
		if err != nil {
			return worded{"pingcraft: --frame: " + oneLine(err.Error()), exitError}
		}
		iface, nextHop = p.Interface, p.NextHopMAC
	}
	if iface == "" {
		return usagef("--frame: not an IP packet, so no route says where it goes: give -I IFACE")
	}
	ifi, err := net.InterfaceByName(iface)
	switch {
	case err != nil:
		return usagef("-I %s: no such interface: see 'ip link'", iface)
	case ifi.Flags&net.FlagLoopback != 0:
		return usagef("--frame goes out of %s, loopback, where the kernel drops injected frames: send to an address beyond an Ethernet interface", iface)
	}
	rw := &replay.Rewrite{}
	if link != craft.LinkTypeEthernet {
		// An IP packet gets the interface's and the next hop's MACs.
		if nextHop == nil {
			return worded{fmt.Sprintf("pingcraft: --frame: the next hop for %s did not answer ARP or NDP", dst), exitError}
		}
		rw.SrcMAC = ifi.HardwareAddr
		rw.DstMAC = func(netip.Addr) (net.HardwareAddr, error) { return nextHop, nil }
	}
	frame := data
	var sent *replay.Frame
	switch {
	case c.Bool("raw") && link == craft.LinkTypeEthernet:
		sent, _ = rw.Apply(link, data, len(data)) // for matching only
	case c.Bool("raw"):
		eth := append(append(append([]byte(nil), nextHop...), ifi.HardwareAddr...), 0x08, 0x00)
		if len(data) > 0 && data[0]>>4 == 6 {
			eth[12], eth[13] = 0x86, 0xdd
		}
		frame = append(eth, data...)
		sent, _ = (&replay.Rewrite{}).Apply(craft.LinkTypeEthernet, frame, len(frame))
	default:
		f, err := rw.Apply(link, data, len(data))
		switch {
		case errors.Is(err, replay.ErrNotIP) && link == craft.LinkTypeEthernet:
		case err != nil:
			return usagef("--frame: %s", err)
		default:
			frame, sent = f.Data, f
		}
	}
	if len(frame) < 14 {
		return usagef("--frame: %d bytes are shorter than an Ethernet header", len(frame))
	}
	tx, err := openReplaySocket(ifi)
	if err != nil {
		return err
	}
	defer tx.Close()
	rx, err := openReplayCapture(iface)
	if err != nil {
		return err
	}
	defer rx.Close()
	if err := dropCapabilities(); err != nil {
		return err
	}
	pr, err := tcpdump.NewLinkPrinter(c.App.Writer, craft.LinkTypeEthernet, &tcpdump.PrintOptions{Verbose: 1, Stamp: tcpdump.StampNone})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "> %s: ", iface)
	pr.Print(frame, gopacket.CaptureInfo{Timestamp: time.Now(), CaptureLength: len(frame), Length: len(frame)})
	at := time.Now()
	if err := tx.send(frame); err != nil {
		return worded{fmt.Sprintf("pingcraft: --frame: send on %s: %s", iface, oneLine(err.Error())), exitError}
	}
	answers := 0
	for end := at.Add(wait); time.Now().Before(end) && c.Context.Err() == nil; {
		b, ci, err := rx.ReadPacket()
		if errors.Is(err, capture.ErrTimeout) {
			continue
		}
		if err != nil {
			return worded{"pingcraft: --frame: capture: " + oneLine(err.Error()), exitError}
		}
		if sent == nil {
			continue
		}
		if a, ok := replay.Match(sent, b); ok {
			answers++
			fmt.Fprintf(c.App.Writer, "< %.3f ms, %s: ", float64(ci.Timestamp.Sub(at).Microseconds())/1000, a.Text)
			pr.Print(b, ci)
		}
	}
	if answers == 0 {
		fmt.Fprintf(c.App.Writer, "no answer within %v\n", wait)
		return worded{"", 1}
	}
	return nil
}
