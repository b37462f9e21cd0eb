package report_test

import (
	"bytes"
	"context"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/ping"
	"github.com/pingcraft/pingcraft/resolve"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden with what the printers write")

// golden compares got with testdata/name.golden, or with -update writes it.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

var (
	target  = netip.MustParseAddr("198.18.1.2")
	target2 = netip.MustParseAddr("198.18.9.10")
	router  = netip.MustParseAddr("198.18.0.1")
	target6 = netip.MustParseAddr("fd00:198:18:1::2")
	router6 = netip.MustParseAddr("fd00:198:18::1")
)

// echoConn is a network that answers probe seq after rtts[seq-1]; it runs
// inside a synctest bubble, where those delays are exact.
type echoConn struct {
	rtts []time.Duration
	in   chan ping.Received
	mu   sync.Mutex
	dl   time.Time
}

func newEchoConn(rtts ...time.Duration) *echoConn {
	return &echoConn{rtts: rtts, in: make(chan ping.Received, len(rtts))}
}

func (c *echoConn) Mode() ping.Mode { return ping.ModeRaw }

func (c *echoConn) Send(e *craft.Echo) (time.Time, error) {
	at := time.Now()
	r := ping.Received{From: e.Dst, TTL: 63, HasTTL: true, Stamp: ping.StampUser, Bytes: 8 + len(e.Payload),
		Packet: craft.Packet{Class: craft.ClassEchoReply, ID: e.ID, Seq: e.Seq, Payload: bytes.Clone(e.Payload)}}
	if int(e.Seq) > len(c.rtts) {
		return at, nil // lost: the run asked for no more replies
	}
	time.AfterFunc(c.rtts[int(e.Seq)-1], func() {
		r.At = time.Now()
		c.in <- r
	})
	return at, nil
}

func (c *echoConn) Receive(r *ping.Received) error {
	c.mu.Lock()
	dl := c.dl
	c.mu.Unlock()
	t := time.NewTimer(time.Until(dl))
	defer t.Stop()
	select {
	case *r = <-c.in:
		return nil
	case <-t.C:
		return os.ErrDeadlineExceeded
	}
}

func (c *echoConn) SetReceiveDeadline(t time.Time) error {
	c.mu.Lock()
	c.dl = t
	c.mu.Unlock()
	return nil
}

func (c *echoConn) ID() uint16             { return 0x1234 }
func (c *echoConn) Drops() (uint64, error) { return 0, nil }
func (c *echoConn) Close() error           { return nil }

// runEngine runs a real engine to addr over an echoConn whose replies take
// rtts, one probe a second, inside a synctest bubble (its clock starts at
// 2000-01-01 00:00 UTC), and returns the statistics. The run lasts until
// every reply came (a Deadline does that), so that none is given up on.
func runEngine(t *testing.T, addr netip.Addr, onEvent func(*ping.Event), rtts ...time.Duration) ping.Stats {
	t.Helper()
	var st ping.Stats
	synctest.Test(t, func(t *testing.T) {
		cfg := &ping.Config{Count: len(rtts), Interval: time.Second, Timeout: 5 * time.Second, Deadline: time.Hour, Size: 56}
		eng, err := ping.New(cfg, []ping.Target{{Path: &resolve.Path{Target: addr}, Conn: newEchoConn(rtts...)}}, onEvent)
		if err != nil {
			t.Fatal(err)
		}
		if err := eng.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		st = eng.Stats(0)
	})
	return st
}

// stats returns counts with the RTT figures of replies that took rtts:
// Stats keeps those unexported, so a real engine adds them.
func stats(t *testing.T, counts ping.Stats, rtts ...time.Duration) ping.Stats {
	t.Helper()
	s := ping.Stats{}
	if len(rtts) > 0 {
		s = runEngine(t, target, nil, rtts...)
	}
	s.Transmitted, s.Received, s.TimedOut, s.Outstanding = counts.Transmitted, counts.Received, counts.TimedOut, counts.Outstanding
	s.Duplicates, s.Late, s.Corrupted, s.Errors, s.SendErrors = counts.Duplicates, counts.Late, counts.Corrupted, counts.Errors, counts.SendErrors
	s.BadChecksums = counts.BadChecksums
	return s
}

func us(n int) time.Duration { return time.Duration(n) * time.Microsecond }
