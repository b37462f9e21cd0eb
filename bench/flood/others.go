//go:build !linux

package main

import (
	"fmt"
	"os"
)

// The lab needs Linux network namespaces.
func main() {
	fmt.Fprintln(os.Stderr, "flood: needs Linux network namespaces")
	os.Exit(1)
}
