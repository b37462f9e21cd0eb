package main

import (
	"strings"
	"testing"

	"github.com/pingcraft/pingcraft/lab/labtest"
)

// TestSendClocks: on the raw and ping sockets every reply is timed by the
// kernel both ways (send stamps from the error queue), as -v's transport
// line says and as JSON's send_clock and receive_clock say reply by reply.
func TestSendClocks(t *testing.T) {
	labtest.RequireRoot(t)
	bin := pingcraftBinary(t)
	l := labtest.NewPrefixed(t, "ts-")
	setPingGroups(t, l.Host, "0 2147483647")
	for _, tc := range []struct{ as, mode string }{{"", "raw"}, {"65534", "dgram"}} {
		for _, target := range []string{l.Target4.String(), l.Target6.String()} {
			out, stderr, code := inHost(t, l, tc.as, bin, "send", "-v", "--mode", tc.mode, "-c", "3", "-i", "0.05", target)
			const line = "; kernel timestamps both ways (send stamps from the socket's error queue, SO_TIMESTAMPING); icmp id "
			if code != 0 || !strings.Contains(out, "transport "+tc.mode+": ") || !strings.Contains(out, line) ||
				strings.Contains(out, "user-space send time") {
				t.Errorf("-v, %s to %s: exit %d, want the kernel's clocks both ways and no reply on the user's:\n%s%s", tc.mode, target, code, out, stderr)
			}
			out, stderr, code = inHost(t, l, tc.as, bin, "send", "--json", "--mode", tc.mode, "-c", "3", "-i", "0.05", target)
			if n := strings.Count(out, `"event":"reply"`); code != 0 || n != 3 ||
				strings.Count(out, `"clock":"kernel","send_clock":"kernel","receive_clock":"kernel"`) != n {
				t.Errorf("--json, %s to %s: exit %d, want 3 replies on the kernel's clocks both ways:\n%s%s", tc.mode, target, code, out, stderr)
			}
		}
	}
}
