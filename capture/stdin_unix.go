//go:build unix

package capture

import (
	"os"
	"syscall"
)

// stdin is standard input to read a capture from. A pipe or socket is put
// on the runtime poller (made non-blocking), so that a read waiting for its
// writer is one a context can end; anything else is read as it is.
func stdin() *os.File {
	var st syscall.Stat_t
	if syscall.Fstat(0, &st) != nil {
		return os.Stdin
	}
	if t := st.Mode & syscall.S_IFMT; t != syscall.S_IFIFO && t != syscall.S_IFSOCK {
		return os.Stdin
	}
	if syscall.SetNonblock(0, true) != nil {
		return os.Stdin
	}
	return os.NewFile(0, "-")
}
