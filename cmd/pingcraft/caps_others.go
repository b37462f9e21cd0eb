//go:build !linux

package main

// dropCapabilities has nothing to drop: capabilities are Linux's, and so
// are the transports that would need them.
func dropCapabilities() error { return nil }

// keepNetRaw has nothing to drop either.
func keepNetRaw() error { return nil }
