package main

import (
	"fmt"

	"kernel.org/pub/linux/libs/security/libcap/cap"
)

// dropCapabilities empties every capability set of every thread, as iputils
// does once its sockets are open: nothing later needs privilege, and a bug
// in packet handling then cannot use it. libcap's psx reaches the threads
// the Go runtime and cgo started, which a plain capset would not.
func dropCapabilities() error {
	if err := cap.NewSet().SetProc(); err != nil {
		return fmt.Errorf("send: drop capabilities: %w", err)
	}
	return nil
}
