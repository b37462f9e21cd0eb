//go:build !cgo

package libpcap

import (
	"errors"
	"fmt"

	"github.com/google/gopacket/layers"
	"golang.org/x/net/bpf"

	"github.com/pingcraft/pingcraft/craft"
)

// Compile fails: filter expressions are compiled by libpcap, which needs
// cgo. The error wraps errors.ErrUnsupported.
func Compile(link layers.LinkType, snaplen int, expr string) ([]bpf.RawInstruction, error) {
	return CompileLink(craft.LinkTypeOf(link), snaplen, expr)
}

// CompileLink fails as Compile does.
func CompileLink(link craft.LinkType, snaplen int, expr string) ([]bpf.RawInstruction, error) {
	return nil, fmt.Errorf("libpcap: filter %q: compiling filter expressions needs a cgo build (CGO_ENABLED=1, libpcap-dev installed): %w", expr, errors.ErrUnsupported)
}

// LinkTypeName knows no names without libpcap.
func LinkTypeName(link craft.LinkType) (name, desc string, ok bool) { return "", "", false }

// Version says there is no libpcap: the binary was built without cgo.
func Version() string { return "no libpcap (built without cgo)" }
