package ping

import (
	"net"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sender is sendto(2) through the runtime poller with one closure made at
// open. mdlayher/socket's own Sendto starts a goroutine per call to watch
// its context, which costs more than a whole round trip on a veth.
type sender struct {
	net string // the *net.OpError's Net
	rc  syscall.RawConn
	to  unix.Sockaddr
	// flow, when set, is the destination as the kernel takes it, flow
	// information included, which unix.SockaddrInet6 cannot carry: sends
	// go to it instead of to.
	flow *unix.RawSockaddrInet6
	b    []byte
	err  error
	fn   func(fd uintptr) bool
}

func newSender(network string, rc syscall.RawConn, to unix.Sockaddr) *sender {
	s := &sender{net: network, rc: rc, to: to}
	s.fn = func(fd uintptr) bool {
		if s.flow != nil {
			s.err = nil
			_, _, errno := unix.Syscall6(unix.SYS_SENDTO, fd, uintptr(unsafe.Pointer(unsafe.SliceData(s.b))), uintptr(len(s.b)), 0,
				uintptr(unsafe.Pointer(s.flow)), unix.SizeofSockaddrInet6)
			if errno != 0 {
				s.err = errno
			}
		} else {
			s.err = unix.Sendto(int(fd), s.b, 0, s.to)
		}
		return s.err != unix.EAGAIN
	}
	return s
}

// send writes b. It must not be called concurrently with itself. Errors
// are a *net.OpError around an *os.SyscallError, as the net package's,
// so errors.Is finds ENOBUFS, and EPERM as os.ErrPermission.
func (s *sender) send(b []byte) error {
	s.b, s.err = b, nil
	err := s.rc.Write(s.fn)
	s.b = nil
	if err == nil && s.err != nil {
		err = os.NewSyscallError("sendto", s.err)
	}
	if err != nil {
		return &net.OpError{Op: "write", Net: s.net, Err: err}
	}
	return nil
}
