package main

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pingcraft/pingcraft/lab/labtest"
)

// TestSendMTUDoMatchesIputils: -M do beyond the path MTU, in every mode,
// prints what iputils' ping prints for the same target: a local error a
// probe naming the path's MTU (the route's 1400 where the route sets one,
// else the interface's 1500), the summary with its errors, exit 1.
func TestSendMTUDoMatchesIputils(t *testing.T) {
	labtest.RequireRoot(t)
	bin := pingcraftBinary(t)
	labtest.RequireTool(t, "ping", "iputils-ping")
	l := labtest.New(t)
	setPingGroups(t, l.Host, "0 2147483647")
	for _, r := range [][]string{
		{"ip", "route", "add", l.Target4.String() + "/32", "via", l.Router4.String(), "mtu", "1400"},
		{"ip", "-6", "route", "add", l.Target6.String() + "/128", "via", l.Router6.String(), "mtu", "1400"},
	} {
		if out, err := l.Host.Command(context.Background(), r[0], r[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", r, err, out)
		}
	}
	far4, far6 := l.Many4.Addr().Next().String(), l.Many6.Addr().Next().String()
	for _, tc := range []struct{ target, size string }{
		{l.Target4.String(), "1400"}, {l.Target6.String(), "1400"}, // the route's MTU
		{far4, "2000"}, {far6, "2000"}, // the interface's
	} {
		args := []string{"-M", "do", "-s", tc.size, "-c", "2", "-i", "0.2", tc.target}
		wantOut, wantErr, wantCode := inHost(t, l, "", "ping", args...) // argv[0] "ping", as its lines say
		if !strings.Contains(wantErr, "local error") {
			t.Fatalf("iputils ping %v printed no local error: %q", args, wantErr)
		}
		for _, mode := range []string{"ethernet", "ip", "raw", "dgram"} {
			t.Run(tc.target+"/"+mode, func(t *testing.T) {
				out, stderr, code := inHost(t, l, "", bin, append([]string{"send", "--mode", mode}, args...)...)
				// Local errors go to stderr once the CLI hands report.Ping
				// its ErrW; until then they are on stdout.
				var local, rest []string
				for _, line := range strings.SplitAfter(out+stderr, "\n") {
					if strings.HasPrefix(line, "ping: local error") {
						local = append(local, line)
					} else if line != "" && !strings.HasPrefix(line, "pingcraft") {
						rest = append(rest, line)
					}
				}
				if code != wantCode {
					t.Errorf("exit %d, iputils %d", code, wantCode)
				}
				if diff := cmp.Diff(wantErr, strings.Join(local, "")); diff != "" {
					t.Errorf("local errors (-iputils +pingcraft):\n%s", diff)
				}
				if diff := cmp.Diff(normalise(wantOut), normalise(strings.Join(rest, ""))); diff != "" {
					t.Errorf("output (-iputils +pingcraft):\n%s", diff)
				}
			})
		}
	}
}
