package ping

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"cmp"

	"github.com/google/gopacket"
	"github.com/mdlayher/socket"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/resolve"
)

// socketConn is the raw and dgram transports: an AF_INET or AF_INET6
// socket of type SOCK_RAW or SOCK_DGRAM (the ping socket), IPPROTO_ICMP(V6).
type socketConn struct {
	mode Mode
	six  bool
	path *resolve.Path
	c    *socket.Conn
	to   unix.Sockaddr // &to4 or &to6
	to4  unix.SockaddrInet4
	to6  unix.SockaddrInet6
	id   uint16 // the kernel's, for ping sockets
	// bound is the interface named in SO_BINDTODEVICE, "" for none: the
	// kernel keeps its index, which dies with the interface, so Send
	// binds again by name when the interface was deleted and recreated.
	bound      string
	boundIndex int // the index bound names when it was bound
	// lost is set once the bound interface went away and the socket
	// cannot follow it: Receive returns it, which ends the run.
	lost atomic.Pointer[error]

	smu   sync.Mutex // Send
	sbuf  gopacket.SerializeBuffer
	build craft.Builder
	opts  sendOpts // what the socket was last set to
	pmtu  PMTUDisc // for probes with DF: PMTUDiscDo, else want

	rbuf, oob []byte
	dec       *craft.Decoder

	// The hot path goes through the raw conn with closures made once:
	// socket.Conn's Sendto and Recvmsg start a goroutine per call to watch
	// their context, which costs more than a round trip on a veth.
	rc     syscall.RawConn
	tx     *sender
	recvFn func(fd uintptr) bool
	rn     int
	roobn  int
	rfrom  unix.RawSockaddrInet6 // large enough for either family
	rmsg   unix.Msghdr
	riov   unix.Iovec
	rerr   error // recvFn's; Receive is not called concurrently with itself
	// errDrained: a ping socket's error queue was found empty and no socket
	// error has announced a new entry since, so Receive need not look.
	errDrained bool
	closed     atomic.Bool

	// ts ties the kernel's send stamps to probes; nil when the kernel
	// gives none (user-space send times).
	ts *txStamps
	// rq says recvFn's last read was of the error queue.
	rq bool
}

type sendOpts struct {
	ttl, tos uint8
	df       bool
	set      bool
}

// openSocketConn opens the raw (ModeRaw) or ping (ModeDgram) socket for
// path's family, bound to its source address and interface.
func openSocketConn(path *resolve.Path, mode Mode, id uint16) (*socketConn, error) {
	six := path.Target.Is6()
	domain, proto := unix.AF_INET, unix.IPPROTO_ICMP
	if six {
		domain, proto = unix.AF_INET6, unix.IPPROTO_ICMPV6
	}
	typ := unix.SOCK_RAW
	if mode == ModeDgram {
		typ = unix.SOCK_DGRAM
	}
	c, err := socket.Socket(domain, typ, proto, "ping", nil)
	if err != nil {
		return nil, err
	}
	s := &socketConn{mode: mode, six: six, path: path, c: c, sbuf: gopacket.NewSerializeBuffer(),
		rbuf: make([]byte, 1<<16), oob: make([]byte, 512), id: id}
	if s.dec, err = craft.NewDecoder(craft.LinkTypeRaw); err != nil {
		c.Close()
		return nil, err
	}
	if err := s.setup(); err != nil {
		c.Close()
		return nil, fmt.Errorf("ping: %s socket on %s: %w", mode, path.Interface, err)
	}
	if s.rc, err = c.SyscallConn(); err != nil {
		c.Close()
		return nil, fmt.Errorf("ping: %s socket on %s: %w", mode, path.Interface, err)
	}
	s.tx = newSender(map[bool]string{false: "ip4:icmp", true: "ip6:ipv6-icmp"}[s.six], s.rc, s.to)
	s.recvFn = func(fd uintptr) bool {
		// Send stamps first, while the newest send's is still to come:
		// the poller wakes the reader for them too (EPOLLERR), and a
		// reply must find its probe's stamp already read, the kernel
		// having queued it before the reply could come.
		if s.ts != nil && s.ts.awaiting() {
			s.rq = true
			s.rn, s.roobn, s.rerr = s.recvmsgFlags(fd, unix.MSG_ERRQUEUE)
			if s.rerr != unix.EAGAIN {
				return true
			}
		}
		s.rq = false
		s.rn, s.roobn, s.rerr = s.recvmsg(fd)
		return s.rerr != unix.EAGAIN
	}
	return s, nil
}

// recv runs recvFn through the runtime poller, which honours the read
// deadline, and returns its error as a syscall error.
func (s *socketConn) recv() error {
	s.rerr = nil
	err := s.rc.Read(s.recvFn)
	switch {
	case err == nil && s.rerr != nil:
		return os.NewSyscallError("recvmsg", s.rerr)
	case err == nil:
		return nil
	case s.closed.Load():
		return fmt.Errorf("ping: recvmsg: %w", net.ErrClosed)
	}
	return err // os.ErrDeadlineExceeded, as the standard library returns it
}

func (s *socketConn) setup() error {
	c, path := s.c, s.path
	zone := 0
	if path.Target.IsLinkLocalUnicast() {
		zone = path.Index
	}
	// Send rewrites the address for each probe's destination: one socket
	// serves every target on the path's interface and source.
	if s.six {
		s.to6 = unix.SockaddrInet6{Addr: path.Target.As16(), ZoneId: uint32(zone)}
		s.to = &s.to6
	} else {
		s.to4 = unix.SockaddrInet4{Addr: path.Target.As4()}
		s.to = &s.to4
	}
	// On lo too, for 127/8 and ::1: -I lo must mean lo. Not for the host's
	// own addresses of other interfaces, also reached through lo: the kernel
	// will not route them out of a socket bound to lo (nor will it for
	// iputils' ping -I lo, which binds to lo when asked and so gets no
	// reply: so does a Bound path). The engine counts a reply only from its
	// target's Conn, so an unbound socket that sees others' replies counts
	// none.
	bind := path.Bound
	if bind == "" && path.Interface != "" && (path.Kind != resolve.KindLoopback || path.Target.IsLoopback()) {
		bind = path.Interface
	}
	if bind != "" {
		if err := c.SetsockoptString(unix.SOL_SOCKET, unix.SO_BINDTODEVICE, bind); err != nil {
			return err
		}
		index, err := s.ifIndex(bind)
		if err != nil {
			return err
		}
		s.bound, s.boundIndex = bind, index
	}
	if path.Source.IsValid() {
		var sa unix.Sockaddr
		if s.six {
			sa = &unix.SockaddrInet6{Addr: path.Source.As16(), ZoneId: uint32(zone)}
		} else {
			sa = &unix.SockaddrInet4{Addr: path.Source.As4()}
		}
		if err := c.Bind(sa); err != nil {
			return err
		}
	}
	if err := c.SetsockoptInt(unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		return err
	}
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	hw := false
	if ifname := cmp.Or(bind, path.Interface); ifname != "" && path.Kind != resolve.KindLoopback {
		rc.Control(func(fd uintptr) { hw = hardwareStamps(int(fd), ifname) })
	}
	s.ts = enableTxStamps(rc, hw)
	if s.six {
		if err := c.SetsockoptInt(unix.IPPROTO_IPV6, unix.IPV6_RECVHOPLIMIT, 1); err != nil {
			return err
		}
	} else if s.mode == ModeDgram {
		if err := c.SetsockoptInt(unix.IPPROTO_IP, unix.IP_RECVTTL, 1); err != nil {
			return err
		}
	}
	switch {
	case s.mode == ModeDgram:
		// ICMP errors reach a ping socket only through its error queue.
		level, opt := unix.IPPROTO_IP, unix.IP_RECVERR
		if s.six {
			level, opt = unix.IPPROTO_IPV6, unix.IPV6_RECVERR
		}
		if err := c.SetsockoptInt(level, opt, 1); err != nil {
			return err
		}
		sa, err := c.Getsockname()
		if err != nil {
			return err
		}
		// The kernel owns the id: it is the socket's local "port".
		switch sa := sa.(type) {
		case *unix.SockaddrInet4:
			s.id = uint16(sa.Port)
		case *unix.SockaddrInet6:
			s.id = uint16(sa.Port)
		}
	case s.six:
		// A raw ICMPv6 socket sees every ICMPv6 message: keep echo replies
		// and errors only.
		var f unix.ICMPv6Filter
		for i := range f.Data {
			f.Data[i] = 0xffffffff
		}
		for _, typ := range []uint8{1, 2, 3, 4, 129} {
			f.Data[typ>>5] &^= 1 << (typ & 31)
		}
		if err := c.SetsockoptICMPv6Filter(unix.IPPROTO_ICMPV6, unix.ICMPV6_FILTER, &f); err != nil {
			return err
		}
	default:
		// A raw ICMP socket sees every ICMP packet: drop echo replies that
		// carry another id in the kernel, as iputils does.
		prog, err := bpf.Assemble([]bpf.Instruction{
			bpf.LoadMemShift{Off: 0},          // X = IP header length
			bpf.LoadIndirect{Off: 4, Size: 2}, // A = ICMP id
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(s.id), SkipFalse: 1},
			bpf.RetConstant{Val: 0xffff},      // ours
			bpf.LoadIndirect{Off: 0, Size: 1}, // A = ICMP type
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0, SkipTrue: 1},
			bpf.RetConstant{Val: 0xffff}, // not an echo reply: errors pass
			bpf.RetConstant{Val: 0},      // another pinger's reply
		})
		if err != nil {
			return err
		}
		if err := c.SetBPF(prog); err != nil {
			return err
		}
	}
	return nil
}

// setReceiveBuffer asks for n bytes of socket receive buffer, beyond
// net.core.rmem_max when allowed (SO_RCVBUFFORCE needs CAP_NET_ADMIN). It
// never shrinks the buffer the socket has.
func (s *socketConn) setReceiveBuffer(n int) error {
	if s.ts != nil {
		// Unread send stamps take their share of the same buffer: a
		// stamp without its packet costs about what a small reply does.
		n *= 2
	}
	// The kernel reports twice what was asked for: its bookkeeping.
	if cur, err := s.c.GetsockoptInt(unix.SOL_SOCKET, unix.SO_RCVBUF); err == nil && n <= cur/2 {
		return nil
	}
	if err := s.c.SetsockoptInt(unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n); err == nil {
		return nil
	}
	if err := s.c.SetsockoptInt(unix.SOL_SOCKET, unix.SO_RCVBUF, n); err != nil {
		return fmt.Errorf("ping: receive buffer of %d bytes: %w", n, err)
	}
	return nil
}

func (s *socketConn) Mode() Mode { return s.mode }

// Clocks says which clocks stamp the socket's probes and replies: the
// kernel's (send stamps from the error queue) or, on an interface that
// offers them, the NIC's; without send stamps, the user-space send time.
func (s *socketConn) Clocks() (send, receive StampSource) {
	switch {
	case s.ts == nil:
		return StampUser, StampKernel
	case s.ts.hardware:
		return StampHardware, StampHardware
	}
	return StampKernel, StampKernel
}

func (s *socketConn) ID() uint16 { return s.id }

func (s *socketConn) Drops() (uint64, error) { return 0, nil }

func (s *socketConn) Close() error {
	s.closed.Store(true)
	return s.c.Close()
}

func (s *socketConn) SetReceiveDeadline(t time.Time) error { return s.c.SetReadDeadline(t) }

// Send writes e's ICMP message; the kernel adds the IP header. TTL, TOS and
// DF are socket options, set when they change.
func (s *socketConn) Send(e *craft.Echo) (time.Time, error) {
	s.smu.Lock()
	defer s.smu.Unlock()
	e.Src = s.path.Source
	if !e.Dst.IsValid() {
		e.Dst = s.path.Target
	}
	if e.Dst.Is6() != s.six || e.Dst.Is4In6() {
		return time.Time{}, fmt.Errorf("ping: send to %s on a socket of the other family", e.Dst)
	}
	if s.six {
		s.to6.Addr = e.Dst.As16()
		if s.tx.flow != nil {
			s.tx.flow.Addr = s.to6.Addr
		}
	} else {
		s.to4.Addr = e.Dst.As4()
	}
	if err := s.setOpts(sendOpts{ttl: e.TTL, tos: e.TOS, df: e.DontFragment, set: true}); err != nil {
		return time.Time{}, err
	}
	if err := s.build.Serialize(e, s.sbuf, craft.DepthICMP); err != nil {
		return time.Time{}, err
	}
	now, err := s.send(e)
	if s.bound != "" && (errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENETUNREACH)) && s.rebind() {
		now, err = s.send(e)
	}
	if errors.Is(err, unix.EMSGSIZE) {
		return time.Time{}, &tooBigError{mtu: pathMTU(e.Dst), err: err}
	}
	return now, err
}

// send writes the serialized e, the kernel's send stamp reserved for it
// first, and returns the user-space time before the system call. s.smu is
// held.
func (s *socketConn) send(e *craft.Echo) (time.Time, error) {
	now := time.Now()
	if s.ts != nil {
		s.ts.reserve(e.Dst, e.ID, e.Seq, now)
	}
	err := s.tx.send(s.sbuf.Bytes())
	if err != nil && s.ts != nil {
		s.ts.failed(s.rc)
	}
	return now, err
}

// rebind follows the bound interface by name after a send failed as one
// whose interface is gone fails (ENODEV, ENETUNREACH): when an interface
// of that name exists again under another index, the socket is bound to
// it, link-local destinations take its index as their zone, and rebind
// reports true. Binding a bound socket again needs CAP_NET_RAW: a process
// that dropped it (send does once its sockets are open) cannot follow,
// and the run ends in one line (see lost) instead of failing every probe
// for ever. s.smu is held.
func (s *socketConn) rebind() bool {
	index, err := s.ifIndex(s.bound)
	if err == nil && index == s.boundIndex {
		return false // the interface is there: another cause
	}
	if !haveNetRaw() {
		gone := fmt.Errorf("interface %s went away under its %s socket, which cannot follow it without CAP_NET_RAW (dropped once the socket was open): run again once %s is back", s.bound, s.mode, s.bound)
		s.lost.Store(&gone)
		return false
	}
	if err != nil {
		return false // gone for now: probes fail until it is back
	}
	if err := s.c.SetsockoptString(unix.SOL_SOCKET, unix.SO_BINDTODEVICE, s.bound); err != nil {
		return false
	}
	s.boundIndex = index
	if s.six && s.to6.ZoneId != 0 {
		s.to6.ZoneId = uint32(index)
	}
	return true
}

// haveNetRaw reports whether the calling thread holds CAP_NET_RAW.
func haveNetRaw() bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if unix.Capget(&hdr, &data[0]) != nil {
		return false
	}
	return data[0].Effective&(1<<unix.CAP_NET_RAW) != 0
}

// ifIndex is the index of the interface named name now, asked of the
// kernel through the socket (SIOCGIFINDEX): no netlink dump per failed
// send.
func (s *socketConn) ifIndex(name string) (int, error) {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, err
	}
	rc, err := s.c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var ierr error
	if err := rc.Control(func(fd uintptr) { ierr = unix.IoctlIfreq(int(fd), unix.SIOCGIFINDEX, ifr) }); err != nil {
		return 0, err
	}
	if ierr != nil {
		return 0, os.NewSyscallError("ioctl SIOCGIFINDEX", ierr)
	}
	return int(ifr.Uint32()), nil
}

// pathMTU is the kernel's path MTU to dst now, learnt from ICMP
// "fragmentation needed" or "packet too big" included, as a connected UDP
// socket reads it (IP_MTU); 0 when it cannot tell.
func pathMTU(dst netip.Addr) int {
	domain, level, opt := unix.AF_INET, unix.IPPROTO_IP, unix.IP_MTU
	var sa unix.Sockaddr = &unix.SockaddrInet4{Port: 9, Addr: dst.Unmap().As4()}
	if dst.Is6() && !dst.Is4In6() {
		domain, level, opt = unix.AF_INET6, unix.IPPROTO_IPV6, unix.IPV6_MTU
		sa = &unix.SockaddrInet6{Port: 9, Addr: dst.As16()}
	}
	fd, err := unix.Socket(domain, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0
	}
	defer unix.Close(fd)
	if unix.Connect(fd, sa) != nil { // sends nothing: it only picks the route
		return 0
	}
	mtu, err := unix.GetsockoptInt(fd, level, opt)
	if err != nil {
		return 0
	}
	return mtu
}

// discover picks the family's MTU discovery option for a probe: DF off, or
// on as iputils' "want" (the kernel may fragment past the path MTU) or "do".
func (s *socketConn) discover(o sendOpts, dont, want, do int) int {
	switch {
	case o.df && s.pmtu == PMTUDiscDo:
		return do
	case o.df:
		return want
	}
	return dont
}

func (s *socketConn) setOpts(o sendOpts) error {
	if o == s.opts {
		return nil
	}
	ttl := int(o.ttl)
	if ttl == 0 {
		ttl = craft.DefaultTTL
	}
	var err error
	if s.six {
		pmtu := s.discover(o, unix.IPV6_PMTUDISC_DONT, unix.IPV6_PMTUDISC_WANT, unix.IPV6_PMTUDISC_DO)
		err = errors.Join(
			s.c.SetsockoptInt(unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, ttl),
			s.c.SetsockoptInt(unix.IPPROTO_IPV6, unix.IPV6_TCLASS, int(o.tos)),
			s.c.SetsockoptInt(unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, pmtu),
		)
	} else {
		pmtu := s.discover(o, unix.IP_PMTUDISC_DONT, unix.IP_PMTUDISC_WANT, unix.IP_PMTUDISC_DO)
		err = errors.Join(
			s.c.SetsockoptInt(unix.IPPROTO_IP, unix.IP_TTL, ttl),
			s.c.SetsockoptInt(unix.IPPROTO_IP, unix.IP_TOS, int(o.tos)),
			s.c.SetsockoptInt(unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, pmtu),
		)
	}
	if err != nil {
		return err
	}
	s.opts = o
	return nil
}

// Receive reads the next packet, or the next ICMP error from a ping
// socket's error queue.
func (s *socketConn) Receive(r *Received) error {
	for {
		if lost := s.lost.Load(); lost != nil {
			return *lost
		}
		if s.mode == ModeDgram && !s.errDrained {
			// Queued ICMP errors first, until the queue is empty. The
			// queue is read without a deadline so none is ever skipped.
			ok, err := s.errQueue(r)
			if err != nil || ok {
				return err
			}
			s.errDrained = true
		}
		err := s.recv()
		n, oobn := s.rn, s.roobn
		if err != nil {
			if s.mode == ModeDgram && !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, net.ErrClosed) {
				// A plain recvmsg reports (and clears) the socket error
				// that announces a queued ICMP error: go and read it.
				s.errDrained = false
				continue
			}
			return err
		}
		if s.rq {
			if s.errMessage(r, n, oobn) {
				return nil
			}
			continue
		}
		*r = Received{}
		s.control(s.oob[:oobn], r)
		data := s.rbuf[:n]
		if !s.six && s.mode == ModeRaw {
			// Raw IPv4 sockets deliver the IP header.
			if err := s.dec.Decode(data, &r.Packet); err != nil {
				continue
			}
			r.From, r.TTL, r.HasTTL = r.Packet.Src, r.Packet.TTL, true
			r.Bytes = r.Packet.IPLength - int(data[0]&0xf)*4
		} else {
			s.dec.DecodeICMP(data, s.six, &r.Packet)
			r.From = s.from()
			r.Bytes = n
		}
		if r.Packet.Class == craft.ClassOther || r.Packet.Class == craft.ClassEchoRequest {
			continue
		}
		return nil
	}
}

// control reads the kernel timestamp and TTL from a message's ancillary data.
// It returns the data of an IP(V6)_RECVERR message, if there is one. The
// buffer is walked in place: unix.ParseSocketControlMessage would allocate
// for every packet.
func (s *socketConn) control(oob []byte, r *Received) (extErr []byte) {
	defer func() {
		if r.Stamp == 0 {
			r.At, r.Stamp = time.Now(), StampUser
		}
	}()
	for len(oob) > 0 {
		h, data, rest, err := unix.ParseOneSocketControlMessage(oob)
		if err != nil {
			return extErr
		}
		oob = rest
		switch {
		case h.Level == unix.SOL_SOCKET && h.Type == unix.SO_TIMESTAMPNS && len(data) >= 16:
			sec := int64(binary.NativeEndian.Uint64(data[0:8]))
			nsec := int64(binary.NativeEndian.Uint64(data[8:16]))
			r.At, r.Stamp = time.Unix(sec, nsec), StampKernel
		case h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPING:
			// With SO_TIMESTAMPING on for send stamps, replies carry
			// this too: the software stamp SO_TIMESTAMPNS also gives,
			// and the NIC's when it stamps.
			sw, hw := scmTimestamping(data)
			if r.Stamp == 0 && !sw.IsZero() {
				r.At, r.Stamp = sw, StampKernel
			}
			r.HW = hw
		case (h.Level == unix.IPPROTO_IP && h.Type == unix.IP_TTL || h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_HOPLIMIT) && len(data) >= 4:
			r.TTL, r.HasTTL = uint8(binary.NativeEndian.Uint32(data)), true
		case h.Level == unix.IPPROTO_IP && h.Type == unix.IP_RECVERR || h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_RECVERR:
			extErr = data
		}
	}
	return extErr
}

// errQueue reads one message of the socket's error queue, without
// waiting: an ICMP error (ping sockets) into r as a ClassError packet whose
// quote is the probe it answers, or a send stamp (see errMessage). It
// reports false when the queue is empty or the message concerns no probe.
func (s *socketConn) errQueue(r *Received) (bool, error) {
	if err := s.rc.Control(func(fd uintptr) {
		s.rn, s.roobn, s.rerr = s.recvmsgFlags(fd, unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
	}); err != nil {
		return false, err
	}
	if errors.Is(s.rerr, unix.EAGAIN) {
		return false, nil
	}
	if s.rerr != nil {
		return false, os.NewSyscallError("recvmsg", s.rerr)
	}
	return s.errMessage(r, s.rn, s.roobn), nil
}

// errMessage decodes the error queue message of n data and oobn control
// bytes that the last recvmsg read into r: an ICMP error, or a kernel send
// stamp as an Outgoing, Own packet naming its probe. It reports false for
// a message that concerns no probe (a stamp of an older count, or of a
// probe too long ago).
func (s *socketConn) errMessage(r *Received, n, oobn int) bool {
	*r = Received{}
	var sw, hw time.Time
	for oob := s.oob[:oobn]; len(oob) > 0; {
		h, data, rest, err := unix.ParseOneSocketControlMessage(oob)
		if err != nil {
			break
		}
		oob = rest
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPING {
			sw, hw = scmTimestamping(data)
		}
	}
	data := s.control(s.oob[:oobn], r)
	const eeLen = int(unsafe.Sizeof(unix.SockExtendedErr{}))
	if len(data) < eeLen {
		return false
	}
	ee := (*unix.SockExtendedErr)(unsafe.Pointer(&data[0]))
	if ee.Origin == unix.SO_EE_ORIGIN_TIMESTAMPING {
		return s.sendStamp(r, ee, sw, hw)
	}
	if ee.Origin != unix.SO_EE_ORIGIN_ICMP && ee.Origin != unix.SO_EE_ORIGIN_ICMP6 {
		return false
	}
	r.From = offender(data[eeLen:], s.six)
	pk := &r.Packet
	*pk = craft.Packet{Class: craft.ClassError}
	e := &pk.Error
	e.Six, e.Type, e.Code = s.six, ee.Type, ee.Code
	e.Kind = craft.ErrorKindOf(s.six, ee.Type)
	if e.Kind == 0 {
		return false
	}
	switch e.Kind {
	case craft.ErrPacketTooBig:
		e.MTU = ee.Info
	case craft.ErrUnreachable:
		if !s.six && ee.Code == 4 {
			e.MTU = ee.Info
		}
	case craft.ErrParameterProblem:
		e.Pointer = ee.Info
	}
	// The data is the probe as sent; its id is the kernel's. The message's
	// address is the probe's destination.
	if n >= 8 {
		to := s.path.Target // when the kernel does not say it
		if a := s.from(); a.IsValid() && !a.IsUnspecified() {
			to = a
		}
		e.Quote = craft.Quote{Present: true, Src: s.path.Source, Dst: to, Echo: true,
			ID: binary.BigEndian.Uint16(s.rbuf[4:6]), Seq: binary.BigEndian.Uint16(s.rbuf[6:8])}
		pk.QuoteData = s.rbuf[8:n]
	}
	return true
}

// sendStamp turns the kernel's send stamp ee (numbered by OPT_ID in
// ee_data) into r: our probe, which left at the software stamp sw or the
// NIC's hw.
func (s *socketConn) sendStamp(r *Received, ee *unix.SockExtendedErr, sw, hw time.Time) bool {
	if s.ts == nil || ee.Info != unix.SCM_TSTAMP_SND {
		return false
	}
	at, clock := sw, StampKernel
	if !hw.IsZero() {
		at, clock = hw, StampHardware
	}
	if at.IsZero() {
		return false
	}
	slot, _, ok := s.ts.match(ee.Data, at, clock == StampHardware)
	if !ok {
		return false
	}
	*r = Received{Outgoing: true, Own: true, At: at, Stamp: clock}
	r.Packet = craft.Packet{Class: craft.ClassEchoRequest, Dst: slot.dst, ID: slot.id, Seq: slot.seq}
	return true
}

// offender parses the sockaddr that follows a sock_extended_err.
func offender(b []byte, six bool) netip.Addr {
	if six {
		if len(b) >= unix.SizeofSockaddrInet6 {
			a, _ := netip.AddrFromSlice(b[8:24])
			return a
		}
	} else if len(b) >= unix.SizeofSockaddrInet4 {
		a, _ := netip.AddrFromSlice(b[4:8])
		return a
	}
	return netip.Addr{}
}

// recvmsg is recvmsg(2) into the conn's buffers. unix.Recvmsg would do,
// but for AF_INET it asks the socket its protocol (a getsockopt) and
// allocates the source address on every call: a flood pays both per reply.
func (s *socketConn) recvmsg(fd uintptr) (n, oobn int, err error) {
	return s.recvmsgFlags(fd, 0)
}

// recvmsgFlags is recvmsg with flags (MSG_ERRQUEUE).
func (s *socketConn) recvmsgFlags(fd uintptr, flags int) (n, oobn int, err error) {
	s.riov.Base = &s.rbuf[0]
	s.riov.SetLen(len(s.rbuf))
	s.rfrom = unix.RawSockaddrInet6{} // an error queue message may leave it unset
	s.rmsg = unix.Msghdr{Name: (*byte)(unsafe.Pointer(&s.rfrom)), Namelen: unix.SizeofSockaddrInet6, Iov: &s.riov, Iovlen: 1}
	s.rmsg.Control = &s.oob[0]
	s.rmsg.SetControllen(len(s.oob))
	r, _, errno := unix.Syscall(unix.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(&s.rmsg)), uintptr(flags))
	if errno != 0 {
		return 0, 0, errno
	}
	return int(r), int(s.rmsg.Controllen), nil
}

// from is the source address of the last recvmsg.
func (s *socketConn) from() netip.Addr {
	switch s.rfrom.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&s.rfrom))
		return netip.AddrFrom4(sa.Addr)
	case unix.AF_INET6:
		return netip.AddrFrom16(s.rfrom.Addr)
	}
	return netip.Addr{}
}

// setFlowLabel has every probe carry the IPv6 flow label label, leased
// from the kernel for the socket's destination.
func (s *socketConn) setFlowLabel(label uint32) error {
	be, err := leaseFlowLabel(s.rc, s.to6.Addr, label)
	if err != nil {
		return err
	}
	s.tx.flow = &unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: s.to6.Addr, Flowinfo: be, Scope_id: s.to6.ZoneId}
	return nil
}
