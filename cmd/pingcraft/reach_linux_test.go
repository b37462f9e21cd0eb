package main

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
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

var replyTime = regexp.MustCompile(`time=[0-9.]+ ms`)

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
		out = append(out, replyTime.ReplaceAllString(ln, "time=X ms"))
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

// TestSendGroupsAndNoRoute: broadcast and multicast targets, with and
// without -b, the unspecified addresses, -I, and targets without a route,
// each beside iputils ping from the same host: the same lines (times
// aside), stderr and exit code. The router answers broadcasts; the host
// answers its own multicast probes.
func TestSendGroupsAndNoRoute(t *testing.T) {
	labtest.RequireTool(t, "ping", "iputils-ping")
	bin := pingcraftBinary(t)
	l := labtest.New(t)
	if err := l.Router.Do(func() error {
		return os.WriteFile("/proc/sys/net/ipv4/icmp_echo_ignore_broadcasts", []byte("0"), 0o644)
	}); err != nil {
		t.Fatal(err)
	}
	exact := func(s string) []string { return timeless(strings.ReplaceAll(s, "\n\n", "\n")) }
	// Which members answer a multicast probe before ping stops is timing;
	// who answers, and that no line says (DUP!), is not.
	responders := func(s string) []string {
		var from []string
		for _, ln := range strings.Split(s, "\n") {
			if f := strings.Fields(ln); len(f) > 3 && f[2] == "from" {
				from = append(from, strings.Join(f[3:4], ""))
			}
			if strings.Contains(ln, "DUP!") {
				from = append(from, "DUP! in "+ln)
			}
		}
		slices.Sort(from)
		return slices.Compact(from)
	}
	for _, tc := range []struct {
		args  []string
		lines func(string) []string
	}{
		{[]string{"-c", "2", "-i", "0.2", "-W", "1", "198.18.0.255"}, exact},
		{[]string{"-b", "-c", "2", "-i", "0.2", "-W", "1", "198.18.0.255"}, exact},
		{[]string{"-b", "-c", "2", "-i", "0.2", "-W", "1", "-I", "h0", "255.255.255.255"}, exact},
		{[]string{"-c", "2", "-i", "0.2", "-W", "1", "224.0.0.1"}, exact},
		{[]string{"-c", "2", "-i", "0.2", "-W", "1", "ff02::1%h0"}, responders},
		{[]string{"-c", "1", "-W", "1", "0.0.0.0"}, exact},
		{[]string{"-c", "1", "-W", "1", "::"}, exact},
		// -I binds to the interface asked for, as iputils does: the host's
		// own address answers through h0 but not through lo, with
		// iputils' warning for a source lo does not have.
		{[]string{"-c", "1", "-W", "1", "-I", "h0", "198.18.0.2"}, exact},
		{[]string{"-c", "1", "-W", "1", "-I", "lo", "198.18.0.2"}, exact},
		{[]string{"-6", "-c", "1", "-W", "1", "-I", "lo", "fd00:198:18::2"}, exact},
		// Beyond what IPv4 carries: a local error a probe, not a refusal.
		{[]string{"-c", "2", "-i", "0.2", "-s", "65508", "127.0.0.1"}, exact},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			want, wantErr, wantCode := inHost(t, l, "", "ping", tc.args...)
			got, gotErr, gotCode := inHost(t, l, "", bin, append([]string{"send"}, tc.args...)...)
			if diff := cmp.Diff(tc.lines(want), tc.lines(got)); diff != "" || gotCode != wantCode || gotErr != wantErr {
				t.Errorf("exit %d (iputils %d), stderr %q (iputils %q); iputils (-) and pingcraft (+) differ:\n%s", gotCode, wantCode, gotErr, wantErr, diff)
			}
		})
	}
	// Without default routes, and for an on-link address of a prefix that
	// is there, the words of connect(2)'s errno.
	for _, args := range [][]string{{"ip", "route", "del", "default"}, {"ip", "-6", "route", "del", "default"}} {
		if out, err := l.Host.Command(context.Background(), args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v %s", args, err, out)
		}
	}
	for _, target := range []string{"198.18.77.1", "fd00:77::1"} {
		want, wantErr, wantCode := inHost(t, l, "", "ping", "-c", "1", target)
		got, gotErr, gotCode := inHost(t, l, "", bin, "send", "-c", "1", target)
		if got != want || gotErr != wantErr || gotCode != wantCode {
			t.Errorf("%s: exit %d, %q %q; iputils exit %d, %q %q", target, gotCode, got, gotErr, wantCode, want, wantErr)
		}
	}
	// fping: each such target fails to send, once, and is unreachable.
	if _, err := exec.LookPath("fping"); err == nil {
		for _, args := range [][]string{{"198.18.77.1", "fd00:77::1"}, {"-c", "2", "-p", "100", "198.18.77.1"}} {
			want, wantErr, wantCode := inHost(t, l, "", "fping", args...)
			got, gotErr, gotCode := inHost(t, l, "", bin, append([]string{"fping"}, args...)...)
			if got != want || fpingNormal(gotErr) != fpingNormal(wantErr) || gotCode != wantCode {
				t.Errorf("fping %v: exit %d, %q %q; fping exit %d, %q %q", args, gotCode, got, gotErr, wantCode, want, wantErr)
			}
		}
	}
}

// TestMarkPolicyRouting: probes marked with ping -m or fping -k are routed
// as the kernel routes marked packets, by the rule for their mark: here to
// an unreachable route, where unmarked probes reach the target.
func TestMarkPolicyRouting(t *testing.T) {
	labtest.RequireTool(t, "ping", "iputils-ping")
	bin := pingcraftBinary(t)
	l := labtest.New(t)
	target := l.Target4.String()
	for _, args := range [][]string{{"ip", "rule", "add", "fwmark", "42", "lookup", "100"}, {"ip", "route", "add", "unreachable", target + "/32", "table", "100"}} {
		if out, err := l.Host.Command(context.Background(), args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v %s", args, err, out)
		}
	}
	for _, mode := range []string{"auto", "raw"} {
		want, wantErr, wantCode := inHost(t, l, "", "ping", "-c", "1", "-m", "42", target)
		got, gotErr, gotCode := inHost(t, l, "", bin, "send", "--mode", mode, "-c", "1", "-m", "42", target)
		if got != want || gotErr != wantErr || gotCode != wantCode || wantCode != 2 {
			t.Errorf("--mode %s -m 42: exit %d, %q %q; iputils exit %d, %q %q", mode, gotCode, got, gotErr, wantCode, want, wantErr)
		}
	}
	out, errs, code := inHost(t, l, "", bin, "fping", "-k", "42", target)
	if want, wantErr := target+" is unreachable\n", target+": error while sending ping: No route to host\n"; out != want || errs != wantErr || code != 1 {
		t.Errorf("fping -k 42: exit %d, %q %q; want exit 1, %q %q", code, out, errs, want, wantErr)
	}
	if out, _, code := inHost(t, l, "", bin, "fping", target); code != 0 || out != target+" is alive\n" {
		t.Errorf("fping without a mark: exit %d, %q: want it alive", code, out)
	}
}

// TestSendAdaptiveUnprivileged: -A for a user other than root goes
// through the ping socket with iputils' 2ms floor between probes, as
// iputils' does, where a flood is refused.
func TestSendAdaptiveUnprivileged(t *testing.T) {
	bin := pingcraftBinary(t)
	l := labtest.New(t)
	setPingGroups(t, l.Host, "0 2147483647")
	out, errs, code := inHost(t, l, "65534", bin, "send", "-A", "-c", "20", "127.0.0.1")
	m := regexp.MustCompile(`, ipg/ewma ([0-9.]+)/[0-9.]+ ms`).FindStringSubmatch(out)
	if code != 0 || m == nil || !strings.Contains(out, "20 packets transmitted, 20 received") {
		t.Fatalf("exit %d, %q %q: want 20 replies and iputils' ipg/ewma", code, out, errs)
	}
	// The mean gap of a floor of 2ms cannot be below it.
	if ipg, _ := strconv.ParseFloat(m[1], 64); ipg < 2 {
		t.Errorf("ipg %v ms: probes closer than iputils' 2ms floor", ipg)
	}
	if _, errs, code := inHost(t, l, "65534", bin, "send", "-f", "-c", "2", "127.0.0.1"); code == 0 {
		t.Errorf("an unprivileged flood ran: %q", errs)
	}
}
