package report_test

import (
	"fmt"
	"io"
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
	(&report.Fping{Netdata: true}).Interval()
}

// loopRun is a -l run of two hosts: one answering, one silent.
var loopRun = []ping.Event{
	{Kind: ping.EventSent, Target: 0, Addr: target, Seq: 1, Bytes: 64},
	{Kind: ping.EventSent, Target: 1, Addr: target2, Seq: 1, Bytes: 64},
	{Kind: ping.EventReply, Target: 0, Addr: target, Seq: 1, Bytes: 64, From: target, RTT: us(40), At: time.Unix(1796133096, 676560000)},
	{Kind: ping.EventTimeout, Target: 1, Addr: target2, Seq: 1, At: time.Unix(1796133097, 0)},
	{Kind: ping.EventSent, Target: 0, Addr: target, Seq: 2, Bytes: 64},
	{Kind: ping.EventSent, Target: 1, Addr: target2, Seq: 2, Bytes: 64},
	{Kind: ping.EventReply, Target: 0, Addr: target, Seq: 2, Bytes: 64, From: target, RTT: us(60), At: time.Unix(1796133097, 676560000)},
	{Kind: ping.EventTimeout, Target: 1, Addr: target2, Seq: 2, At: time.Unix(1796133098, 0)},
}

// TestFpingModes holds -l, -Q, -D, -o, -s, -x and -N to fping 5.1's lines
// for the same events: the split comes after the first round.
func TestFpingModes(t *testing.T) {
	clock := func() time.Time { return time.Date(2026, 12, 1, 13, 51, 29, 0, time.UTC) }
	for _, tc := range []struct {
		name string
		p    func(*report.Fping)
		want string
	}{
		{"loop", func(p *report.Fping) { p.Loop = true }, `-- stdout --
198.18.1.2  : [0], 64 bytes, 0.040 ms (0.040 avg, 0% loss)
198.18.9.10 : [0], timed out (NaN avg, 100% loss)
198.18.1.2  : [1], 64 bytes, 0.060 ms (0.050 avg, 0% loss)
198.18.9.10 : [1], timed out (NaN avg, 100% loss)
-- stderr --

[13:51:29]
198.18.1.2  : xmt/rcv/%loss = 1/1/0%, min/avg/max = 0.040/0.040/0.040
198.18.9.10 : xmt/rcv/%loss = 1/0/100%

198.18.1.2  : xmt/rcv/%loss = 2/2/0%, min/avg/max = 0.040/0.050/0.060
198.18.9.10 : xmt/rcv/%loss = 2/0/100%
`},
		{"squiet-outage", func(p *report.Fping) {
			p.Loop, p.Quiet, p.Squiet, p.Outage, p.Period = true, true, time.Second, true, 250*time.Millisecond
		}, `-- stdout --
-- stderr --
[13:51:29]
198.18.1.2  : xmt/rcv/%loss = 1/1/0%, outage(ms) = 0, min/avg/max = 0.040/0.040/0.040
198.18.9.10 : xmt/rcv/%loss = 1/0/100%, outage(ms) = 250
[13:51:29]
198.18.1.2  : xmt/rcv/%loss = 1/1/0%, outage(ms) = 0, min/avg/max = 0.060/0.060/0.060
198.18.9.10 : xmt/rcv/%loss = 1/0/100%, outage(ms) = 250
198.18.1.2  : xmt/rcv/%loss = 2/2/0%, outage(ms) = 0, min/avg/max = 0.040/0.050/0.060
198.18.9.10 : xmt/rcv/%loss = 2/0/100%, outage(ms) = 500
`},
		{"timestamp", func(p *report.Fping) { p.Count, p.Timestamp = true, true }, `-- stdout --
[1796133096.67656] 198.18.1.2  : [0], 64 bytes, 0.040 ms (0.040 avg, 0% loss)
[1796133097.00000] 198.18.9.10 : [0], timed out (NaN avg, 100% loss)
[1796133097.67656] 198.18.1.2  : [1], 64 bytes, 0.060 ms (0.050 avg, 0% loss)
[1796133098.00000] 198.18.9.10 : [1], timed out (NaN avg, 100% loss)
-- stderr --

[13:51:29]
198.18.1.2  : xmt/rcv/%loss = 1/1/0%, min/avg/max = 0.040/0.040/0.040
198.18.9.10 : xmt/rcv/%loss = 1/0/100%

198.18.1.2  : xmt/rcv/%loss = 2/2/0%, min/avg/max = 0.040/0.050/0.060
198.18.9.10 : xmt/rcv/%loss = 2/0/100%
`},
		{"stats-reachable", func(p *report.Fping) { p.Stats, p.MinReachable, p.Unknown = true, 2, 1 }, `-- stdout --
Not enough hosts reachable (required: 2, reachable: 1)
-- stderr --
[13:51:29]
198.18.1.2  : xmt/rcv/%loss = 1/1/0%, min/avg/max = 0.040/0.040/0.040
198.18.9.10 : xmt/rcv/%loss = 1/0/100%

       2 targets
       1 alive
       1 unreachable
       1 unknown addresses

       2 timeouts (waiting for response)
       4 ICMP Echos sent
       2 ICMP Echo Replies received
       0 other ICMP received

 0.040 ms (min round trip time)
 0.050 ms (avg round trip time)
 0.060 ms (max round trip time)
        1.500 sec (elapsed real time)

`},
		{"netdata", func(p *report.Fping) { p.Loop, p.Quiet, p.Squiet, p.Netdata = true, true, time.Second, true }, `-- stdout --
CHART fping.198_18_1_2_packets '' 'FPing Packets for host 198.18.1.2' packets '198.18.1.2' fping.packets line 110020 1
DIMENSION xmt sent absolute 1 1
DIMENSION rcv received absolute 1 1
BEGIN fping.198_18_1_2_packets
SET xmt = 1
SET rcv = 1
END
CHART fping.198_18_1_2_quality '' 'FPing Quality for host 198.18.1.2' percentage '198.18.1.2' fping.quality area 110010 1
DIMENSION returned '' absolute 1 1
BEGIN fping.198_18_1_2_quality
SET returned = 100
END
CHART fping.198_18_1_2_latency '' 'FPing Latency for host 198.18.1.2' ms '198.18.1.2' fping.latency area 110000 1
DIMENSION min minimum absolute 1 1000000
DIMENSION max maximum absolute 1 1000000
DIMENSION avg average absolute 1 1000000
BEGIN fping.198_18_1_2_latency
SET min = 40000
SET avg = 40000
SET max = 40000
END
CHART fping.slow_lab_packets '' 'FPing Packets for host 198.18.9.10' packets '198.18.9.10' fping.packets line 110020 1
DIMENSION xmt sent absolute 1 1
DIMENSION rcv received absolute 1 1
BEGIN fping.slow_lab_packets
SET xmt = 1
SET rcv = 0
END
CHART fping.slow_lab_quality '' 'FPing Quality for host 198.18.9.10' percentage '198.18.9.10' fping.quality area 110010 1
DIMENSION returned '' absolute 1 1
BEGIN fping.slow_lab_quality
SET returned = 0
END
CHART fping.slow_lab_latency '' 'FPing Latency for host 198.18.9.10' ms '198.18.9.10' fping.latency area 110000 1
DIMENSION min minimum absolute 1 1000000
DIMENSION max maximum absolute 1 1000000
DIMENSION avg average absolute 1 1000000
BEGIN fping.slow_lab_latency
END
BEGIN fping.198_18_1_2_packets
SET xmt = 1
SET rcv = 1
END
BEGIN fping.198_18_1_2_quality
SET returned = 100
END
BEGIN fping.198_18_1_2_latency
SET min = 60000
SET avg = 60000
SET max = 60000
END
BEGIN fping.slow_lab_packets
SET xmt = 1
SET rcv = 0
END
BEGIN fping.slow_lab_quality
SET returned = 0
END
BEGIN fping.slow_lab_latency
END
-- stderr --
198.18.1.2  : xmt/rcv/%loss = 2/2/0%, min/avg/max = 0.040/0.050/0.060
198.18.9.10 : xmt/rcv/%loss = 2/0/100%
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errs strings.Builder
			p := &report.Fping{W: &out, Err: &errs, Names: []string{"198.18.1.2", "198.18.9.10"},
				Charts: []string{"", "slow.lab"}, Now: clock}
			tc.p(p)
			for i, ev := range loopRun {
				p.Event(&ev)
				if i == 3 {
					p.Interval()
				}
			}
			if tc.name == "netdata" || tc.name == "squiet-outage" {
				p.Interval()
			}
			p.Summary(1500 * time.Millisecond)
			got := "-- stdout --\n" + out.String() + "-- stderr --\n" + errs.String()
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestFpingOnAlive: -X's callback counts hosts, not replies.
func TestFpingOnAlive(t *testing.T) {
	var seen []int
	p := &report.Fping{Names: []string{"a", "b"}, OnAlive: func(n int) { seen = append(seen, n) }}
	for _, ev := range loopRun {
		p.Event(&ev)
	}
	p.Event(&ping.Event{Kind: ping.EventReply, Target: 1, Seq: 3, RTT: us(10)})
	if diff := cmp.Diff([]int{1, 2}, seen); diff != "" || p.AliveCount() != 2 {
		t.Errorf("alive %d; calls (-want +got):\n%s", p.AliveCount(), diff)
	}
}

// TestFpingTimestampFormats: fping 5.3's --timestamp-format, in local time.
func TestFpingTimestampFormats(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 5, 7, 0, time.FixedZone("X", 3600))
	for format, want := range map[string]string{
		"":        fmt.Sprintf("[%d.00000] ", at.Unix()),
		"ctime":   "[Tue Dec  1 09:05:07 2026] ",
		"iso":     "[2026-12-01T09:05:07+0100] ",
		"rfc3339": "[2026-12-01 09:05:07] ",
	} {
		var out strings.Builder
		p := &report.Fping{W: &out, Names: []string{"h"}, Count: true, Timestamp: true, TimestampFormat: format}
		p.Event(&ping.Event{Kind: ping.EventReply, Target: 0, Seq: 1, Bytes: 64, RTT: us(40), At: at})
		if got := out.String(); !strings.HasPrefix(got, want+"h : [0], 64 bytes") {
			t.Errorf("%q: %q, want it to start %q", format, got, want)
		}
	}
}

// TestFpingQuitWithNetdata: SIGQUIT's summary is fping's human one even
// under -N, whose charts come with -Q's intervals only.
func TestFpingQuitWithNetdata(t *testing.T) {
	var out, errs strings.Builder
	p := &report.Fping{W: &out, Err: &errs, Names: []string{"h"}, Loop: true, Netdata: true, Squiet: time.Second,
		Now: func() time.Time { return time.Date(2026, 12, 1, 1, 2, 3, 0, time.UTC) }}
	p.Event(&ping.Event{Kind: ping.EventReply, Target: 0, Seq: 1, Bytes: 64, RTT: us(40)})
	p.Split()
	if want := "[01:02:03]\nh : xmt/rcv/%loss = 1/1/0%, min/avg/max = 0.040/0.040/0.040\n"; errs.String() != want || out.String() != "" {
		t.Errorf("stdout %q, stderr %q; want stderr %q", out.String(), errs.String(), want)
	}
}

// TestFpingPrintTTL: --print-ttl ends alive and per-probe lines with the
// reply's TTL, "unknown" when the socket gave none.
func TestFpingPrintTTL(t *testing.T) {
	for _, tc := range []struct {
		set  func(*report.Fping)
		want string
	}{
		{func(*report.Fping) {}, "a is alive (TTL 63)\nb is alive (TTL unknown)\n"},
		{func(p *report.Fping) { p.Alive = true }, "a (TTL 63)\nb (TTL unknown)\n"},
		{func(p *report.Fping) { p.Count = true }, "a : [0], 64 bytes, 0.040 ms (0.040 avg, 0% loss) (TTL 63)\nb : [0], 64 bytes, 0.040 ms (0.040 avg, 0% loss) (TTL unknown)\n"},
	} {
		var out strings.Builder
		p := &report.Fping{W: &out, Err: io.Discard, Names: []string{"a", "b"}, PrintTTL: true}
		tc.set(p)
		p.Event(&ping.Event{Kind: ping.EventReply, Target: 0, Seq: 1, Bytes: 64, RTT: us(40), TTL: 63, HasTTL: true})
		p.Event(&ping.Event{Kind: ping.EventReply, Target: 1, Seq: 1, Bytes: 64, RTT: us(40)})
		if diff := cmp.Diff(tc.want, out.String()); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	}
}

// TestFpingTooLate: a reply later than its probe's timeout is fping's
// timeout, whatever the engine made of it; retries wait Backoff longer.
func TestFpingTooLate(t *testing.T) {
	var out, errs strings.Builder
	p := &report.Fping{W: &out, Err: &errs, Names: []string{"h"}, Count: true, Timeout: time.Millisecond}
	p.Event(&ping.Event{Kind: ping.EventReply, Target: 0, Seq: 1, Bytes: 64, RTT: 1500 * time.Microsecond})
	p.Event(&ping.Event{Kind: ping.EventReply, Target: 0, Seq: 2, Bytes: 64, RTT: 500 * time.Microsecond})
	p.Summary(0)
	want := "h : [0], timed out (NaN avg, 100% loss)\nh : [1], 64 bytes, 0.500 ms (0.500 avg, 50% loss)\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if want := "\nh : xmt/rcv/%loss = 2/1/50%, min/avg/max = 0.500/0.500/0.500\n"; errs.String() != want {
		t.Errorf("summary %q, want %q", errs.String(), want)
	}
	var alive strings.Builder
	q := &report.Fping{W: &alive, Names: []string{"h"}, Timeout: time.Millisecond, Backoff: 2}
	q.Event(&ping.Event{Kind: ping.EventReply, Target: 0, Seq: 2, Bytes: 64, RTT: 1500 * time.Microsecond}) // waited 2 ms
	if alive.String() != "h is alive\n" {
		t.Errorf("the first retry's reply after 1.5 ms of 2: %q", alive.String())
	}
	// Above a timer's slack the engine's verdict stands.
	var trusted strings.Builder
	r := &report.Fping{W: &trusted, Names: []string{"h"}, Timeout: 100 * time.Millisecond}
	r.Event(&ping.Event{Kind: ping.EventReply, Target: 0, Seq: 1, Bytes: 64, RTT: 150 * time.Millisecond})
	if trusted.String() != "h is alive\n" {
		t.Errorf("a reply the engine took after 150 ms of 100: %q", trusted.String())
	}
}

// TestFpingLateICMPError: an ICMP error for a probe that already timed
// out is reported, not counted again; one for a pending probe ends it.
func TestFpingLateICMPError(t *testing.T) {
	var out, errs strings.Builder
	p := &report.Fping{W: &out, Err: &errs, Names: []string{"198.18.9.10"}, Count: true, Quiet: true}
	p.Event(&ping.Event{Kind: ping.EventTimeout, Target: 0, Seq: 1})
	p.Event(&ping.Event{Kind: ping.EventICMPError, Target: 0, Seq: 1, From: router, Error: unreachHost})
	p.Event(&ping.Event{Kind: ping.EventICMPError, Target: 0, Seq: 2, From: router, Error: unreachHost})
	p.Summary(0)
	if want := "198.18.9.10 : xmt/rcv/%loss = 2/0/100%\n"; errs.String() != want {
		t.Errorf("summary %q, want %q", errs.String(), want)
	}
}
