// Package capture is pingcraft's frame I/O: it receives frames through a
// Linux TPACKET_V3 ring (packet(7), PACKET_MMAP) with a classic BPF program
// in the kernel, reads and writes pcap and pcapng files, runs the same BPF
// programs in user space on a file's frames, and reads any of these sources
// in one loop that counts as tcpdump does. Compiling libpcap filter
// expressions and libpcap's cooked capture live in capture/libpcap; printing
// lives in tcpdump.
//
// The ring is gopacket's afpacket with three things added: a block timeout
// short enough that a ping reply is handed over in milliseconds (TPACKET_V3
// only wakes the reader when a block retires), a finite poll timeout so that
// readers can check deadlines and contexts, and a Close that never unmaps the
// ring under a reader.
//
// Programs are given as classic BPF (Config.Program): fixed ones assembled
// with golang.org/x/net/bpf, user expressions compiled by capture/libpcap.
// The frames captured in the instant between opening the socket and
// attaching the program are filtered in user space by the same program, so a
// reader never sees a frame its filter rejects.
//
// When the interface goes down the kernel sets an error on the socket, which
// afpacket never clears; the ring reads it, returns it once (ENETDOWN) and
// captures again when the interface comes back up.
//
// Frames are whole Ethernet frames, or on links without Ethernet framing
// (Config.Link) IP packets from a SOCK_DGRAM ring.
//
// Capture files are read as libpcap reads them (its sf-pcap.c and
// sf-pcapng.c): the same frames, cut where libpcap cuts them, and the same
// errors, in libpcap's words (FormatError), where it stops; link types are
// kept whole. The writer knows where every record ends, so that the file it
// leaves always ends on one, even when the disk fills.
//
// The ring needs Linux and cgo (gopacket/afpacket); elsewhere OpenRing
// returns an error wrapping errors.ErrUnsupported. Files, filters and Loop
// work on any GOOS.
package capture
