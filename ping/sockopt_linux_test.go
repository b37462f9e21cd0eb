package ping

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/lab/labtest"
	"github.com/pingcraft/pingcraft/resolve"
)

// TestSocketOptions: what Config asks of the sending socket (ping -m, -S,
// -r, -d, -R) is set on it, in every mode: the raw and ping sockets and the
// AF_PACKET socket of the ring modes, which take no IP-level options.
func TestSocketOptions(t *testing.T) {
	labtest.RequireRoot(t)
	l := labtest.New(t)
	if err := openPingGroups(l.Host); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Mark: 0x5a, SendBuffer: 1 << 16, DontRoute: true, Debug: true, IPOption: IPOptionRecordRoute}
	for _, mode := range []Mode{ModeEthernet, ModeIP, ModeRaw, ModeDgram} {
		t.Run(mode.String(), func(t *testing.T) {
			err := l.Host.Do(func() error {
				p, err := resolve.New().Resolve(context.Background(), l.Target4.String(), nil)
				if err != nil {
					return err
				}
				c, err := open(p, mode, &OpenConfig{ID: 7, Socket: cfg.socketOptions()})
				if err != nil {
					return err
				}
				defer c.Close()
				var rc syscall.RawConn
				switch c := c.(type) {
				case *socketConn:
					rc = c.rc
				case *ringConn:
					rc = c.send.rc
				default:
					return fmt.Errorf("%T: not a transport of ours", c)
				}
				got := map[string]int{}
				var opts string
				if err := rc.Control(func(fd uintptr) {
					for name, o := range map[string][2]int{"mark": {unix.SOL_SOCKET, unix.SO_MARK}, "sndbuf": {unix.SOL_SOCKET, unix.SO_SNDBUF},
						"dontroute": {unix.SOL_SOCKET, unix.SO_DONTROUTE}, "debug": {unix.SOL_SOCKET, unix.SO_DEBUG}} {
						got[name], _ = unix.GetsockoptInt(int(fd), o[0], o[1])
					}
					if mode == ModeRaw || mode == ModeDgram {
						opts = ipOptionsOf(fd)
					}
				}); err != nil {
					return err
				}
				// The kernel doubles SO_SNDBUF for its bookkeeping.
				want := map[string]int{"mark": 0x5a, "sndbuf": 2 << 16, "dontroute": 1, "debug": 1}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("socket options (-want +got):\n%s", diff)
				}
				if mode == ModeRaw || mode == ModeDgram {
					if rr := string(craft.RecordRouteOption()); opts != rr {
						t.Errorf("IP_OPTIONS %x, want %x", opts, rr)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// ipOptionsOf reads IP_OPTIONS whole: unix.GetsockoptString stops at the
// first zero byte, and options are full of them.
func ipOptionsOf(fd uintptr) string {
	var buf [craft.MaxIPv4Options]byte
	n := uint32(len(buf))
	_, _, errno := unix.Syscall6(unix.SYS_GETSOCKOPT, fd, unix.IPPROTO_IP, unix.IP_OPTIONS,
		uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&n)), 0)
	if errno != 0 {
		return errno.Error()
	}
	return string(buf[:n])
}
