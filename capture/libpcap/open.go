package libpcap

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"

	"github.com/google/gopacket/layers"
	"golang.org/x/net/bpf"

	"github.com/pingcraft/pingcraft/capture"
	"github.com/pingcraft/pingcraft/craft"
)

// Options say what Open opens, as tcpdump's -i or -r, -s and filter
// expression do.
type Options struct {
	// Interface is the interface to capture on; "any" captures on every
	// interface, through libpcap's cooked capture. Give Interface or
	// File, not both.
	Interface string
	// File is a pcap or pcapng file to read instead.
	File string
	// Filter is a libpcap filter expression (pcap-filter(7)); "" passes
	// every frame. A live capture runs it in the kernel, a file in user
	// space.
	Filter string
	// Snaplen is the most bytes a live capture keeps of each frame; 0
	// means capture.MaxSnaplen, as tcpdump. A file keeps its own.
	Snaplen int
	// Promisc puts a live capture's interface in promiscuous mode while
	// it is open, as tcpdump does unless -p; "any" hands it to libpcap,
	// which captures on every interface without it.
	Promisc bool
	// Direction is which frames a live capture keeps, as tcpdump -Q.
	Direction capture.Direction
	// Link is the link type asked for, as tcpdump -y; 0 is libpcap's
	// default: LINUX_SLL on any (tcpdump 4.99 asks for LINUX_SLL2 when -i
	// names any), the interface's own otherwise (EN10MB, or RAW on links
	// without Ethernet framing).
	Link craft.LinkType
	// TimestampType is a libpcap time stamp type name, as tcpdump -j; ""
	// is the default, host.
	TimestampType string
	// FileOpened, if not nil, is called once File is open, before Filter
	// is compiled: where tcpdump prints "reading from file", so that a
	// filter libpcap refuses is reported after that line, as there.
	FileOpened func(Header)
}

// Header is what tcpdump's first line says of an open source, and what a
// pcap file of its frames declares.
type Header struct {
	// Link is how the frames start: a LINKTYPE_ value, all of it (a
	// file's 257 is 257, not gopacket's 1).
	Link craft.LinkType
	// LinkExt is the upper bits of a pcap file's link type field, which
	// a copy keeps (capture.FileReader.LinkExt); 0 for live captures.
	LinkExt uint32
	// Snaplen is the source's snapshot length: the file's, or the one
	// the live capture was opened with.
	Snaplen int
	// File describes the file read, nil for a live capture: what -w must
	// not overwrite (capture.FileOptions.Keep).
	File os.FileInfo
	// Warnings are tcpdump's lines for what was asked and not done (a
	// time stamp type the device lacks), to print after its name.
	Warnings []string
}

// CompileError is a filter expression libpcap refuses; Msg is libpcap's
// message (pcap_geterr), which tcpdump prints as it is.
type CompileError struct {
	Expr string
	Msg  string
}

func (e *CompileError) Error() string { return fmt.Sprintf("libpcap: filter %q: %s", e.Expr, e.Msg) }

// Open opens what o names: a TPACKET_V3 ring on the interface with the
// filter compiled for the ring's link type, libpcap's cooked capture for
// "any", or a file read through the filter in user space. Live sources are
// capture.Live. The caller closes the source.
//
// A ring captures Ethernet frames, except on links without a 6-byte
// hardware address that are not loopback (tun, NOARP, IP tunnels): there it
// captures IP packets (Raw).
func Open(o Options) (capture.Source, Header, error) {
	return OpenContext(context.Background(), o)
}

// OpenContext is Open, ended by ctx: a FIFO with no writer is waited for and
// a filter compiled only until ctx ends, and a file's reads end with it.
func OpenContext(ctx context.Context, o Options) (capture.Source, Header, error) {
	o.Snaplen = cmp.Or(o.Snaplen, capture.MaxSnaplen)
	switch {
	case o.Interface == "" && o.File == "":
		return nil, Header{}, errors.New("libpcap: nothing to open: give an interface or a file")
	case o.Interface != "" && o.File != "":
		return nil, Header{}, fmt.Errorf("libpcap: interface %s and file %s: give one, not both", o.Interface, o.File)
	case o.File != "":
		return openFile(ctx, o)
	case o.Interface == "any":
		return openAny(ctx, o)
	}
	ifi, err := net.InterfaceByName(o.Interface)
	if err != nil {
		if devs, derr := Devices(); derr == nil && slices.ContainsFunc(devs, func(d Device) bool { return d.Name == o.Interface }) {
			return nil, Header{}, &DeviceError{fmt.Sprintf("%s: a libpcap pseudo-device, not a network interface: watch captures on network interfaces and any", o.Interface)}
		}
		return nil, Header{}, fmt.Errorf("libpcap: interface %s: %w: see 'ip link' for the names", o.Interface, err)
	}
	if err := capture.RingAvailable(); err != nil {
		// Said first: without the ring, the filter is not what fails.
		return nil, Header{}, fmt.Errorf("libpcap: live capture on %s: %w", o.Interface, err)
	}
	link := ringLink(ifi)
	h := Header{Link: craft.LinkTypeOf(link), Snaplen: o.Snaplen}
	if o.Link != 0 && o.Link != h.Link {
		if !ringLinkAllowed(h.Link, o.Link) {
			return nil, Header{}, notSupportedLink(o.Link)
		}
		h.Link = o.Link // the same frames under another name
	}
	w, err := timestampType(o.Interface, o.TimestampType, true)
	if err != nil {
		return nil, Header{}, err
	}
	if w != "" {
		h.Warnings = append(h.Warnings, w)
	}
	prog, err := compileContext(ctx, h.Link, o.Snaplen, o.Filter)
	if err != nil {
		return nil, Header{}, err
	}
	r, err := capture.OpenRing(&capture.Config{Interface: o.Interface, Snaplen: o.Snaplen, Program: prog, Link: link, Promisc: o.Promisc, Direction: o.Direction})
	if err != nil {
		return nil, Header{}, err
	}
	return r, h, nil
}

// openAny opens libpcap's cooked capture on every interface. The direction,
// and loopback's outgoing copies (which libpcap skips in user space, after
// counting them), are put in the filter, so that libpcap runs them in the
// kernel and the counters count what is captured.
func openAny(ctx context.Context, o Options) (capture.Source, Header, error) {
	link := cmp.Or(o.Link, craft.LinkTypeLinuxSLL)
	if link != craft.LinkTypeLinuxSLL2 && link != craft.LinkTypeLinuxSLL {
		return nil, Header{}, notSupportedLink(link)
	}
	h := Header{Link: link, Snaplen: o.Snaplen}
	w, err := timestampType("any", o.TimestampType, false)
	if err != nil {
		return nil, Header{}, err
	}
	if w != "" {
		h.Warnings = append(h.Warnings, w)
		o.TimestampType = "" // libpcap would refuse it
	}
	// The expression alone first: its errors are libpcap's words for it.
	prog, err := compileContext(ctx, link, o.Snaplen, o.Filter)
	if err != nil {
		return nil, Header{}, err
	}
	if expr := anyFilter(o.Filter, o.Direction, link); expr != o.Filter {
		if prog, err = compileContext(ctx, link, o.Snaplen, expr); err != nil {
			return nil, Header{}, err
		}
	}
	c, err := OpenCooked(&CookedConfig{Snaplen: o.Snaplen, Program: prog, Promisc: o.Promisc, Link: link, TimestampType: o.TimestampType})
	if err != nil {
		return nil, Header{}, err
	}
	return c, h, nil
}

// anyFilter is expr with the direction, and, in SLL2, which names the
// interface, without loopback's outgoing copies.
func anyFilter(expr string, dir capture.Direction, link craft.LinkType) string {
	var parts []string
	switch dir {
	case capture.DirectionIn:
		parts = append(parts, "inbound")
	case capture.DirectionOut:
		parts = append(parts, "outbound")
	}
	if lo, err := net.InterfaceByName("lo"); err == nil && link == craft.LinkTypeLinuxSLL2 && dir != capture.DirectionIn {
		parts = append(parts, fmt.Sprintf("not (outbound and ifindex %d)", lo.Index))
	}
	if len(parts) == 0 {
		return expr
	}
	if expr != "" {
		parts = append(parts, "("+expr+")")
	}
	return strings.Join(parts, " and ")
}

// compileContext compiles aside so that ctx ends the wait: pcap_compile
// cannot be stopped, and an expression can take libpcap long. If ctx ends
// first, the compile finishes unwatched and its result is dropped.
func compileContext(ctx context.Context, link craft.LinkType, snaplen int, expr string) ([]bpf.RawInstruction, error) {
	type result struct {
		prog []bpf.RawInstruction
		err  error
	}
	done := make(chan result, 1)
	go func() {
		prog, err := CompileLink(link, snaplen, expr)
		done <- result{prog, err}
	}()
	select {
	case res := <-done:
		return res.prog, res.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// ringLink is the link type a ring on ifi captures.
func ringLink(ifi *net.Interface) layers.LinkType {
	if len(ifi.HardwareAddr) != 6 && ifi.Flags&net.FlagLoopback == 0 {
		return layers.LinkTypeRaw
	}
	return layers.LinkTypeEthernet
}

func openFile(ctx context.Context, o Options) (capture.Source, Header, error) {
	r, err := capture.OpenFileContext(ctx, o.File)
	if err != nil {
		return nil, Header{}, err
	}
	h := Header{Link: r.Link(), LinkExt: r.LinkExt(), Snaplen: r.Snaplen()}
	if h.File, err = r.Stat(); err != nil {
		r.Close()
		return nil, Header{}, fmt.Errorf("libpcap: %s: %w", o.File, err)
	}
	if o.FileOpened != nil {
		o.FileOpened(h)
	}
	// tcpdump compiles even an empty expression, so a link type libpcap
	// does not know fails here as it does there.
	f, err := fileFilter(ctx, h.Link, h.Snaplen, o.Filter)
	if err != nil {
		r.Close()
		return nil, Header{}, err
	}
	return capture.Filtered(r, f), h, nil
}

// fileFilter compiles expr for frames of link, to run in user space;
// LINUX_SLL2 frames get a program for LINUX_SLL, as capture.NewFilter
// expects. An empty expression gives a nil filter, once libpcap has
// accepted the link type.
func fileFilter(ctx context.Context, link craft.LinkType, snaplen int, expr string) (*capture.Filter, error) {
	dlt := link
	if link == craft.LinkTypeLinuxSLL2 {
		dlt = craft.LinkTypeLinuxSLL
	}
	prog, err := compileContext(ctx, dlt, snaplen, expr)
	if expr == "" && errors.Is(err, errors.ErrUnsupported) {
		return nil, nil // no libpcap to ask; nothing to filter
	}
	if err != nil || expr == "" {
		return nil, err
	}
	return capture.NewFilter(link, prog)
}
