package capture

import (
	"cmp"
	"errors"
	"fmt"
	"time"

	"github.com/google/gopacket/layers"
	"golang.org/x/net/bpf"
)

// Config describes a ring. A nil *Config is invalid: Interface is required.
type Config struct {
	// Interface is the name of the interface to capture on.
	Interface string
	// Snaplen is the most bytes kept of each frame; 0 means DefaultSnaplen.
	Snaplen int
	// BlockSize is the size of one ring block in bytes, a multiple of the
	// page size; 0 means DefaultBlockSize.
	BlockSize int
	// NumBlocks is how many blocks the ring holds; 0 means DefaultNumBlocks.
	NumBlocks int
	// BlockTimeout is how long the kernel fills a block before handing it
	// to the reader even if it is not full, in whole milliseconds; 0 means
	// DefaultBlockTimeout. TPACKET_V3 wakes the reader only when a block
	// retires, so this bounds how late a reply is seen.
	BlockTimeout time.Duration
	// PollTimeout bounds one wait in ReadPacket, in whole milliseconds; 0
	// means DefaultPollTimeout. It is also how long Close may wait for a
	// blocked reader.
	PollTimeout time.Duration
	// Program is the classic BPF filter the kernel runs on every frame,
	// written for frames of Link; nil accepts every frame. Fixed programs
	// are assembled with golang.org/x/net/bpf, user expressions compiled by
	// libpcap. A program's return value is how much of the frame to keep.
	Program []bpf.RawInstruction
	// Link is how captured frames start, and what Filter is compiled for:
	// layers.LinkTypeEthernet (0 means it) for whole frames on Ethernet
	// links, layers.LinkTypeRaw for frames from the IP header on (a
	// SOCK_DGRAM ring, as libpcap's cooked mode), for links without
	// Ethernet framing (tun, NOARP, IP tunnels).
	Link layers.LinkType
	// Version is the ring's layout; 0 means TPacketV3.
	Version Version
	// Promisc puts the interface in promiscuous mode for as long as the
	// ring is open, as libpcap does (a PACKET_MR_PROMISC membership of the
	// ring's socket, counted by the kernel and dropped when it closes).
	Promisc bool
	// Direction is which frames the ring keeps: DirectionInOut (0) both,
	// as tcpdump -Q. On loopback, where every frame passes twice, the
	// outgoing copy is never kept, as libpcap does.
	Direction Direction
}

// Direction is the way of the frames a capture keeps (tcpdump -Q).
type Direction uint8

const (
	DirectionInOut Direction = iota
	DirectionIn
	DirectionOut
)

// ParseDirection reads tcpdump -Q's words: in, out or inout.
func ParseDirection(s string) (Direction, bool) {
	switch s {
	case "inout":
		return DirectionInOut, true
	case "in":
		return DirectionIn, true
	case "out":
		return DirectionOut, true
	}
	return 0, false
}

// Version is a PACKET_MMAP ring layout (packet(7)).
type Version uint8

const (
	_ Version = iota
	// TPacketV3 packs frames into blocks, which reach the reader only when
	// full or BlockTimeout after their first frame: one wake-up per block.
	TPacketV3
	// TPacketV2 gives every frame a fixed slot sized for Snaplen and wakes
	// the reader for each: for readers that wait on one packet at a time,
	// such as a one-in-flight flood. Keep Snaplen small; BlockTimeout does
	// not apply.
	TPacketV2
)

func (v Version) String() string {
	switch v {
	case TPacketV3:
		return "TPACKET_V3"
	case TPacketV2:
		return "TPACKET_V2"
	}
	return fmt.Sprintf("Version(%d)", uint8(v))
}

// Defaults for the zero fields of Config.
const (
	DefaultSnaplen      = 65535
	DefaultBlockSize    = 256 << 10
	DefaultNumBlocks    = 32
	DefaultBlockTimeout = 2 * time.Millisecond
	DefaultPollTimeout  = 50 * time.Millisecond
)

// MaxSnaplen is libpcap's largest snapshot length.
const MaxSnaplen = 262144

// frameSize is the ring's nominal frame size. TPACKET_V3 packs frames of any
// length into a block, so it only has to divide the block size, which every
// Linux page size (4, 16 or 64 KiB) guarantees.
const frameSize = 4096

// frameSlot is the size of a TPACKET_V2 frame slot holding snaplen bytes
// after the frame header, the sockaddr_ll and the alignment the kernel adds
// (under 128 bytes): a power of two, so that it divides a block.
func frameSlot(snaplen int) int {
	n := 256
	for n < snaplen+128 {
		n <<= 1
	}
	return n
}

// Stats are a ring's counters since its filter was attached.
type Stats struct {
	// Packets is how many frames passed the kernel filter, dropped ones
	// included: tcpdump's "received by filter".
	Packets uint64
	// Drops is how many of them the ring had no room for.
	Drops uint64
	// QueueFreezes counts how often the ring was full, so that the kernel
	// froze it until the reader returned a block.
	QueueFreezes uint64
}

// withDefaults returns cfg with its zero fields set, or an error naming the
// field that is out of range.
func (cfg *Config) withDefaults(pageSize int) (Config, error) {
	if cfg == nil || cfg.Interface == "" {
		return Config{}, errors.New("capture: no interface to capture on")
	}
	c := *cfg
	c.Snaplen = cmp.Or(c.Snaplen, DefaultSnaplen)
	c.BlockSize = cmp.Or(c.BlockSize, DefaultBlockSize)
	c.NumBlocks = cmp.Or(c.NumBlocks, DefaultNumBlocks)
	c.BlockTimeout = cmp.Or(c.BlockTimeout, DefaultBlockTimeout)
	c.PollTimeout = cmp.Or(c.PollTimeout, DefaultPollTimeout)
	c.Version = cmp.Or(c.Version, TPacketV3)
	c.Link = cmp.Or(c.Link, layers.LinkTypeEthernet)
	switch {
	case c.Link != layers.LinkTypeEthernet && c.Link != layers.LinkTypeRaw:
		return Config{}, fmt.Errorf("capture: link type %s: use Ethernet or Raw", c.Link)
	case c.Snaplen < 0 || c.Snaplen > MaxSnaplen:
		return Config{}, fmt.Errorf("capture: snaplen %d out of range: use 1 to %d", c.Snaplen, MaxSnaplen)
	case c.BlockSize < 0 || c.BlockSize%pageSize != 0:
		return Config{}, fmt.Errorf("capture: block size %d: use a positive multiple of the page size, %d", c.BlockSize, pageSize)
	case c.NumBlocks < 0:
		return Config{}, fmt.Errorf("capture: %d blocks: use a positive number", c.NumBlocks)
	case c.BlockTimeout < time.Millisecond:
		// The kernel takes whole milliseconds; 0 would make it pick its own.
		return Config{}, fmt.Errorf("capture: block timeout %v: use 1ms or more", c.BlockTimeout)
	case c.Version != TPacketV3 && c.Version != TPacketV2:
		return Config{}, fmt.Errorf("capture: ring version %d: use TPacketV3 or TPacketV2", c.Version)
	case c.Version == TPacketV2 && c.BlockSize%frameSlot(c.Snaplen) != 0:
		return Config{}, fmt.Errorf("capture: block size %d holds no whole %d-byte frame slot for snaplen %d: use a multiple of %d", c.BlockSize, frameSlot(c.Snaplen), c.Snaplen, frameSlot(c.Snaplen))
	case c.Direction > DirectionOut:
		return Config{}, fmt.Errorf("capture: direction %d: use DirectionInOut, DirectionIn or DirectionOut", c.Direction)
	case c.PollTimeout < time.Millisecond:
		// poll(2) takes whole milliseconds; 0 would spin, negative never return.
		return Config{}, fmt.Errorf("capture: poll timeout %v: use 1ms or more", c.PollTimeout)
	}
	return c, nil
}
