package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pingcraft/pingcraft/lab"
	"github.com/pingcraft/pingcraft/lab/labtest"
)

// netnsFiles gives n's `ip netns exec` its own resolv.conf and hosts
// (iproute2 bind-mounts /etc/netns/NAME/* over /etc), removed at the end.
func netnsFiles(t *testing.T, n *lab.Node, files map[string]string) {
	t.Helper()
	dir := filepath.Join("/etc/netns", n.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// runBounded runs name in n, killed after a minute so that a lookup that
// never ends fails the test instead of hanging it.
func runBounded(t *testing.T, n *lab.Node, name string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := n.Command(ctx, name, args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %v: still running after a minute", name, args)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// TestSendSilentResolver: with a resolver that drops every query (nft in
// the target) or that the host cannot reach, the name fails as iputils
// says it, "Temporary failure in name resolution", never "check the
// spelling", with iputils' exit code.
func TestSendSilentResolver(t *testing.T) {
	labtest.RequireRoot(t)
	bin := pingcraftBinary(t)
	labtest.RequireTool(t, "ping", "iputils-ping")
	labtest.RequireTool(t, "nft", "nftables")
	l := labtest.New(t)
	drop := exec.Command("ip", "netns", "exec", l.Target.Name, "nft", "-f", "-")
	drop.Stdin = strings.NewReader(`table inet pcdns {
	chain in {
		type filter hook input priority 0;
		udp dport 53 drop
		tcp dport 53 drop
	}
}
`)
	if out, err := drop.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v\n%s", err, out)
	}
	for _, ns := range []string{l.Target4.String(), l.Unreachable4.Addr().Next().String()} {
		t.Run(ns, func(t *testing.T) {
			netnsFiles(t, l.Host, map[string]string{"resolv.conf": "nameserver " + ns + "\n"})
			const name = "www.example.com"
			_, wantErr, wantCode := runBounded(t, l.Host, "ping", "-c", "1", name)
			if want := "ping: " + name + ": Temporary failure in name resolution\n"; wantErr != want {
				t.Fatalf("iputils ping said %q, not %q: the premise is wrong", wantErr, want)
			}
			out, stderr, code := runBounded(t, l.Host, bin, "send", "-c", "1", name)
			if code != wantCode || out != "" || !strings.HasSuffix(stderr, name+": Temporary failure in name resolution\n") || strings.Contains(stderr, "spelling") {
				t.Errorf("exit %d, stdout %q, stderr %q: want exit %d and iputils' words", code, out, stderr, wantCode)
			}
		})
	}
}

var headerAddr = regexp.MustCompile(`^PING localhost ?\((?:localhost \()?([0-9a-f.:]+)\)`)

// TestSendLocalhostAsIputils: localhost is the address iputils' ping
// picks, ::1 where the hosts file lists it beside 127.0.0.1 (getaddrinfo's
// RFC 6724 order), 127.0.0.1 where it does not.
func TestSendLocalhostAsIputils(t *testing.T) {
	labtest.RequireRoot(t)
	bin := pingcraftBinary(t)
	labtest.RequireTool(t, "ping", "iputils-ping")
	l := labtest.New(t)
	for _, tc := range []struct{ hosts, want string }{
		{"127.0.0.1 localhost\n::1 localhost ip6-localhost\n", "::1"},
		{"127.0.0.1 localhost\n", "127.0.0.1"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			netnsFiles(t, l.Host, map[string]string{"hosts": tc.hosts, "resolv.conf": "nameserver " + l.Router4.String() + "\n"})
			addrOf := func(who, out string) string {
				m := headerAddr.FindStringSubmatch(out)
				if m == nil {
					t.Fatalf("%s: no PING header in %q", who, out)
				}
				return m[1]
			}
			out, _, _ := runBounded(t, l.Host, "ping", "-c", "1", "localhost")
			if got := addrOf("iputils", out); got != tc.want {
				t.Fatalf("iputils pinged %s, not %s: the premise is wrong", got, tc.want)
			}
			out, stderr, code := runBounded(t, l.Host, bin, "send", "-c", "1", "localhost")
			if got := addrOf("pingcraft", out); got != tc.want || code != 0 {
				t.Errorf("pingcraft pinged %s (exit %d, stderr %q), iputils %s", got, code, stderr, tc.want)
			}
		})
	}
}
