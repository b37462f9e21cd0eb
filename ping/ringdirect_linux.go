package ping

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/pingcraft/pingcraft/craft"
)

// directRecv receives a ring transport's frames on its send socket instead
// of a ring: replies through recvmsg with the kernel's receive stamp
// (SO_TIMESTAMPNS), and our own requests, as they left, from the error
// queue with the kernel's software transmit stamp (SO_TIMESTAMPING), which
// is what the ring's copy of an outgoing frame gives. A link whose driver
// does not stamp sends gives none: the engine then takes the user-space
// send time, as for the sockets.
type directRecv struct {
	rc  syscall.RawConn
	buf []byte
	oob []byte
	// Outgoing frames in the error queue are as the driver saw them: with
	// the link-layer header on a link that has one, whatever the mode.
	txDec *craft.Decoder
	txL3  int
	// drops is the kernel's count of frames the socket had no room for
	// (SO_RXQ_OVFL), as of the last frame read.
	drops atomic.Uint32

	// The last read: fn's results.
	n, oobn int
	errq    bool
	err     error
	fn      func(fd uintptr) bool
}

func newDirectRecv(rc syscall.RawConn, ether bool) (*directRecv, error) {
	d := &directRecv{rc: rc, buf: make([]byte, 1<<16+64), oob: make([]byte, 256)}
	var err error
	link := craft.LinkTypeRaw
	if ether {
		link, d.txL3 = craft.LinkTypeEthernet, 14
	}
	if d.txDec, err = craft.NewDecoder(link); err != nil {
		return nil, err
	}
	d.fn = func(fd uintptr) bool {
		// The error queue first: a request's stamp before its reply.
		d.errq = true
		d.n, d.oobn, d.err = d.recvmsg(fd, unix.MSG_ERRQUEUE)
		if d.err == unix.EAGAIN {
			d.errq = false
			d.n, d.oobn, d.err = d.recvmsg(fd, unix.MSG_TRUNC)
		}
		return d.err != unix.EAGAIN
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		for _, o := range []struct{ opt, v int }{
			{unix.SO_TIMESTAMPNS, 1},
			{unix.SO_RXQ_OVFL, 1},
			{unix.SO_TIMESTAMPING, unix.SOF_TIMESTAMPING_TX_SOFTWARE | unix.SOF_TIMESTAMPING_SOFTWARE},
		} {
			if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, o.opt, o.v); serr != nil {
				serr = os.NewSyscallError("setsockopt", serr)
				return
			}
		}
	})
	return d, errors.Join(err, serr)
}

func (d *directRecv) recvmsg(fd uintptr, flags int) (n, oobn int, err error) {
	iov := unix.Iovec{Base: &d.buf[0]}
	iov.SetLen(len(d.buf))
	msg := unix.Msghdr{Iov: &iov, Iovlen: 1, Control: &d.oob[0]}
	msg.SetControllen(len(d.oob))
	r, _, errno := unix.Syscall(unix.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(&msg)), uintptr(flags|unix.MSG_DONTWAIT))
	if errno != 0 {
		return 0, 0, errno
	}
	return int(r), int(msg.Controllen), nil
}

// read waits for the next frame: its data (valid until the next read),
// its length on the wire, when the kernel stamped it (zero without a
// stamp) and whether it is one of ours from the error queue.
func (d *directRecv) read() (data []byte, wire int, at time.Time, errq bool, err error) {
	d.err = nil
	if err := d.rc.Read(d.fn); err != nil {
		return nil, 0, time.Time{}, false, err
	}
	if d.err != nil {
		return nil, 0, time.Time{}, false, os.NewSyscallError("recvmsg", d.err)
	}
	at = d.control(d.oob[:d.oobn], d.errq)
	return d.buf[:min(d.n, len(d.buf))], d.n, at, d.errq, nil
}

// control reads the stamp (and the drop count) of the last message.
func (d *directRecv) control(oob []byte, errq bool) (at time.Time) {
	for len(oob) > 0 {
		h, data, rest, err := unix.ParseOneSocketControlMessage(oob)
		if err != nil {
			return at
		}
		oob = rest
		if h.Level != unix.SOL_SOCKET {
			continue
		}
		switch {
		case !errq && h.Type == unix.SCM_TIMESTAMPNS && len(data) >= 16,
			errq && h.Type == unix.SCM_TIMESTAMPING && len(data) >= 16: // the software stamp comes first
			sec := int64(binary.NativeEndian.Uint64(data[0:8]))
			nsec := int64(binary.NativeEndian.Uint64(data[8:16]))
			if sec != 0 || nsec != 0 {
				at = time.Unix(sec, nsec)
			}
		case h.Type == unix.SO_RXQ_OVFL && len(data) >= 4:
			d.drops.Store(binary.NativeEndian.Uint32(data))
		}
	}
	return at
}

// receiveDirect is Receive without a ring.
func (c *ringConn) receiveDirect(r *Received) error {
	for {
		data, wire, at, errq, err := c.direct.read()
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			return c.errTimeout
		case err != nil && c.closed.Load():
			return fmt.Errorf("ping: receive on %s: %w", c.iface, net.ErrClosed)
		case errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrClosed):
			return fmt.Errorf("ping: receive on %s: %w", c.iface, net.ErrClosed)
		case errors.Is(err, syscall.EINTR):
			continue
		case err != nil:
			return fmt.Errorf("ping: receive on %s: %w", c.iface, err)
		}
		c.frame = append(c.frame[:0], data...)
		dec, l3 := c.dec, c.l3
		if errq {
			dec, l3 = c.direct.txDec, c.direct.txL3
			if at.IsZero() {
				continue // no stamp: the engine keeps the user-space send time
			}
		}
		if !c.acceptWith(r, dec, l3, at, wire) || errq != r.Outgoing {
			continue
		}
		if at.IsZero() {
			r.At, r.Stamp = time.Now(), StampUser
		}
		return nil
	}
}
