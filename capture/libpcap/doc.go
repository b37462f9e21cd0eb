// Package libpcap is the part of capture that links libpcap (through
// gopacket/pcap): it compiles filter expressions (pcap-filter(7)) into
// classic BPF with pcap_compile on a dead handle, so no Linux BPF extensions
// are used and golang.org/x/net/bpf runs the same program; and it captures
// on every interface at once (-i any) with libpcap's own cooked capture,
// since gopacket/afpacket hands out neither the packet type nor the
// link-layer address the cooked header needs.
//
// Open is where a capture named by user input (an interface or a file, an
// expression, a snap length) becomes a capture.Source: the expression is
// compiled for the ring's link type and run in the kernel, or run in user
// space on a file's frames.
//
// Compiling needs cgo; the cooked capture needs Linux and cgo. Elsewhere
// they return errors wrapping errors.ErrUnsupported.
package libpcap
