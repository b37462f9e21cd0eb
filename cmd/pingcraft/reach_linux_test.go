package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pingcraft/pingcraft/lab/labtest"
)

// TestSendSilentNeighbour: an on-link address that answers neither ARP
// nor NDP, pinged by the binary (privileges dropped once the sockets are
// open) in every mode that resolves a MAC: iputils' lines, probe by probe,
// and its exit code.
func TestSendSilentNeighbour(t *testing.T) {
	labtest.RequireTool(t, "ping", "iputils-ping")
	bin := pingcraftBinary(t)
	l := labtest.New(t)
	for _, target := range []string{"198.18.0.99", "fd00:198:18::99"} {
		args := []string{"-c", "3", "-i", "0.2", target}
		out, _, code := inHost(t, l, "", "ping", args...)
		if code != 1 {
			t.Fatalf("ping %v: exit %d, want 1\n%s", args, code, out)
		}
		want := timeless(out)
		for _, mode := range []string{"auto", "ethernet", "ip"} {
			t.Run(target+"/"+mode, func(t *testing.T) {
				t.Parallel()
				got, errs, code := inHost(t, l, "", bin, append([]string{"send", "--mode", mode}, args...)...)
				if diff := cmp.Diff(want, timeless(got)); diff != "" || code != 1 {
					t.Errorf("exit %d (iputils 1), stderr %q; iputils (-) and pingcraft (+) differ:\n%s", code, errs, diff)
				}
			})
		}
	}
}

// timeless keeps iputils' lines that do not depend on timing.
func timeless(s string) []string {
	var out []string
	for _, ln := range strings.Split(s, "\n") {
		if ln == "" || strings.HasPrefix(ln, "rtt ") || strings.HasPrefix(ln, "pipe ") {
			continue
		}
		if i := strings.LastIndex(ln, ", time "); i > 0 {
			ln = ln[:i]
		}
		out = append(out, ln)
	}
	return out
}

// TestFpingHostSubnet: fping -a -g over the host's own /29, where the
// router and the host answer and four on-link addresses are silent: the
// alive list, the ICMP errors fping reports and the exit code are fping's.
func TestFpingHostSubnet(t *testing.T) {
	labtest.RequireTool(t, "fping", "fping")
	bin := pingcraftBinary(t)
	l := labtest.New(t)
	args := []string{"-a", "-g", "198.18.0.0/29"}
	fpOut, fpErr, fpCode := inHost(t, l, "", "fping", args...)
	if fpCode != 1 || !strings.Contains(fpOut, "198.18.0.1\n") {
		t.Fatalf("fping %v: exit %d, want 1 with the router alive\n%s%s", args, fpCode, fpOut, fpErr)
	}
	pcOut, pcErr, pcCode := inHost(t, l, "", bin, append([]string{"fping"}, args...)...)
	if diff := cmp.Diff(fpOut, pcOut); diff != "" || pcCode != fpCode {
		t.Errorf("exit %d (fping %d); alive list (-fping +pingcraft):\n%s", pcCode, fpCode, diff)
	}
	// How many errors arrive depends on timing; which, not.
	distinct := func(s string) []string {
		ls := slices.DeleteFunc(strings.Split(s, "\n"), func(s string) bool { return s == "" })
		slices.Sort(ls)
		return slices.Compact(ls)
	}
	if diff := cmp.Diff(distinct(fpErr), distinct(pcErr)); diff != "" {
		t.Errorf("stderr (-fping +pingcraft):\n%s", diff)
	}
}
