package report_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pingcraft/pingcraft/ping"
	"github.com/pingcraft/pingcraft/report"
)

var slow = netip.MustParseAddr("198.18.64.1")

// fpingRun is three targets' rounds as the engine reports them: one that
// answers (with a duplicate), one behind an unreachable router, and one
// slow and answering whose last probe never left.
var fpingRun = []ping.Event{
	{Kind: ping.EventSent, Target: 0, Addr: target, Seq: 1, Bytes: 64},
	{Kind: ping.EventSent, Target: 1, Addr: target2, Seq: 1, Bytes: 64},
	{Kind: ping.EventSent, Target: 2, Addr: slow, Seq: 1, Bytes: 64},
	{Kind: ping.EventReply, Target: 0, Addr: target, Seq: 1, Bytes: 64, From: target, RTT: us(49)},
	{Kind: ping.EventICMPError, Target: 1, Addr: target2, Seq: 1, From: router, Error: unreachHost},
	{Kind: ping.EventReply, Target: 2, Addr: slow, Seq: 1, Bytes: 64, From: slow, RTT: 150 * time.Millisecond},
	{Kind: ping.EventSent, Target: 0, Addr: target, Seq: 2, Bytes: 64},
	{Kind: ping.EventSent, Target: 1, Addr: target2, Seq: 2, Bytes: 64},
	{Kind: ping.EventSent, Target: 2, Addr: slow, Seq: 2, Bytes: 64},
	{Kind: ping.EventReply, Target: 0, Addr: target, Seq: 2, Bytes: 64, From: target, RTT: us(170)},
	{Kind: ping.EventDuplicate, Target: 0, Addr: target, Seq: 2, Bytes: 64, From: target, RTT: us(201)},
	{Kind: ping.EventReply, Target: 2, Addr: slow, Seq: 2, Bytes: 64, From: slow, RTT: 2500 * time.Microsecond},
	{Kind: ping.EventTimeout, Target: 1, Addr: target2, Seq: 2},
	{Kind: ping.EventSent, Target: 0, Addr: target, Seq: 3, Bytes: 64},
	{Kind: ping.EventSent, Target: 1, Addr: target2, Seq: 3, Bytes: 64},
	{Kind: ping.EventSendError, Target: 2, Addr: slow, Seq: 3, Err: enobufs},
	{Kind: ping.EventReply, Target: 0, Addr: target, Seq: 3, Bytes: 64, From: target, RTT: 12500 * time.Microsecond},
	{Kind: ping.EventTimeout, Target: 1, Addr: target2, Seq: 3},
}

var fpingStats = []ping.Stats{
	{Transmitted: 3, Received: 3, Duplicates: 1},
	{Transmitted: 3, TimedOut: 3, Errors: 1},
	{Transmitted: 2, Received: 2, SendErrors: 1},
}

// TestFping holds the lines to fping 5.1's for the same run (its -c, -C,
// -q, -a, -u and -e), names aligned on the colon. Golden files hold stdout
// and then stderr.
func TestFping(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*report.Fping)
	}{
		{"count", func(p *report.Fping) { p.Count = true }},
		{"count-quiet", func(p *report.Fping) { p.Count = true; p.Quiet = true }},
		{"columns", func(p *report.Fping) { p.Count = true; p.Columns = true }},
		{"columns-quiet", func(p *report.Fping) { p.Count = true; p.Columns = true; p.Quiet = true }},
		{"alive", func(*report.Fping) {}},
		{"elapsed", func(p *report.Fping) { p.Elapsed = true }},
		{"a", func(p *report.Fping) { p.Alive = true }},
		{"a-e", func(p *report.Fping) { p.Alive = true; p.Elapsed = true }},
		{"u", func(p *report.Fping) { p.Unreachable = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errs strings.Builder
			p := &report.Fping{}
			tc.set(p)
			p.W, p.Err, p.Names = &out, &errs, []string{"198.18.1.2", "198.18.9.10", "slow.lab"}
			for _, ev := range fpingRun {
				p.Event(&ev)
			}
			p.Summary(0)
			golden(t, "fping-"+tc.name, "-- stdout --\n"+out.String()+"-- stderr --\n"+errs.String())
		})
	}
}

// TestFpingDefaults: without Err everything goes to W; a target without a
// name goes by its address; nothing at all does not fail.
func TestFpingDefaults(t *testing.T) {
	var out strings.Builder
	p := &report.Fping{W: &out, Count: true, Names: []string{"198.18.1.2"}}
	for _, ev := range fpingRun {
		p.Event(&ev)
	}
	p.Summary(0)
	// As fping 5.1 in count mode: no duplicates and no send errors among
	// the per-probe lines; a probe that never left counts as sent, lost.
	want := `198.18.1.2  : [0], 64 bytes, 0.049 ms (0.049 avg, 0% loss)
ICMP Host Unreachable from 198.18.0.1 for ICMP Echo sent to 198.18.9.10
198.18.9.10 : [0], timed out (NaN avg, 100% loss)
198.18.64.1 : [0], 64 bytes, 150 ms (150 avg, 0% loss)
198.18.1.2  : [1], 64 bytes, 0.170 ms (0.110 avg, 0% loss)
198.18.64.1 : [1], 64 bytes, 2.50 ms (76.2 avg, 0% loss)
198.18.9.10 : [1], timed out (NaN avg, 100% loss)
198.18.1.2  : [2], 64 bytes, 12.5 ms (4.24 avg, 0% loss)
198.18.9.10 : [2], timed out (NaN avg, 100% loss)

198.18.1.2  : xmt/rcv/%loss = 3/3/0%, min/avg/max = 0.049/4.24/12.5
198.18.9.10 : xmt/rcv/%loss = 3/0/100%
198.18.64.1 : xmt/rcv/%loss = 3/2/33%, min/avg/max = 2.50/76.2/150
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	(&report.Fping{}).Summary(0)
	(&report.Fping{Columns: true}).Summary(0)
	(&report.Fping{}).Split()
}
