package ping

import (
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pingcraft/pingcraft/lab"
	"github.com/pingcraft/pingcraft/lab/labtest"
)

// dfCounter counts the IPv4 echo requests that reach n, and those with DF,
// in nft counters: a count independent of the sender.
type dfCounter struct {
	t *testing.T
	n *lab.Node
}

func newDFCounter(t *testing.T, n *lab.Node) *dfCounter {
	labtest.RequireTool(t, "nft", "nftables")
	c := &dfCounter{t, n}
	c.nft(`table ip pcdf {
	counter requests {}
	counter dontfrag {}
	chain in {
		type filter hook input priority 0;
		icmp type echo-request counter name requests
		icmp type echo-request ip frag-off & 0x4000 != 0 counter name dontfrag
	}
}`, "-f", "-")
	t.Cleanup(func() { c.nft("", "delete", "table", "ip", "pcdf") })
	return c
}

// nft runs nft in the node, with script on its stdin when not empty.
func (c *dfCounter) nft(script string, args ...string) string {
	c.t.Helper()
	cmd := c.n.Command(context.Background(), "nft", args...)
	if script != "" {
		cmd.Stdin = strings.NewReader(script)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		c.t.Fatalf("nft %v: %v\n%s", args, err, out)
	}
	return string(out)
}

var nftPackets = regexp.MustCompile(`packets (\d+)`)

// take returns the counts so far and resets them.
func (c *dfCounter) take() (all, df int) {
	c.t.Helper()
	read := func(name string) int {
		m := nftPackets.FindStringSubmatch(c.nft("", "reset", "counter", "ip", "pcdf", name))
		if m == nil {
			c.t.Fatalf("nft counter %s: no packets field", name)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return read("requests"), read("dontfrag")
}

// TestDefaultProbesCarryDF: with no -M, probes carry DF in every mode, as
// iputils' ping's do (its sockets' kernel default, "want"); -M dont clears
// it. The target's firewall counts them, and iputils' probes the same way.
func TestDefaultProbesCarryDF(t *testing.T) {
	l := labtest.New(t)
	ping := labtest.RequireTool(t, "ping", "iputils-ping")
	c := newDFCounter(t, l.Target)
	out, err := l.Host.Command(context.Background(), ping, "-c", "2", "-i", "0.2", l.Target4.String()).CombinedOutput()
	if err != nil {
		t.Fatalf("iputils ping: %v\n%s", err, out)
	}
	all, df := c.take()
	if all != 2 || df != 2 {
		t.Fatalf("iputils ping: %d requests, %d with DF; the counter or the premise is wrong", all, df)
	}
	if err := l.Host.Do(func() error {
		return os.WriteFile("/proc/sys/net/ipv4/ping_group_range", []byte("0 2147483647"), 0o644)
	}); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []Mode{ModeEthernet, ModeIP, ModeRaw, ModeDgram} {
		for _, pmtu := range []PMTUDisc{0, PMTUDiscDont} {
			t.Run(mode.String()+"/"+pmtu.String(), func(t *testing.T) {
				var f *Fleet
				if err := l.Host.Do(func() (err error) {
					f, err = NewFleet(t.Context(), []string{l.Target4.String()},
						&Config{Count: 2, Interval: 20 * time.Millisecond, Timeout: 2 * time.Second, PMTUDisc: pmtu}, &FleetConfig{Mode: mode})
					return err
				}); err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				e, err := f.Engine(nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := e.Run(t.Context()); err != nil {
					t.Fatal(err)
				}
				want := 2
				if pmtu == PMTUDiscDont {
					want = 0
				}
				if all, df := c.take(); all != 2 || df != want {
					t.Errorf("%d requests arrived, %d with DF; want 2, %d", all, df, want)
				}
			})
		}
	}
}
