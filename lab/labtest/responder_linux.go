//go:build linux

package labtest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/google/gopacket"
	"github.com/mdlayher/socket"
	"github.com/vishvananda/netlink"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/lab"
)

// ResponderConfig says how a Responder answers. A nil *ResponderConfig, like
// the zero value, answers every request at once and intact, as the kernel
// does.
type ResponderConfig struct {
	// Delay holds every reply this long before it leaves: delay emulation
	// for kernels without netem.
	Delay time.Duration
	// Duplicates is how many extra copies of every reply are sent, back to
	// back after the first.
	Duplicates int
	// Corrupt lists the data bytes to spoil, by sequence number.
	Corrupt []Corruption
}

// Corruption spoils the reply to every request with sequence number Seq, in
// either family: the echo data byte at Offset (0 is the first byte after the
// ICMP header) is inverted. The checksum is computed afterwards, so the reply
// is well formed and only its data is wrong, the case iputils reports as
// "wrong data byte". An Offset beyond the data changes nothing.
type Corruption struct {
	Seq    uint16
	Offset int
}

// ResponderStats counts what a Responder did.
type ResponderStats struct {
	Requests  int // echo requests answered
	Replies   int // reply packets sent, duplicates included
	Corrupted int // requests answered with a spoiled byte
	// BadChecksums counts IPv4 requests ignored because their ICMP
	// checksum is wrong, as the kernel ignores them. The kernel drops
	// ICMPv6 with a wrong checksum before a raw socket sees it.
	BadChecksums int
}

// Responder answers ICMP and ICMPv6 echo requests in one namespace in place
// of the kernel, through raw sockets, with replies built by craft. Only one
// may run in a namespace at a time.
type Responder struct {
	node    *lab.Node
	cfg     ResponderConfig
	local   map[netip.Addr]bool
	socks   []*echoSocket
	restore []sysctl
	done    chan struct{}
	wg      sync.WaitGroup

	requests, replies, corrupted, badChecksums atomic.Int64

	errOnce   sync.Once
	err       error // the first error met while running
	closeOnce sync.Once
	closeErr  error
}

// echoSocket is one family's raw socket and what its goroutines share.
type echoSocket struct {
	six   bool
	c     *socket.Conn
	queue chan reply // receive -> send, in arrival order, so due times ascend
}

// reply is one answer waiting for its time to leave.
type reply struct {
	due time.Time
	msg []byte // the ICMP message
	oob []byte // source address and TOS for sendmsg
	to  unix.Sockaddr
	seq uint16
}

// Respond silences the kernel's echo replies in n (icmp_echo_ignore_all, both
// families) and answers echo requests itself, as cfg says, until Close. It
// answers requests to the addresses n has when Respond is called, unicast
// only, from the address the request was sent to.
func Respond(n *lab.Node, cfg *ResponderConfig) (*Responder, error) {
	r := &Responder{node: n, local: map[netip.Addr]bool{}, done: make(chan struct{})}
	if cfg != nil {
		r.cfg = *cfg
		r.cfg.Corrupt = append([]Corruption(nil), cfg.Corrupt...)
	}
	if r.cfg.Delay < 0 || r.cfg.Duplicates < 0 {
		return nil, fmt.Errorf("labtest: respond in %s: negative delay or duplicates", n.Name)
	}
	err := n.Do(func() error {
		addrs, err := netlink.AddrList(nil, netlink.FAMILY_ALL)
		if err != nil {
			return fmt.Errorf("list addresses: %w", err)
		}
		for _, a := range addrs {
			if ip, ok := netip.AddrFromSlice(a.IP); ok {
				r.local[ip.Unmap()] = true
			}
		}
		// The kernel goes quiet first: both answering would duplicate.
		for _, key := range []string{"net/ipv4/icmp_echo_ignore_all", "net/ipv6/icmp/echo_ignore_all"} {
			old, err := os.ReadFile(filepath.Join("/proc/sys", key))
			if err != nil {
				return err
			}
			r.restore = append(r.restore, sysctl{key, strings.TrimSpace(string(old))})
			if err := writeSysctl(sysctl{key, "1"}); err != nil {
				return err
			}
		}
		for _, six := range []bool{false, true} {
			f, err := openEchoSocket(six)
			if err != nil {
				return err
			}
			r.socks = append(r.socks, f)
		}
		return nil
	})
	if err != nil {
		r.closeSockets()
		return nil, errors.Join(fmt.Errorf("labtest: respond in %s: %w", n.Name, err), r.restoreSysctls())
	}
	for _, f := range r.socks {
		r.wg.Go(func() { r.receive(f) })
		r.wg.Go(func() { r.send(f) })
	}
	return r, nil
}

// sysctl is a key under /proc/sys and its value.
type sysctl struct{ key, value string }

func writeSysctl(s sysctl) error {
	if err := os.WriteFile(filepath.Join("/proc/sys", s.key), []byte(s.value), 0o644); err != nil {
		return fmt.Errorf("set sysctl %s=%s: %w", s.key, s.value, err)
	}
	return nil
}

// openEchoSocket opens the raw ICMP (six false) or ICMPv6 socket, passing
// echo requests only.
func openEchoSocket(six bool) (*echoSocket, error) {
	domain, proto := unix.AF_INET, unix.IPPROTO_ICMP
	if six {
		domain, proto = unix.AF_INET6, unix.IPPROTO_ICMPV6
	}
	c, err := socket.Socket(domain, unix.SOCK_RAW, proto, "responder", nil)
	if err != nil {
		return nil, err
	}
	f := &echoSocket{six: six, c: c, queue: make(chan reply, 1024)}
	if six {
		var filter unix.ICMPv6Filter
		for i := range filter.Data {
			filter.Data[i] = 0xffffffff
		}
		filter.Data[128>>5] &^= 1 << (128 & 31) // echo request
		err = errors.Join(
			c.SetsockoptICMPv6Filter(unix.IPPROTO_ICMPV6, unix.ICMPV6_FILTER, &filter),
			// The header is not delivered: learn its destination and class.
			c.SetsockoptInt(unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1),
			c.SetsockoptInt(unix.IPPROTO_IPV6, unix.IPV6_RECVTCLASS, 1),
		)
	} else {
		var prog []bpf.RawInstruction
		prog, err = bpf.Assemble([]bpf.Instruction{
			bpf.LoadMemShift{Off: 0},          // X = IP header length
			bpf.LoadIndirect{Off: 0, Size: 1}, // A = ICMP type
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: 8, SkipFalse: 1},
			bpf.RetConstant{Val: 0xffff},
			bpf.RetConstant{Val: 0},
		})
		if err == nil {
			err = c.SetBPF(prog)
		}
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return f, nil
}

// Stats returns what the responder has done so far.
func (r *Responder) Stats() ResponderStats {
	return ResponderStats{
		Requests:     int(r.requests.Load()),
		Replies:      int(r.replies.Load()),
		Corrupted:    int(r.corrupted.Load()),
		BadChecksums: int(r.badChecksums.Load()),
	}
}

// Close stops the responder, drops replies still held back by Delay, and
// gives echo replies back to the kernel. It returns the first error the
// responder met while running, if any. It is idempotent.
func (r *Responder) Close() error {
	r.closeOnce.Do(func() {
		close(r.done)
		r.closeSockets() // unblocks the receivers
		r.wg.Wait()
		r.closeErr = errors.Join(r.err, r.restoreSysctls())
	})
	return r.closeErr
}

func (r *Responder) closeSockets() {
	for _, f := range r.socks {
		f.c.Close()
	}
}

func (r *Responder) restoreSysctls() error {
	if len(r.restore) == 0 {
		return nil
	}
	err := r.node.Do(func() error {
		var errs []error
		for _, s := range r.restore {
			errs = append(errs, writeSysctl(s))
		}
		return errors.Join(errs...)
	})
	if err != nil {
		return fmt.Errorf("labtest: stop responder in %s: %w", r.node.Name, err)
	}
	return nil
}

func (r *Responder) fail(err error) {
	select {
	case <-r.done:
		return // errors of a closing socket
	default:
	}
	r.errOnce.Do(func() { r.err = fmt.Errorf("labtest: responder in %s: %w", r.node.Name, err) })
}

func (r *Responder) stopping() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// receive reads requests and queues their replies until the socket closes.
func (r *Responder) receive(f *echoSocket) {
	defer close(f.queue)
	dec, err := craft.NewDecoder(craft.LinkTypeRaw)
	if err != nil {
		r.fail(err)
		return
	}
	buf, oob := make([]byte, 1<<16), make([]byte, 512)
	sbuf := gopacket.NewSerializeBuffer()
	var pk craft.Packet
	for {
		n, oobn, _, from, err := f.c.Recvmsg(context.Background(), buf, oob, 0)
		if err != nil {
			if !r.stopping() {
				r.fail(fmt.Errorf("receive: %w", err))
			}
			return
		}
		at := time.Now()
		var echo craft.Echo
		var zone uint32
		if f.six {
			dec.DecodeICMP(buf[:n], true, &pk)
			echo.Dst = addrOf(from)
			echo.Src, zone, echo.TOS = pktInfo6(oob[:oobn])
		} else {
			if dec.Decode(buf[:n], &pk) != nil {
				continue
			}
			if pk.ICMPChecksum.Status == craft.ChecksumBad {
				r.badChecksums.Add(1)
				continue
			}
			echo.Src, echo.Dst, echo.TOS = pk.Dst, pk.Src, pk.TOS
		}
		if pk.Class != craft.ClassEchoRequest || !r.local[echo.Src] || !echo.Dst.IsValid() {
			continue
		}
		echo.Reply, echo.ID, echo.Seq = true, pk.ID, pk.Seq
		echo.Payload = append([]byte(nil), pk.Payload...)
		spoilt := false
		for _, c := range r.cfg.Corrupt {
			if c.Seq == pk.Seq && c.Offset >= 0 && c.Offset < len(echo.Payload) {
				echo.Payload[c.Offset] ^= 0xff
				spoilt = true
			}
		}
		if err := echo.Serialize(sbuf, craft.DepthICMP); err != nil {
			r.fail(err)
			continue
		}
		rep := reply{due: at.Add(r.cfg.Delay), msg: append([]byte(nil), sbuf.Bytes()...), seq: pk.Seq}
		rep.to, rep.oob = destination(&echo, zone)
		r.requests.Add(1)
		if spoilt {
			r.corrupted.Add(1)
		}
		select {
		case f.queue <- rep:
		case <-r.done:
			return
		}
	}
}

// send writes each queued reply when it is due, with its duplicates.
func (r *Responder) send(f *echoSocket) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for rep := range f.queue {
		if wait := time.Until(rep.due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-r.done:
				return
			}
		}
		for range 1 + r.cfg.Duplicates {
			if _, err := f.c.Sendmsg(context.Background(), rep.msg, rep.oob, rep.to, 0); err != nil {
				r.fail(fmt.Errorf("reply to %v seq %d: %w", rep.to, rep.seq, err))
				break
			}
			r.replies.Add(1)
		}
	}
}

// destination returns where a reply goes and the control message that makes
// it leave from the address the request was sent to, with its TOS.
func destination(e *craft.Echo, zone uint32) (unix.Sockaddr, []byte) {
	if e.Is6() {
		var info unix.Inet6Pktinfo
		info.Addr = e.Src.As16()
		if e.Dst.IsLinkLocalUnicast() {
			info.Ifindex = zone
		}
		oob := cmsg(unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, unsafe.Slice((*byte)(unsafe.Pointer(&info)), unix.SizeofInet6Pktinfo))
		oob = append(oob, cmsgInt(unix.IPPROTO_IPV6, unix.IPV6_TCLASS, int32(e.TOS))...)
		return &unix.SockaddrInet6{Addr: e.Dst.As16(), ZoneId: info.Ifindex}, oob
	}
	var info unix.Inet4Pktinfo
	info.Spec_dst = e.Src.As4()
	oob := cmsg(unix.IPPROTO_IP, unix.IP_PKTINFO, unsafe.Slice((*byte)(unsafe.Pointer(&info)), unix.SizeofInet4Pktinfo))
	oob = append(oob, cmsgInt(unix.IPPROTO_IP, unix.IP_TOS, int32(e.TOS))...)
	return &unix.SockaddrInet4{Addr: e.Dst.As4()}, oob
}

func cmsg(level, typ int, data []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(data)))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = int32(level), int32(typ)
	h.SetLen(unix.CmsgLen(len(data)))
	copy(b[unix.CmsgLen(0):], data)
	return b
}

func cmsgInt(level, typ int, v int32) []byte {
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], uint32(v))
	return cmsg(level, typ, b[:])
}

// pktInfo6 reads the destination address, interface and traffic class of
// an ICMPv6 message from its ancillary data.
func pktInfo6(oob []byte) (dst netip.Addr, ifindex uint32, tclass uint8) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return
	}
	for _, m := range msgs {
		if m.Header.Level != unix.IPPROTO_IPV6 {
			continue
		}
		switch {
		case m.Header.Type == unix.IPV6_PKTINFO && len(m.Data) >= unix.SizeofInet6Pktinfo:
			dst = netip.AddrFrom16([16]byte(m.Data[:16]))
			ifindex = binary.NativeEndian.Uint32(m.Data[16:20])
		case m.Header.Type == unix.IPV6_TCLASS && len(m.Data) >= 4:
			tclass = uint8(binary.NativeEndian.Uint32(m.Data))
		}
	}
	return
}

func addrOf(sa unix.Sockaddr) netip.Addr {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrFrom4(sa.Addr)
	case *unix.SockaddrInet6:
		return netip.AddrFrom16(sa.Addr)
	}
	return netip.Addr{}
}
