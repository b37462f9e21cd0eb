package ping

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/mdlayher/packet"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/pingcraft/pingcraft/capture"
	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/resolve"
)

// Ring sizes for a pinger: 16 blocks of 128 KiB (2 MiB) hold a 64 KiB frame
// each and, at the 2 ms block timeout, 32 ms of a stalled reader even when
// every packet retires a block of its own.
const (
	ringBlockSize = 128 << 10
	ringBlocks    = 16
	// ringPoll bounds how late a receive deadline or Close is noticed.
	ringPoll = 10 * time.Millisecond
)

// ringConn is the ethernet and ip transports: probes leave through an
// AF_PACKET socket (SOCK_RAW with our Ethernet header, or SOCK_DGRAM where
// the kernel adds it) and everything comes back through a TPACKET_V3 ring,
// which also sees our own requests leave, with kernel timestamps.
type ringConn struct {
	mode  Mode
	iface string
	id    uint16

	// Send side; Send is not called concurrently with itself.
	tx   *packet.Conn
	send *sender                 // through tx's raw conn
	to   *unix.SockaddrLinklayer // send's address, rewritten per probe
	path struct {
		src, dst       netip.Addr
		srcMAC, dstMAC net.HardwareAddr
	}
	echo  craft.Echo
	build craft.Builder
	buf   gopacket.SerializeBuffer
	// mtu is the path's: a probe beyond it that may be fragmented leaves
	// in fragments (frags), as the kernel would send it; fragID numbers
	// the IPv6 ones.
	mtu    int
	frags  [][]byte
	fragID uint32

	// Receive side: the ring, or for a short run direct, the send socket.
	ring   *capture.Ring
	direct *directRecv
	dec    *craft.Decoder
	l3     int    // where the IP header starts in a captured frame
	frame  []byte // the frame being decoded, copied out of the ring
	// defrag puts fragmented replies together, which the ring sees before
	// the IP layer does; whole decodes what it makes.
	defrag craft.Reassembler
	whole  *craft.Decoder
	// deadline is the receive deadline as an offset from epoch, on the
	// monotonic clock; ringNoDeadline when there is none.
	deadline   atomic.Int64
	epoch      time.Time
	errTimeout error

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

const ringNoDeadline = math.MaxInt64

var _ Conn = (*ringConn)(nil)

// frameRingSnaplen is what a TPACKET_V2 ring keeps of each frame: a reply to
// a probe of size bytes, or an ICMP error quoting as much as IPv6 allows,
// behind an Ethernet header and two VLAN tags.
func frameRingSnaplen(size int) int {
	return max(size+8+40, 1280) + 14 + 8
}

// openRingConn opens the transport for ModeEthernet or ModeIP on path's
// interface, for path's family. Its ring sees only ICMP for id and ICMP
// errors (see ringProgram). A non-zero snaplen asks for a TPACKET_V2 ring
// keeping that much of each frame.
// With blocks above the default, the ring has that many blocks.
func openRingConn(path *resolve.Path, mode Mode, id uint16, snaplen, blocks int) (*ringConn, error) {
	return openFrameConn(path, mode, id, false, snaplen, blocks)
}

// openDirectConn is openRingConn without a ring, for a short run: the
// frames the ring's filter passes come back on the send socket (see
// directRecv), and opening and closing cost one grace period instead of
// four or five.
func openDirectConn(path *resolve.Path, mode Mode, id uint16) (*ringConn, error) {
	return openFrameConn(path, mode, id, true, 0, 0)
}

func openFrameConn(path *resolve.Path, mode Mode, id uint16, direct bool, snaplen, blocks int) (*ringConn, error) {
	if mode != ModeEthernet && mode != ModeIP {
		return nil, fmt.Errorf("ping: %v is not a ring transport", mode)
	}
	six := path.Target.Is6() && !path.Target.Is4In6()
	ether := path.Kind != resolve.KindNone
	// The next hop's MAC may come later, per probe (see neighbourConn).
	if mode == ModeEthernet && (!ether || len(path.SourceMAC) != 6 || len(path.NextHopMAC) != 6 && path.MACSource != resolve.MACUnknown) {
		return nil, &refusal{fmt.Sprintf("ping: mode ethernet on %s needs Ethernet addresses for the source and the next hop %s: use mode ip", path.Interface, path.NextHop)}
	}

	typ, proto := packet.Raw, unix.ETH_P_IP
	if mode == ModeIP {
		typ = packet.Datagram
	}
	if six {
		proto = unix.ETH_P_IPV6
	}
	cfg := &capture.Config{
		Interface:   path.Interface,
		BlockSize:   ringBlockSize,
		NumBlocks:   max(ringBlocks, blocks),
		PollTimeout: ringPoll,
	}
	if snaplen > 0 {
		cfg.Version, cfg.Snaplen = capture.TPacketV2, snaplen
	}
	// Frames start where the receiving socket's type says: at the IP
	// header on a SOCK_DGRAM socket (the ring's, on a link without a
	// link-layer header; the send socket's in mode ip).
	raw := !ether || direct && mode == ModeIP
	dec := craft.LinkTypeEthernet
	l3 := 14
	if raw {
		cfg.Link, dec, l3 = layers.LinkTypeRaw, craft.LinkTypeRaw, 0
	}
	prog, err := ringProgram(six, raw, id, capture.DefaultSnaplen)
	if err != nil {
		return nil, err
	}
	d, err := craft.NewDecoder(dec)
	if err != nil {
		return nil, err
	}
	whole, err := craft.NewDecoder(craft.LinkTypeRaw)
	if err != nil {
		return nil, err
	}
	var ring *capture.Ring
	if !direct {
		cfg.Program = prog
		// The ring first, so that it sees our first probe leave.
		if ring, err = capture.OpenRing(cfg); err != nil {
			return nil, fmt.Errorf("ping: %s mode on %s: %w", mode, path.Interface, err)
		}
		// Bound to a protocol, the TX socket would also queue every
		// incoming IP frame; a filter that accepts nothing keeps its
		// queue empty.
		none, err := bpf.Assemble([]bpf.Instruction{bpf.RetConstant{Val: 0}})
		if err != nil {
			ring.Close()
			return nil, fmt.Errorf("ping: assemble the TX socket filter: %w", err)
		}
		prog = none
	}
	ifi := &net.Interface{Index: path.Index, Name: path.Interface, HardwareAddr: path.SourceMAC}
	// packet.Listen binds the socket only once its filter is attached:
	// nothing from before the filter is queued, and binding a socket not
	// yet bound costs no grace period.
	tx, err := packet.Listen(ifi, typ, proto, &packet.Config{Filter: prog})
	if err != nil {
		if ring != nil {
			ring.Close()
		}
		return nil, fmt.Errorf("ping: %s mode on %s: %w", mode, path.Interface, err)
	}
	// What packet.Conn.WriteTo would send to (packet(7): family, address,
	// its length, ifindex and protocol), for sends through its raw conn.
	to := &unix.SockaddrLinklayer{Ifindex: path.Index, Protocol: htons(uint16(proto)), Halen: uint8(len(path.NextHopMAC))}
	copy(to.Addr[:], path.NextHopMAC)
	rc, err := tx.SyscallConn()
	var dr *directRecv
	if err == nil && direct {
		dr, err = newDirectRecv(rc, ether)
	}
	if err != nil {
		if ring != nil {
			ring.Close()
		}
		tx.Close()
		return nil, fmt.Errorf("ping: %s mode on %s: %w", mode, path.Interface, err)
	}

	c := &ringConn{
		mode:       mode,
		iface:      path.Interface,
		id:         id,
		tx:         tx,
		to:         to,
		send:       newSender("packet", rc, to),
		buf:        gopacket.NewSerializeBuffer(),
		ring:       ring,
		direct:     dr,
		dec:        d,
		whole:      whole,
		mtu:        path.MTU,
		fragID:     rand.Uint32(),
		l3:         l3,
		frame:      make([]byte, 0, capture.DefaultSnaplen),
		epoch:      time.Now(),
		errTimeout: fmt.Errorf("ping: receive on %s: %w", path.Interface, os.ErrDeadlineExceeded),
	}
	c.path.src, c.path.dst = path.Source, path.Target
	c.path.srcMAC, c.path.dstMAC = path.SourceMAC, path.NextHopMAC
	c.deadline.Store(ringNoDeadline)
	return c, nil
}

func (c *ringConn) Mode() Mode { return c.mode }

// Send transmits e. The path fields e leaves zero (Src, Dst, SrcMAC, DstMAC)
// are taken from the path on a copy, so e itself is not modified; fields e
// sets are kept, a deliberately wrong MAC included. Send must not be called
// concurrently with itself; it may be with Receive.
func (c *ringConn) Send(e *craft.Echo) (time.Time, error) {
	if c.closed.Load() {
		return time.Time{}, fmt.Errorf("ping: send on %s: %w", c.iface, net.ErrClosed)
	}
	c.echo = *e
	if !c.echo.Src.IsValid() {
		c.echo.Src = c.path.src
	}
	if !c.echo.Dst.IsValid() {
		c.echo.Dst = c.path.dst
	}
	if c.echo.SrcMAC == nil {
		c.echo.SrcMAC = c.path.srcMAC
	}
	if c.echo.DstMAC == nil {
		c.echo.DstMAC = c.path.dstMAC
	}
	if err := c.build.Serialize(&c.echo, c.buf, c.mode.Depth()); err != nil {
		return time.Time{}, fmt.Errorf("ping: %w", err)
	}
	c.echo.Payload = nil // not ours to keep
	c.frags = append(c.frags[:0], c.buf.Bytes())
	if c.mtu > 0 && c.ipLen() > c.mtu && !c.echo.DontFragment {
		// Over the MTU and allowed to fragment: what the kernel does for
		// a socket, done here, since AF_PACKET sends frames as they are.
		c.fragID++
		var err error
		if c.frags, err = craft.Fragment(c.buf.Bytes(), c.mode.Depth(), c.mtu, c.fragID, c.frags[:0]); err != nil {
			return time.Time{}, fmt.Errorf("ping: %w", err)
		}
	}
	at := time.Now()
	// A SOCK_DGRAM socket frames the packet for the address given: the
	// next hop of this probe's target.
	c.to.Halen = uint8(copy(c.to.Addr[:], c.echo.DstMAC))
	for _, f := range c.frags {
		if err := c.send.send(f); err != nil {
			if c.closed.Load() {
				err = net.ErrClosed
			}
			return at, fmt.Errorf("ping: send to %s on %s: %w", c.echo.Dst, c.iface, err)
		}
	}
	return at, nil
}

// Receive returns the next echo reply or request with our id or ICMP error
// quoting one; other frames are skipped. Outgoing marks our own requests,
// stamped by the kernel as they left. r's slices alias the conn's buffer
// until the next Receive, never the ring, so Close cannot pull them away.
func (c *ringConn) Receive(r *Received) error {
	if c.direct != nil {
		return c.receiveDirect(r)
	}
	for {
		if time.Since(c.epoch) >= time.Duration(c.deadline.Load()) {
			return c.errTimeout
		}
		data, ci, err := c.ring.ReadPacket()
		if errors.Is(err, capture.ErrTimeout) {
			continue
		}
		if err != nil {
			return fmt.Errorf("ping: receive on %s: %w", c.iface, err)
		}
		c.frame = append(c.frame[:0], data...)
		if c.accept(r, ci.Timestamp, ci.Length) {
			return nil
		}
	}
}

// accept decodes c.frame, wire bytes long on the wire, into r and reports
// whether it concerns us. The ring sees frames before the IP layer checks
// them: what the IP layer would drop (a bad header checksum, a length
// beyond the frame) is dropped here, and fragments are put together as it
// would, so that a reply counts only as the sockets would see it.
func (c *ringConn) accept(r *Received, at time.Time, wire int) bool {
	return c.acceptWith(r, c.dec, c.l3, at, wire)
}

// acceptWith is accept for a frame that dec decodes, its IP header at l3.
func (c *ringConn) acceptWith(r *Received, dec *craft.Decoder, l3 int, at time.Time, wire int) bool {
	p := &r.Packet
	if dec.Decode(c.frame, p) != nil {
		return false
	}
	if l3 > 0 {
		l3 += 4 * len(p.VLAN) // tags the NIC did not strip
	}
	if p.IPVersion == 0 || p.IPRefusal(wire-l3) != "" {
		return false
	}
	if p.IsFragment() {
		if p.Src == c.path.src {
			// Our own probe leaving in fragments: the first tells when.
			if p.FragOffset > 0 || p.Class != craft.ClassEchoRequest {
				return false
			}
		} else {
			dg := c.defrag.Add(p, at)
			if dg == nil {
				return false
			}
			c.frame, l3 = append(c.frame[:0], dg...), 0
			if c.whole.Decode(c.frame, p) != nil {
				return false
			}
		}
	}
	outgoing := false
	switch p.Class {
	case craft.ClassEchoReply:
		if p.ID != c.id {
			return false
		}
	case craft.ClassEchoRequest:
		// Only our own: someone pinging this host with our id is not.
		if p.ID != c.id || p.Src != c.path.src {
			return false
		}
		outgoing = true
	case craft.ClassError:
		if q := &p.Error.Quote; !q.Echo || q.ID != c.id {
			return false
		}
	default:
		return false
	}
	r.From = p.Src
	r.TTL, r.HasTTL = p.TTL, true
	r.At, r.Stamp = at, StampKernel
	r.Outgoing = outgoing
	r.Bytes = ringICMPLen(c.frame[min(l3, len(c.frame)):], p)
	if len(p.IPOptions) > 0 && p.Class == craft.ClassEchoReply {
		// The ring sees the reply before the IP layer, which records this
		// host in a reply's options for the sockets: record it here, as
		// iputils' socket would read it. p.IPOptions is in c.frame, ours.
		craft.RecordOwn(p.IPOptions, p.Dst, at)
	}
	return true
}

// ipLen is the length of the IP packet in c.buf.
func (c *ringConn) ipLen() int {
	if c.mode == ModeEthernet {
		return len(c.buf.Bytes()) - 14
	}
	return len(c.buf.Bytes())
}

// htons is v in network byte order, as the kernel reads sll_protocol.
func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}

// ringICMPLen is the ICMP message length the IP header gives (what iputils
// prints as "N bytes from"), whatever the capture kept of it.
func ringICMPLen(ip []byte, p *craft.Packet) int {
	hdr := 40 // IPv6; the ring's filter allows a fragment header at most
	switch {
	case p.IPVersion == 4 && len(ip) > 0:
		hdr = int(ip[0]&0x0f) * 4
	case len(ip) > 6 && ip[6] == uint8(layers.IPProtocolIPv6Fragment):
		hdr += 8
	}
	return max(p.IPLength-hdr, 0)
}

// SetReceiveDeadline sets when Receive gives up; the zero time means never.
// It is noticed between ring polls, so up to ringPoll late.
func (c *ringConn) SetReceiveDeadline(t time.Time) error {
	if c.direct != nil {
		return c.tx.SetReadDeadline(t)
	}
	d := int64(ringNoDeadline)
	if !t.IsZero() {
		d = int64(t.Sub(c.epoch))
	}
	c.deadline.Store(d)
	return nil
}

// ID returns the id the ring filter passes: the one we chose.
func (c *ringConn) ID() uint16 { return c.id }

// Drops returns how many frames the ring had no room for since it opened.
func (c *ringConn) Drops() (uint64, error) {
	if c.direct != nil {
		return uint64(c.direct.drops.Load()), nil
	}
	st, err := c.ring.Stats()
	return st.Drops, err
}

// Close closes both sockets. It is idempotent and unblocks Receive, waiting
// at most ringPoll for it. The two close at once: each waits for RCU grace
// periods in the kernel, which then overlap.
func (c *ringConn) Close() error {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		if c.ring == nil {
			c.closeErr = c.tx.Close()
			return
		}
		tx := make(chan error, 1)
		go func() { tx <- c.tx.Close() }()
		c.closeErr = errors.Join(c.ring.Close(), <-tx)
	})
	return c.closeErr
}
