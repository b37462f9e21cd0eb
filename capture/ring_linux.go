//go:build linux && cgo

package capture

import (
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/afpacket"
	"github.com/google/gopacket/layers"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// ErrTimeout is wrapped by the error ReadPacket returns when PollTimeout
// passes without a frame: check deadlines or the context, then read again.
var ErrTimeout = afpacket.ErrTimeout

// Ring is a TPACKET_V3 receive ring on one interface, or TPACKET_V2 (see
// Config.Version). ReadPacket must not be called concurrently with itself; Stats and Close may be called from any
// goroutine at any time.
type Ring struct {
	tp      *afpacket.TPacket
	iface   string
	link    layers.LinkType
	version Version

	closed    atomic.Bool
	closeOnce sync.Once

	// rd is held by ReadPacket for as long as it may touch the ring, and by
	// Close around the unmap: afpacket's Close unmaps the ring without
	// asking whether a reader is inside it.
	rd sync.Mutex
	// early is when the ring stopped taking frames before the filter:
	// frames stamped then or before are dropped, until a later one shows
	// they are all read (then early is zero).
	early         time.Time
	earlyRejected int // for tests: proof that early frames happen
	// Preallocated so that a timeout, every PollTimeout, allocates nothing.
	errTimeout, errClosed error

	mu    sync.Mutex // guards the fields below and tp against Close
	stats Stats
	// last are afpacket's cumulative 32-bit counters at the previous read;
	// Stats adds their difference, so it survives their wrapping.
	lastPackets, lastDrops, lastFreezes uint32
	done                                bool // tp is closed; stats are final
}

// OpenRing opens a ring on cfg.Interface with cfg.Program attached. Without
// CAP_NET_RAW the error wraps os.ErrPermission.
func OpenRing(cfg *Config) (*Ring, error) {
	c, err := cfg.withDefaults(unix.Getpagesize())
	if err != nil {
		return nil, err
	}
	prog := c.Program
	if prog == nil {
		// Keep the snap length, as libpcap's program for "" does.
		prog = []bpf.RawInstruction{{Op: 0x06, K: uint32(c.Snaplen)}} // ret #snaplen
	}
	insns, ok := bpf.Disassemble(prog)
	if !ok {
		return nil, errors.New("capture: the filter holds instructions golang.org/x/net/bpf cannot decode")
	}
	// The kernel's EINVAL says nothing of what is wrong; x/net/bpf does.
	if _, err := bpf.NewVM(insns); err != nil {
		return nil, fmt.Errorf("capture: filter: %w", err)
	}
	// afpacket reports a missing interface without its cause; ask first.
	ifi, err := net.InterfaceByName(c.Interface)
	if err != nil {
		return nil, fmt.Errorf("capture: interface %s: %w", c.Interface, err)
	}
	if prog, err = withDirection(prog, c.Direction, ifi.Flags&net.FlagLoopback != 0); err != nil {
		return nil, err
	}
	socktype := afpacket.SocketRaw
	if c.Link == layers.LinkTypeRaw {
		socktype = afpacket.SocketDgram
	}
	version, frame, name := afpacket.TPacketVersion3, frameSize, "TPACKET_V3"
	if c.Version == TPacketV2 {
		version, frame, name = afpacket.TPacketVersion2, frameSlot(c.Snaplen), "TPACKET_V2"
	}
	tp, err := afpacket.NewTPacket(
		afpacket.OptInterface(c.Interface),
		afpacket.OptSocketType(socktype),
		afpacket.OptTPacketVersion(version),
		afpacket.OptFrameSize(frame),
		afpacket.OptBlockSize(c.BlockSize),
		afpacket.OptNumBlocks(c.NumBlocks),
		afpacket.OptBlockTimeout(c.BlockTimeout),
		afpacket.OptPollTimeout(c.PollTimeout),
	)
	if err != nil {
		// socket(2) failing for want of CAP_NET_RAW arrives as a bare
		// errno, which errors.Is matches against os.ErrPermission.
		return nil, fmt.Errorf("capture: open %s ring on %s: %w", name, c.Interface, err)
	}
	if c.Promisc {
		if err := addPromisc(tp, ifi.Index); err != nil {
			tp.Close()
			return nil, fmt.Errorf("capture: promiscuous mode on %s: %w", c.Interface, err)
		}
	}
	r := &Ring{
		tp:         tp,
		version:    c.Version,
		iface:      c.Interface,
		link:       c.Link,
		errTimeout: fmt.Errorf("capture: read %s: %w", c.Interface, afpacket.ErrTimeout),
		errClosed:  fmt.Errorf("capture: read %s: %w", c.Interface, net.ErrClosed),
	}
	// The socket has captured everything since NewTPacket bound it. As
	// libpcap does, those frames are never handed out: a filter that
	// passes nothing goes first, so that every frame in the ring is from
	// before it, stamped before early; the counters start between the
	// two filters, with nothing passing, so they count exactly the
	// frames the real filter passes.
	if err := tp.SetBPF([]bpf.RawInstruction{{Op: 0x06}}); err != nil { // ret #0
		tp.Close()
		return nil, fmt.Errorf("capture: attach the filter on %s: %w", c.Interface, os.NewSyscallError("setsockopt", err))
	}
	r.early = time.Now()
	r.mu.Lock()
	_, err = r.readStats()
	r.stats = Stats{}
	r.mu.Unlock()
	if err != nil {
		tp.Close()
		return nil, err
	}
	if err := tp.SetBPF(prog); err != nil {
		tp.Close()
		return nil, fmt.Errorf("capture: attach the filter on %s: %w", c.Interface, os.NewSyscallError("setsockopt", err))
	}
	return r, nil
}

// LinkType is how the frames ReadPacket returns start.
func (r *Ring) LinkType() layers.LinkType { return r.link }

// ReadPacket returns the next frame and when the kernel captured it. The
// data is the ring's own memory, not a copy: it is valid until the next call
// to ReadPacket or Close, and must not be written. After PollTimeout without
// a frame it returns an error wrapping ErrTimeout; after Close, one wrapping
// net.ErrClosed.
func (r *Ring) ReadPacket() ([]byte, gopacket.CaptureInfo, error) {
	r.rd.Lock()
	defer r.rd.Unlock()
	for {
		if r.closed.Load() {
			return nil, gopacket.CaptureInfo{}, r.errClosed
		}
		data, ci, err := r.tp.ZeroCopyReadPacketData()
		if r.closed.Load() {
			// Close is waiting to unmap: hand out nothing from the ring.
			return nil, gopacket.CaptureInfo{}, r.errClosed
		}
		switch {
		case errors.Is(err, afpacket.ErrTimeout):
			return nil, ci, r.errTimeout
		case errors.Is(err, afpacket.ErrPoll):
			return nil, ci, fmt.Errorf("capture: read %s: %w", r.iface, r.socketError())
		case err != nil:
			return nil, ci, fmt.Errorf("capture: read %s: %w", r.iface, os.NewSyscallError("poll", err))
		}
		if !r.early.IsZero() {
			if !ci.Timestamp.After(r.early) {
				r.earlyRejected++
				continue
			}
			// Frames leave the ring in capture order, so every frame
			// from before the filter has been read.
			r.early = time.Time{}
		}
		return data, ci, nil
	}
}

// socketError reads and so clears the error pending on the socket, which made
// poll(2) report POLLERR: ENETDOWN when the interface goes down. afpacket
// never clears it, so without this every later poll would fail at once, even
// after the interface is back up. r.rd must be held.
func (r *Ring) socketError() error {
	fd, err := tpacketFD(r.tp)
	if err != nil {
		return err
	}
	errno, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	switch {
	case err != nil:
		return os.NewSyscallError("getsockopt", err)
	case errno == 0:
		return afpacket.ErrPoll
	}
	return os.NewSyscallError("poll", unix.Errno(errno))
}

// Stats returns the ring's counters since it was opened; after Close, the
// final ones.
func (r *Ring) Stats() (Stats, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return r.stats, nil
	}
	return r.readStats()
}

// readStats adds what the kernel counted since the last read (reading
// PACKET_STATISTICS resets the kernel's counters; afpacket accumulates them
// in 32 bits) and returns the totals. r.mu must be held.
func (r *Ring) readStats() (Stats, error) {
	v2, v3, err := r.tp.SocketStats()
	if err != nil {
		return r.stats, fmt.Errorf("capture: statistics of %s: %w", r.iface, os.NewSyscallError("getsockopt", err))
	}
	p, d, f := uint32(v3.Packets()), uint32(v3.Drops()), uint32(v3.QueueFreezes())
	if r.version == TPacketV2 {
		p, d, f = uint32(v2.Packets()), uint32(v2.Drops()), 0
	}
	r.stats.Packets += uint64(p - r.lastPackets)
	r.stats.Drops += uint64(d - r.lastDrops)
	r.stats.QueueFreezes += uint64(f - r.lastFreezes)
	r.lastPackets, r.lastDrops, r.lastFreezes = p, d, f
	return r.stats, nil
}

// Close closes the ring. It is idempotent and safe while another goroutine
// is inside ReadPacket: it waits for that read to return, at most
// PollTimeout, before unmapping the ring. Data returned by earlier reads is
// invalid once Close returns.
func (r *Ring) Close() error {
	r.closeOnce.Do(func() {
		r.closed.Store(true)
		r.rd.Lock()
		defer r.rd.Unlock()
		r.mu.Lock()
		defer r.mu.Unlock()
		r.readStats() // best effort: keep the final counters for Stats
		r.done = true
		r.tp.Close()
	})
	return nil
}

// RingAvailable reports nil: this build has the ring.
func RingAvailable() error { return nil }

// tpacketFD is tp's socket. afpacket (v1.1.19) keeps it to itself, so it is
// read from the unexported field (reflect reads, never writes, it); a
// gopacket without that field fails here rather than quietly doing less.
func tpacketFD(tp *afpacket.TPacket) (int, error) {
	fd := reflect.ValueOf(tp).Elem().FieldByName("fd")
	if !fd.IsValid() || !fd.CanInt() {
		return 0, errors.New("capture: gopacket's afpacket.TPacket has no fd field")
	}
	return int(fd.Int()), nil
}

// addPromisc adds a PACKET_MR_PROMISC membership to tp's socket, as libpcap
// does on its capture socket: the kernel counts it in the interface's
// promiscuity and drops it with the socket, however the process ends.
func addPromisc(tp *afpacket.TPacket, ifindex int) error {
	fd, err := tpacketFD(tp)
	if err != nil {
		return err
	}
	mreq := &unix.PacketMreq{Ifindex: int32(ifindex), Type: unix.PACKET_MR_PROMISC}
	if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, mreq); err != nil {
		return os.NewSyscallError("setsockopt PACKET_ADD_MEMBERSHIP", err)
	}
	return nil
}
