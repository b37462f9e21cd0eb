//go:build !linux

package main

// relinquish has nothing to give up: capabilities are Linux's, and so is
// live capture.
func relinquish(name, username string) error { return nil }
