//go:build !cgo

package capture

import (
	"fmt"

	"github.com/google/gopacket/layers"
	"golang.org/x/net/bpf"
)

// CompileFilter fails: filters are compiled by libpcap, which needs cgo.
func CompileFilter(link layers.LinkType, snaplen int, expr string) ([]bpf.RawInstruction, error) {
	return nil, fmt.Errorf("capture: filter %q: compiling filters needs libpcap, in a cgo build", expr)
}
