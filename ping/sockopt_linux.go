package ping

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// setSocketOptions sets o on the socket rc, of the IPv6 family when six
// and an IP socket when ip (not AF_PACKET, where the IP-level options mean
// nothing: pingcraft writes the IP header itself).
func setSocketOptions(rc syscall.RawConn, six, ip bool, o SocketOptions) error {
	var err error
	set := func(fd uintptr) {
		setInt := func(level, opt, v int, name string) bool {
			if e := unix.SetsockoptInt(int(fd), level, opt, v); e != nil {
				err = fmt.Errorf("%s %d: %w", name, v, os.NewSyscallError("setsockopt", e))
				return false
			}
			return true
		}
		if o.Mark != 0 && !setInt(unix.SOL_SOCKET, unix.SO_MARK, int(o.Mark), "SO_MARK") {
			return
		}
		if o.SendBuffer > 0 && !setInt(unix.SOL_SOCKET, unix.SO_SNDBUF, o.SendBuffer, "SO_SNDBUF") {
			return
		}
		if o.DontRoute && !setInt(unix.SOL_SOCKET, unix.SO_DONTROUTE, 1, "SO_DONTROUTE") {
			return
		}
		if o.Debug && !setInt(unix.SOL_SOCKET, unix.SO_DEBUG, 1, "SO_DEBUG") {
			return
		}
		if !ip {
			return
		}
		if o.Broadcast && !six && !setInt(unix.SOL_SOCKET, unix.SO_BROADCAST, 1, "SO_BROADCAST") {
			return
		}
		if o.NoMulticastLoop {
			level, opt := unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP
			if six {
				level, opt = unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_LOOP
			}
			if !setInt(level, opt, 0, "IP_MULTICAST_LOOP") {
				return
			}
		}
		if len(o.IPOptions) > 0 && !six {
			if e := unix.SetsockoptString(int(fd), unix.IPPROTO_IP, unix.IP_OPTIONS, string(o.IPOptions)); e != nil {
				err = fmt.Errorf("IP_OPTIONS: %w", os.NewSyscallError("setsockopt", e))
			}
		}
	}
	if e := rc.Control(set); e != nil {
		return e
	}
	return err
}

// Flow label management (linux/in6.h), which x/sys/unix does not define.
const (
	ipv6FlowlabelMgr = 32 // IPV6_FLOWLABEL_MGR
	ipv6FlowinfoSend = 33 // IPV6_FLOWINFO_SEND
	ipv6FlActionGet  = 0  // IPV6_FL_A_GET
	ipv6FlFlagCreate = 1  // IPV6_FL_F_CREATE
	ipv6FlShareExcl  = 1  // IPV6_FL_S_EXCL
)

// in6FlowlabelReq is struct in6_flowlabel_req.
type in6FlowlabelReq struct {
	dst     [16]byte
	label   uint32 // network order
	action  uint8
	share   uint8
	flags   uint16
	expires uint16
	linger  uint16
	_       uint32
}

// leaseFlowLabel asks the kernel for flow label label towards dst on the
// IPv6 socket rc, as iputils does for -F, and has it send the flow
// information of each destination address. The label is returned in
// network order, for sin6_flowinfo.
func leaseFlowLabel(rc syscall.RawConn, dst [16]byte, label uint32) (uint32, error) {
	be := label<<24 | label<<8&0xff0000 | label>>8&0xff00 | label>>24 // htonl
	req := in6FlowlabelReq{dst: dst, label: be, action: ipv6FlActionGet, share: ipv6FlShareExcl, flags: ipv6FlFlagCreate}
	var err error
	if e := rc.Control(func(fd uintptr) {
		_, _, errno := unix.Syscall6(unix.SYS_SETSOCKOPT, fd, unix.IPPROTO_IPV6, ipv6FlowlabelMgr,
			uintptr(unsafe.Pointer(&req)), unsafe.Sizeof(req), 0)
		if errno != 0 {
			// Not %w: a label another socket holds is EPERM, which must
			// not read as a want of privilege (and a fallback to the ping
			// socket).
			err = &FlowLabelError{Label: label, Errno: errno}
			return
		}
		if e := unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, ipv6FlowinfoSend, 1); e != nil {
			err = fmt.Errorf("flow label %#05x: %w", label, os.NewSyscallError("setsockopt IPV6_FLOWINFO_SEND", e))
		}
	}); e != nil {
		return 0, e
	}
	return be, err
}
