package ping

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Kernel send stamps on the raw and ping sockets (SO_TIMESTAMPING, see the
// kernel's Documentation/networking/timestamping.rst): each send queues a
// stamp on the socket's error queue, without the packet (OPT_TSONLY, which
// also spares an unprivileged ping socket net.core.tstamp_allow_data), and
// numbered by a per-socket counter (OPT_ID) that the kernel advances on
// every send: the number ties the stamp to the probe.
const txStampFlags = unix.SOF_TIMESTAMPING_TX_SOFTWARE | unix.SOF_TIMESTAMPING_SOFTWARE |
	unix.SOF_TIMESTAMPING_OPT_ID | unix.SOF_TIMESTAMPING_OPT_TSONLY

// txHardwareFlags add the NIC's stamps both ways, in its clock (RAW), and
// keep the software send stamp beside the hardware one (OPT_TX_SWHW).
const txHardwareFlags = unix.SOF_TIMESTAMPING_TX_HARDWARE | unix.SOF_TIMESTAMPING_RX_HARDWARE |
	unix.SOF_TIMESTAMPING_RAW_HARDWARE | unix.SOF_TIMESTAMPING_OPT_TX_SWHW

// txStampSlots is how many sends a stamp may lag behind and still find its
// probe: a burst to many targets on one socket is sent while the receiver
// reads the stamps of its start.
const txStampSlots = 4096

// txStamps ties a socket's send stamps to the probes they time. Send
// reserves a slot before each sendto, the receiving goroutine looks the
// stamps up.
//
// Slots are numbered by a count of reservations that never restarts; the
// kernel's number of a send is that count less base, the count when the
// kernel's own last restarted (see failed).
type txStamps struct {
	hardware bool // the NIC's stamps were asked for too

	mu sync.Mutex
	// next is the count of the next reservation; base the count the
	// kernel's numbering started from, prev those before it (nprev of
	// them, newest last): stamps of those numberings may still be queued.
	next, base uint64
	prev       [4]uint64
	nprev      int
	slots      [txStampSlots]txSlot
	// reserved mirrors next, stamped is one more than the newest
	// reservation whose software stamp was read (hwStamped its NIC
	// stamp, once the NIC gave one: hwSeen), for the receiver to read
	// without the lock: it looks at the error queue only while the
	// newest send's stamp is still to come.
	reserved, stamped, hwStamped atomic.Uint64
	hwSeen                       atomic.Bool
}

type txSlot struct {
	n       uint64 // the reservation's count
	used    bool
	dst     netip.Addr
	id, seq uint16
	user    int64 // the user-space time just before the send, Unix ns
}

// hardwareStamps reports whether the interface named name stamps in its
// NIC both ways (ethtool's timestamping information, ETHTOOL_GET_TS_INFO,
// what `ethtool -T` prints). veth and lo offer software stamps only.
// Whether the NIC has been told to stamp (SIOCSHWTSTAMP, as ptp4l does) is
// not changed here: it is the host's setting, not a ping's.
func hardwareStamps(fd int, name string) bool {
	if name == "" {
		return false
	}
	info, err := unix.IoctlGetEthtoolTsInfo(fd, name)
	if err != nil {
		return false
	}
	const want = unix.SOF_TIMESTAMPING_TX_HARDWARE | unix.SOF_TIMESTAMPING_RX_HARDWARE | unix.SOF_TIMESTAMPING_RAW_HARDWARE
	return info.So_timestamping&want == want
}

// enableTxStamps turns send stamps on for the socket rc, with the NIC's
// when hardware. It returns nil when the kernel refuses them: probes are
// then timed from the user-space send time.
func enableTxStamps(rc syscall.RawConn, hardware bool) *txStamps {
	flags := txStampFlags
	if hardware {
		flags |= txHardwareFlags
	}
	var err error
	if cerr := rc.Control(func(fd uintptr) {
		err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPING, flags)
	}); cerr != nil || err != nil {
		if hardware {
			return enableTxStamps(rc, false)
		}
		return nil
	}
	return &txStamps{hardware: hardware}
}

// reserve records the probe whose send comes next, before it is sent, so
// that a stamp read by the receiver at once finds it. Send's lock is held.
func (t *txStamps) reserve(dst netip.Addr, id, seq uint16, user time.Time) {
	t.mu.Lock()
	n := t.next
	t.next++
	t.slots[n%txStampSlots] = txSlot{n: n, used: true, dst: dst, id: id, seq: seq, user: user.UnixNano()}
	t.reserved.Store(t.next)
	t.mu.Unlock()
}

// awaiting reports whether the newest send's stamp is still to come.
func (t *txStamps) awaiting() bool {
	r := t.reserved.Load()
	return t.stamped.Load() < r || t.hwSeen.Load() && t.hwStamped.Load() < r
}

// failed forgets the reservation of a send that failed, which will have no
// stamp, and resynchronises the numbering: the kernel may or may not have
// spent a number on it (a send refused before it was
// built spends none, one dropped below the socket, by a queue or a
// firewall, spends one). Setting OPT_ID anew, after clearing it, restarts
// the kernel's count at 0 (sock_set_timestamping). Stamps of the old
// numbering still queued keep finding their probes through prev. Send's
// lock is held.
func (t *txStamps) failed(rc syscall.RawConn) {
	flags := txStampFlags
	if t.hardware {
		flags |= txHardwareFlags
	}
	rc.Control(func(fd uintptr) {
		unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPING, flags&^unix.SOF_TIMESTAMPING_OPT_ID)
		unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPING, flags)
	})
	t.restart()
}

// restart forgets the newest reservation and numbers the next one 0, as
// the kernel numbers its next send.
func (t *txStamps) restart() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.next > t.base {
		t.next--
		t.slots[t.next%txStampSlots] = txSlot{}
		t.reserved.Store(t.next)
	}
	if t.next == t.base {
		return // nothing was numbered since the last restart
	}
	if t.nprev == len(t.prev) {
		copy(t.prev[:], t.prev[1:])
		t.nprev--
	}
	t.prev[t.nprev] = t.base
	t.nprev++
	t.base = t.next
}

// match returns the probe that the stamp numbered key timed at at, and
// whether it is the newest probe reserved (then no older stamp can still
// be on its way in order). The key is taken in the current numbering
// first, then in the one before: a software stamp before a probe's
// user-space send time is not that probe's. A NIC's stamp is in the NIC's
// clock and cannot be checked so.
func (t *txStamps) match(key uint32, at time.Time, hardware bool) (s txSlot, newest, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	find := func(base, end uint64) (txSlot, bool) {
		n := base + uint64(key)
		if n >= end || t.next-n > txStampSlots {
			return txSlot{}, false
		}
		s := t.slots[n%txStampSlots]
		if !s.used || s.n != n || !hardware && at.UnixNano() < s.user {
			return txSlot{}, false
		}
		return s, true
	}
	s, ok = find(t.base, t.next)
	for i, end := t.nprev-1, t.base; !ok && i >= 0; i-- {
		s, ok = find(t.prev[i], end)
		end = t.prev[i]
	}
	if !ok {
		return txSlot{}, false, false
	}
	// What the receiver waits for: the newest probe stamped.
	done := &t.stamped
	if hardware {
		done = &t.hwStamped
		t.hwSeen.Store(true)
	}
	if s.n+1 > done.Load() {
		done.Store(s.n + 1)
	}
	return s, s.n+1 == t.next, true
}

// scmTimestamping reads struct scm_timestamping: ts[0] the software stamp,
// ts[2] the NIC's (raw); zero times for those not given.
func scmTimestamping(data []byte) (sw, hw time.Time) {
	if len(data) < 48 {
		return
	}
	ts := func(b []byte) time.Time {
		sec, nsec := int64(binary.NativeEndian.Uint64(b)), int64(binary.NativeEndian.Uint64(b[8:]))
		if sec == 0 && nsec == 0 {
			return time.Time{}
		}
		return time.Unix(sec, nsec)
	}
	return ts(data[0:16]), ts(data[32:48])
}
