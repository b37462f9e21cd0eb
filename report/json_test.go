package report_test

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/ping"
	"github.com/pingcraft/pingcraft/report"
)

// jsonOne is everyKind as a run of one target sees it, with what JSON
// shows and text does not: address, id, clock, and some edge values (TTL
// 0, id 0, a kernel clock, a send error without words).
func jsonOne() []ping.Event {
	evs := slices.Clone(everyKind)
	for i := range evs {
		evs[i].Addr, evs[i].ID = target, 0x1234
		if evs[i].RTT > 0 {
			evs[i].Stamp = ping.StampUser
		}
	}
	evs[1].Stamp = ping.StampKernel
	// A probe whose kernel send stamp never came: the kernel's receive
	// stamp, the user-space send time.
	evs[2].SendClock, evs[2].ReceiveClock = ping.StampUser, ping.StampKernel
	at := time.Date(2026, 12, 1, 10, 51, 2, 0, time.FixedZone("CET", 3600)) // no fraction, not UTC
	return append(evs,
		ping.Event{Kind: ping.EventSent, Addr: target, ID: 0, Seq: 10, At: at, Bytes: 64},
		ping.Event{Kind: ping.EventReply, Addr: target, ID: 0, Seq: 10, At: at, Bytes: 64, From: target, TTL: 0, HasTTL: true, RTT: us(7), Stamp: ping.StampKernel},
		ping.Event{Kind: ping.EventSendError, Addr: target, Seq: 11, At: at},
		// The NIC's stamps both ways: "clock" stays "kernel" (no user
		// time), the ends say "hardware".
		ping.Event{Kind: ping.EventReply, Addr: target, ID: 0, Seq: 12, At: at, Bytes: 64, From: target, TTL: 64, HasTTL: true, RTT: us(5),
			Stamp: ping.StampHardware, SendClock: ping.StampHardware, ReceiveClock: ping.StampHardware},
	)
}

// TestJSON: schema v1 of every event kind, for a run of one and of many.
func TestJSON(t *testing.T) {
	one := stats(t, everyKindCounts, us(51), us(12345), us(200))
	for _, tc := range []struct {
		name string
		j    report.JSON
		run  func(j *report.JSON)
	}{
		{"one", report.JSON{Name: "198.18.1.2"}, func(j *report.JSON) {
			for _, ev := range jsonOne() {
				j.Event(&ev)
			}
			j.Summary(0, target, &one, 8005*time.Millisecond, 0)
		}},
		{"no-replies", report.JSON{Name: "target.lab"}, func(j *report.JSON) {
			j.Summary(0, target6, &ping.Stats{Transmitted: 3, TimedOut: 3}, 2003*time.Millisecond, 2)
		}},
		{"many", report.JSON{Names: []string{"198.18.1.2", "198.18.9.10", "slow.lab"}}, func(j *report.JSON) {
			at := time.Date(2026, 12, 1, 9, 51, 2, 123456789, time.UTC)
			for i, ev := range fpingRun {
				ev.ID, ev.At = 0x1234, at.Add(time.Duration(i)*time.Millisecond)
				if ev.RTT > 0 {
					ev.Stamp = ping.StampKernel
				}
				j.Event(&ev)
			}
			for i, a := range []netip.Addr{target, target2, slow} {
				j.Summary(i, a, &fpingStats[i], 3002*time.Millisecond, 0)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			j := tc.j
			j.W = &b
			tc.run(&j)
			checkSchema(t, b.String())
			golden(t, "json-"+tc.name, b.String())
		})
	}
}

// TestJSONEngine: the objects of a real run, events as the engine makes
// them (its clock is synctest's, from 2000-01-01 00:00 UTC).
func TestJSONEngine(t *testing.T) {
	var b strings.Builder
	j := &report.JSON{W: &b, Name: "198.18.1.2"}
	st := runEngine(t, target, j.Event, us(51), time.Millisecond)
	j.Summary(0, target, &st, 1001*time.Millisecond, 0)
	checkSchema(t, b.String())
	golden(t, "json-engine", b.String())
}

// fields are the keys each event has (README-json.md); ttl and the
// summary's rtt_* are the only ones that may be missing.
var fields = map[string][]string{
	"sent":         {"bytes"},
	"reply":        {"src", "ttl", "bytes", "rtt_ms", "clock", "send_clock", "receive_clock"},
	"duplicate":    {"src", "ttl", "bytes", "rtt_ms", "clock", "send_clock", "receive_clock"},
	"late":         {"src", "ttl", "bytes", "rtt_ms", "clock", "send_clock", "receive_clock"},
	"corrupted":    {"src", "ttl", "bytes", "rtt_ms", "clock", "send_clock", "receive_clock", "bad_byte"},
	"bad_checksum": {"src", "ttl", "bytes", "rtt_ms", "clock", "send_clock", "receive_clock"},
	"timeout":      {},
	"error":        {"src", "ttl", "icmp_type", "icmp_code", "error"},
	"send_error":   {"error"},
}

var (
	eventFields   = []string{"v", "event", "target", "addr", "id", "seq", "time"}
	summaryFields = []string{"v", "event", "target", "addr", "transmitted", "received", "duplicates", "corrupted",
		"bad_checksums", "errors", "late", "send_errors", "loss_percent", "time_ms", "rtt_min_ms", "rtt_avg_ms", "rtt_max_ms",
		"rtt_mdev_ms", "ring_drops"}
	optional = []string{"ttl", "rtt_min_ms", "rtt_avg_ms", "rtt_max_ms", "rtt_mdev_ms"}
)

// checkSchema holds every line of out to schema v1: one object a line,
// "v": 1, no null, the event's keys and no others, the time's layout.
func checkSchema(t *testing.T, out string) {
	t.Helper()
	for n, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var o map[string]any
		d := json.NewDecoder(strings.NewReader(line))
		d.UseNumber()
		if err := d.Decode(&o); err != nil || d.More() {
			t.Errorf("line %d is not one object (%v): %s", n+1, err, line)
			continue
		}
		if o["v"] != json.Number("1") {
			t.Errorf("line %d: v = %v, want 1", n+1, o["v"])
		}
		ev, _ := o["event"].(string)
		want := summaryFields
		if ev != "summary" {
			extra, ok := fields[ev]
			if !ok {
				t.Errorf("line %d: event %q is not in the schema", n+1, ev)
			}
			want = append(slices.Clone(eventFields), extra...)
		}
		for k, v := range o {
			if v == nil {
				t.Errorf("line %d: %s is null", n+1, k)
			}
			if !slices.Contains(want, k) {
				t.Errorf("line %d: %s has %s, not in the schema", n+1, ev, k)
			}
		}
		for _, k := range want {
			if _, ok := o[k]; !ok && !slices.Contains(optional, k) {
				t.Errorf("line %d: %s lacks %s", n+1, ev, k)
			}
		}
		if tm, ok := o["time"].(string); ok {
			p, err := time.Parse(time.RFC3339Nano, tm)
			if err != nil || p.Location() != time.UTC || p.UTC().Format(report.TimeLayout) != tm {
				t.Errorf("line %d: time %q is not RFC 3339 UTC with nine digits", n+1, tm)
			}
		}
	}
}

// TestJSONOneWrite: each object reaches W in one Write, so that writers
// shared by goroutines or an AsyncWriter never split a line.
func TestJSONOneWrite(t *testing.T) {
	var w writes
	j := &report.JSON{W: &w, Name: "x"}
	for _, ev := range jsonOne() {
		j.Event(&ev)
	}
	j.Summary(0, target, &ping.Stats{}, 0, 0)
	for _, b := range w {
		if bytes.Count(b, []byte("\n")) != 1 || b[len(b)-1] != '\n' {
			t.Errorf("write %q is not one line", b)
		}
	}
	if len(w) != len(jsonOne())+1 {
		t.Errorf("%d writes, want %d", len(w), len(jsonOne())+1)
	}
}

type writes [][]byte

func (w *writes) Write(b []byte) (int, error) {
	*w = append(*w, bytes.Clone(b))
	return len(b), nil
}

// TestJSONDefaults: no W writes nowhere; a target without a name goes by
// Name, else by its address.
func TestJSONDefaults(t *testing.T) {
	(&report.JSON{}).Event(&ping.Event{Kind: ping.EventSent})
	var b strings.Builder
	j := &report.JSON{W: &b, Names: []string{"a"}}
	at := time.Date(2026, 12, 1, 9, 51, 2, 123456789, time.UTC)
	j.Event(&ping.Event{Kind: ping.EventTimeout, Target: 1, Addr: target2, Seq: 1, At: at})
	j.Event(&ping.Event{Kind: ping.EventICMPError, Target: 0, Addr: target, Seq: 1, At: at, From: router,
		Error: craft.ICMPError{Kind: craft.ErrUnreachable, Type: 3, Code: 0}})
	want := `{"v":1,"event":"timeout","target":"198.18.9.10","addr":"198.18.9.10","id":0,"seq":1,"time":"2026-12-01T09:51:02.123456789Z"}
{"v":1,"event":"error","target":"a","addr":"198.18.1.2","id":0,"seq":1,"time":"2026-12-01T09:51:02.123456789Z","src":"198.18.0.1","icmp_type":3,"icmp_code":0,"error":"Destination Net Unreachable"}
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
}
