package ping

import (
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// spawner runs functions in the network namespace of the thread that made
// it: ARP and NDP sockets opened in goroutines must be in the namespace
// NewFleet was called in (a caller locked in another one, as lab tests and
// serve in a namespace are), not in whatever thread the goroutine lands on.
// It never compares with /proc/self: the main thread may itself be in a
// namespace of some other caller's.
type spawner struct{ ns *os.File }

func newSpawner() spawner {
	f, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return spawner{}
	}
	return spawner{f}
}

// run runs fn on a thread locked in the spawner's namespace, and puts the
// thread back where it was; a thread that cannot go back exits with the
// goroutine rather than serve others from the wrong namespace.
func (s spawner) run(fn func()) {
	if s.ns == nil {
		fn()
		return
	}
	runtime.LockOSThread()
	back, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		fn() // the thread is never moved: nothing to restore
		runtime.UnlockOSThread()
		return
	}
	defer back.Close()
	if err := unix.Setns(int(s.ns.Fd()), unix.CLONE_NEWNET); err != nil {
		fn() // fails as it would have without a namespace to enter
		runtime.UnlockOSThread()
		return
	}
	fn()
	if unix.Setns(int(back.Fd()), unix.CLONE_NEWNET) == nil {
		runtime.UnlockOSThread()
	}
}

func (s spawner) close() {
	if s.ns != nil {
		s.ns.Close()
	}
}
