package main

import (
	"fmt"
	"slices"

	"golang.org/x/sys/unix"
	"kernel.org/pub/linux/libs/security/libcap/cap"
)

// dropCapabilities empties every capability set of every thread, as iputils
// does once its sockets are open: nothing later needs privilege, and a bug
// in packet handling then cannot use it. libcap's psx reaches the threads
// the Go runtime and cgo started, which a plain capset would not. It sets
// no_new_privs too, so that nothing exec'd later (a setuid binary, one with
// file capabilities) regains privilege.
func dropCapabilities() error {
	if err := noNewPrivs(); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	if err := cap.NewSet().SetProc(); err != nil {
		return fmt.Errorf("send: drop capabilities: %w", err)
	}
	return nil
}

// keepCapabilities keeps only the capabilities keep, of those the process
// has, effective and permitted in every thread, and gives up the rest for
// good: the bounding set loses everything else (when CAP_SETPCAP allows it,
// as it does root), nothing stays inheritable or ambient, and no_new_privs
// is set. serve calls it once it listens: a reload opens sockets, which
// needs CAP_NET_RAW, and nothing else.
func keepCapabilities(keep ...cap.Value) error {
	have := cap.GetProc()
	if ok, _ := have.GetFlag(cap.Permitted, cap.SETPCAP); ok {
		iab := cap.NewIAB() // nothing inheritable, nothing ambient
		for v := cap.Value(0); v < cap.MaxBits(); v++ {
			if !slices.Contains(keep, v) {
				if err := iab.SetVector(cap.Bound, true, v); err != nil {
					return fmt.Errorf("drop capabilities: %w", err)
				}
			}
		}
		if err := iab.SetProc(); err != nil {
			return fmt.Errorf("drop capabilities from the bounding set: %w", err)
		}
	} else if err := cap.ResetAmbient(); err != nil {
		return fmt.Errorf("drop ambient capabilities: %w", err)
	}
	if err := noNewPrivs(); err != nil {
		return err
	}
	set := cap.NewSet()
	for _, v := range keep {
		if ok, _ := have.GetFlag(cap.Permitted, v); ok {
			if err := set.SetFlag(cap.Permitted, true, v); err != nil {
				return fmt.Errorf("drop capabilities: %w", err)
			}
			if err := set.SetFlag(cap.Effective, true, v); err != nil {
				return fmt.Errorf("drop capabilities: %w", err)
			}
		}
	}
	if err := set.SetProc(); err != nil {
		return fmt.Errorf("drop capabilities but %v: %w", keep, err)
	}
	return nil
}

// noNewPrivs sets PR_SET_NO_NEW_PRIVS on every thread (it is per thread,
// and children inherit it from the thread that forks them), through psx
// as the capability sets are.
func noNewPrivs() error {
	if _, err := cap.Prctlw(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set no_new_privs: %w", err)
	}
	return nil
}

// keepNetRaw keeps CAP_NET_RAW alone, what serve's reloads need to open raw
// and packet sockets and to ask ARP or NDP.
func keepNetRaw() error { return keepCapabilities(cap.NET_RAW) }
