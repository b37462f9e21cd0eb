package main

import (
	"strings"
	"testing"

	"github.com/pingcraft/pingcraft/lab/labtest"
)

// TestUnprivilegedFixes: resolve and lab run by nobody fail in one line
// that names what they need, not in a bare "operation not permitted".
func TestUnprivilegedFixes(t *testing.T) {
	bin := pingcraftBinary(t)
	l := labtest.NewPrefixed(t, "rb-")
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		// The neighbour tables are empty: ARP and NDP must ask.
		{"resolve, ARP", []string{"resolve", l.Router4.String()}, "ARP and NDP need CAP_NET_RAW: run as root or give the binary the capability (setcap cap_net_raw+ep)"},
		{"resolve, NDP", []string{"resolve", l.Router6.String()}, "ARP and NDP need CAP_NET_RAW"},
		{"lab", []string{"lab"}, "network namespaces need root (CAP_SYS_ADMIN and CAP_NET_ADMIN): run it with sudo"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := inHost(t, l, "65534", bin, tt.args...)
			if code == 0 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q: want one line containing %q", code, stderr, tt.want)
			}
		})
	}
}
