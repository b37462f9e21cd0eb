package libpcap

import (
	"cmp"
	"errors"
	"fmt"
	"net"

	"github.com/google/gopacket/layers"

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
}

// Header is what tcpdump's first line says of an open source, and what a
// pcap file of its frames declares.
type Header struct {
	// Link is how the frames start, as gopacket reports it: LINUX_SLL2
	// as 20, which craft.LinkTypeOf restores.
	Link layers.LinkType
	// Snaplen is the source's snapshot length: the file's, or the one
	// the live capture was opened with.
	Snaplen int
}

// Open opens what o names: a TPACKET_V3 ring on the interface with the
// filter compiled for the ring's link type, libpcap's cooked capture for
// "any", or a file read through the filter in user space. Live sources are
// capture.Live. The caller closes the source.
//
// A ring captures Ethernet frames, except on links without a 6-byte
// hardware address that are not loopback (tun, NOARP, IP tunnels): there it
// captures IP packets (Raw).
func Open(o Options) (capture.Source, Header, error) {
	o.Snaplen = cmp.Or(o.Snaplen, capture.MaxSnaplen)
	switch {
	case o.Interface == "" && o.File == "":
		return nil, Header{}, errors.New("libpcap: nothing to open: give an interface or a file")
	case o.Interface != "" && o.File != "":
		return nil, Header{}, fmt.Errorf("libpcap: interface %s and file %s: give one, not both", o.Interface, o.File)
	case o.File != "":
		return openFile(o)
	case o.Interface == "any":
		c, err := OpenCooked(&CookedConfig{Snaplen: o.Snaplen, Filter: o.Filter})
		if err != nil {
			return nil, Header{}, err
		}
		return c, Header{Link: c.LinkType(), Snaplen: o.Snaplen}, nil
	}
	ifi, err := net.InterfaceByName(o.Interface)
	if err != nil {
		return nil, Header{}, fmt.Errorf("libpcap: interface %s: %w: see 'ip link' for the names", o.Interface, err)
	}
	link := ringLink(ifi)
	prog, err := Compile(link, o.Snaplen, o.Filter)
	if err != nil {
		return nil, Header{}, err
	}
	r, err := capture.OpenRing(&capture.Config{Interface: o.Interface, Snaplen: o.Snaplen, Program: prog, Link: link})
	if err != nil {
		return nil, Header{}, err
	}
	return r, Header{Link: link, Snaplen: o.Snaplen}, nil
}

// ringLink is the link type a ring on ifi captures.
func ringLink(ifi *net.Interface) layers.LinkType {
	if len(ifi.HardwareAddr) != 6 && ifi.Flags&net.FlagLoopback == 0 {
		return layers.LinkTypeRaw
	}
	return layers.LinkTypeEthernet
}

func openFile(o Options) (capture.Source, Header, error) {
	r, err := capture.OpenFile(o.File)
	if err != nil {
		return nil, Header{}, err
	}
	h := Header{Link: r.LinkType(), Snaplen: r.Snaplen()}
	if o.Filter == "" {
		return r, h, nil
	}
	f, err := fileFilter(craft.LinkTypeOf(h.Link), h.Snaplen, o.Filter)
	if err != nil {
		r.Close()
		return nil, Header{}, err
	}
	return capture.Filtered(r, f), h, nil
}

// fileFilter compiles expr for frames of link, to run in user space;
// LINUX_SLL2 frames get a program for LINUX_SLL, as capture.NewFilter
// expects.
func fileFilter(link craft.LinkType, snaplen int, expr string) (*capture.Filter, error) {
	var dlt layers.LinkType
	switch link {
	case craft.LinkTypeEthernet, craft.LinkTypeRaw, craft.LinkTypeLinuxSLL, craft.LinkTypeIPv4, craft.LinkTypeIPv6:
		dlt = layers.LinkType(link)
	case craft.LinkTypeLinuxSLL2:
		dlt = layers.LinkTypeLinuxSLL
	default:
		return nil, fmt.Errorf("libpcap: filter %q: link type %s is not one pingcraft filters: read the file without a filter", expr, link)
	}
	prog, err := Compile(dlt, snaplen, expr)
	if err != nil {
		return nil, err
	}
	return capture.NewFilter(link, prog)
}
