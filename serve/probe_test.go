package serve

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pingcraft/pingcraft/ping"
)

// TestBurstSeries: what one /probe answers, for a burst that lost one of
// four probes and saw a duplicate, and for a target that could not be
// probed at all.
func TestBurstSeries(t *testing.T) {
	b := &burst{}
	for _, ev := range []ping.Event{
		{Kind: ping.EventSent}, {Kind: ping.EventReply, RTT: 2 * time.Millisecond, TTL: 63, HasTTL: true},
		{Kind: ping.EventDuplicate, RTT: 9 * time.Millisecond},
		{Kind: ping.EventSent}, {Kind: ping.EventReply, RTT: 4 * time.Millisecond, TTL: 62, HasTTL: true},
		{Kind: ping.EventSent}, {Kind: ping.EventReply, RTT: 3 * time.Millisecond},
		{Kind: ping.EventSent}, {Kind: ping.EventTimeout},
	} {
		b.record(&ev)
	}
	want := `
# HELP pingcraft_probe_duplicates Duplicate echo replies.
# TYPE pingcraft_probe_duplicates gauge
pingcraft_probe_duplicates 1
# HELP pingcraft_probe_loss_ratio Share of the burst's requests not answered in time, 0 to 1.
# TYPE pingcraft_probe_loss_ratio gauge
pingcraft_probe_loss_ratio 0.25
# HELP pingcraft_probe_reply_ttl TTL (hop limit) of the burst's last reply.
# TYPE pingcraft_probe_reply_ttl gauge
pingcraft_probe_reply_ttl 62
# HELP pingcraft_probe_requests Echo requests the burst sent.
# TYPE pingcraft_probe_requests gauge
pingcraft_probe_requests 4
# HELP pingcraft_probe_responses Echo requests answered in time: duplicates not included.
# TYPE pingcraft_probe_responses gauge
pingcraft_probe_responses 3
# HELP pingcraft_probe_rtt_seconds Round trip of the burst's replies, in seconds: min, mean and max.
# TYPE pingcraft_probe_rtt_seconds gauge
pingcraft_probe_rtt_seconds{stat="max"} 0.004
pingcraft_probe_rtt_seconds{stat="mean"} 0.003
pingcraft_probe_rtt_seconds{stat="min"} 0.002
# HELP probe_duration_seconds How long the probe took, resolution included, in seconds.
# TYPE probe_duration_seconds gauge
probe_duration_seconds 0.75
# HELP probe_ip_protocol The IP version probed: 4 or 6.
# TYPE probe_ip_protocol gauge
probe_ip_protocol 4
# HELP probe_success Whether any probe of the burst was answered.
# TYPE probe_success gauge
probe_success 1
`
	if err := testutil.GatherAndCompare(burstRegistry(b, 750*time.Millisecond), strings.NewReader(want)); err != nil {
		t.Error(err)
	}

	failed := `
# HELP probe_duration_seconds How long the probe took, resolution included, in seconds.
# TYPE probe_duration_seconds gauge
probe_duration_seconds 3
# HELP probe_success Whether any probe of the burst was answered.
# TYPE probe_success gauge
probe_success 0
`
	if err := testutil.GatherAndCompare(burstRegistry(nil, 3*time.Second), strings.NewReader(failed)); err != nil {
		t.Errorf("a target that could not be probed: %v", err)
	}
}

// TestProbeBadRequests: what /probe refuses, in one line naming the fix,
// before anything is resolved or opened (so without privileges).
func TestProbeBadRequests(t *testing.T) {
	s := New()
	h, err := s.Handler(func() error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ query, want string }{
		{"", "give one address or host name as the target parameter"},
		{"target=two+words", "give one address or host name as the target parameter"},
		{"target=198.18.1.2&module=slow", `unknown module "slow": use icmp, or add it under modules:`},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/probe?"+tc.query, nil))
		if body := rec.Body.String(); rec.Code != 400 || !strings.Contains(body, tc.want) || strings.Count(body, "\n") != 1 {
			t.Errorf("/probe?%s: %d %q, want 400 and one line containing %q", tc.query, rec.Code, body, tc.want)
		}
	}
}
