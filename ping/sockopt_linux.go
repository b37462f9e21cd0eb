package ping

import (
	"fmt"
	"os"
	"syscall"

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
