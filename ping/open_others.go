//go:build !linux

package ping

import (
	"fmt"
	"runtime"

	"github.com/pingcraft/pingcraft/resolve"
)

func open(p *resolve.Path, m Mode, oc *OpenConfig) (Conn, error) {
	return nil, fmt.Errorf("ping: mode %s: not supported on %s: pingcraft's transports need Linux", m, runtime.GOOS)
}
