//go:build !unix

package capture

import "os"

// stdin is standard input to read a capture from, as it is.
func stdin() *os.File { return os.Stdin }
