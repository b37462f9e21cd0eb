// Package capture receives frames through a Linux TPACKET_V3 ring (packet(7),
// PACKET_MMAP) with a kernel BPF filter written in libpcap syntax
// (pcap-filter(7)), and counts what the ring drops.
//
// The ring is gopacket's afpacket with three things added: a block timeout
// short enough that a ping reply is handed over in milliseconds (TPACKET_V3
// only wakes the reader when a block retires), a finite poll timeout so that
// readers can check deadlines and contexts, and a Close that never unmaps the
// ring under a reader.
//
// Filters are compiled by libpcap (pcap_compile on a dead handle, so no Linux
// BPF extensions are used) and run in the kernel; the frames captured in the
// instant between opening the socket and attaching the filter are filtered in
// user space by the same program, so a reader never sees a frame its filter
// rejects.
//
// When the interface goes down the kernel sets an error on the socket, which
// afpacket never clears; the ring reads it, returns it once (ENETDOWN) and
// captures again when the interface comes back up.
//
// Frames are whole Ethernet frames, or on links without Ethernet framing
// (Config.Link) IP packets from a SOCK_DGRAM ring.
//
// The ring and filter compilation need Linux and cgo (libpcap); elsewhere
// every function returns an error.
package capture
