package ping

import (
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// spawner starts goroutines in the network namespace of the thread that
// made it: ARP and NDP sockets opened in the background must be in the
// namespace NewFleet was called in (a caller locked in another one, as
// lab tests and serve in a namespace are), not in whatever thread the
// goroutine lands on.
type spawner struct{ ns *os.File }

func newSpawner() spawner {
	var self, here unix.Stat_t
	if unix.Stat("/proc/self/ns/net", &self) != nil || unix.Stat("/proc/thread-self/ns/net", &here) != nil || self.Ino == here.Ino {
		return spawner{}
	}
	f, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return spawner{}
	}
	return spawner{f}
}

// run runs fn; in another namespace on a thread of its own, which exits
// with it rather than serve other goroutines from the wrong namespace.
func (s spawner) run(fn func()) {
	if s.ns == nil {
		fn()
		return
	}
	runtime.LockOSThread()
	if err := unix.Setns(int(s.ns.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		fn() // fails as it would have without a namespace to enter
		return
	}
	fn()
}

func (s spawner) close() {
	if s.ns != nil {
		s.ns.Close()
	}
}
