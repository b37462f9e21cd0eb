package report_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/ping"
	"github.com/pingcraft/pingcraft/report"
	"github.com/pingcraft/pingcraft/resolve"
)

// The printers are onEvents for ping.New.
var (
	_ func(*ping.Event) = (&report.Ping{}).Event
	_ func(*ping.Event) = (&report.Fping{}).Event
	_ func(*ping.Event) = (&report.JSON{}).Event
)

func TestFormatRTT(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0.000"},
		{us(51), "0.051"},
		{us(999), "0.999"},
		{us(1234), "1.23"},
		{us(9994), "9.99"},
		{us(9996), "10.0"},
		{us(12345), "12.3"},
		{us(99949), "99.9"},
		{us(99951), "100"},
		{1500 * time.Millisecond, "1500"},
	} {
		if got := report.FormatRTT(tt.d); got != tt.want {
			t.Errorf("FormatRTT(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

var (
	unreachHost  = craft.ICMPError{Kind: craft.ErrUnreachable, Type: 3, Code: 1}
	ttlExceeded  = craft.ICMPError{Kind: craft.ErrTimeExceeded, Type: 11}
	fragNeeded   = craft.ICMPError{Kind: craft.ErrUnreachable, Type: 3, Code: 4, MTU: 1400}
	unreachAddr6 = craft.ICMPError{Kind: craft.ErrUnreachable, Six: true, Type: 1, Code: 3}
	enobufs      = errors.New("sendto: no buffer space available")
)

// stamped gives the events times 1 ms apart from a fixed second, for -D.
func stamped(evs ...ping.Event) []ping.Event {
	at := time.Unix(1764000000, 123456789)
	for i := range evs {
		evs[i].At = at.Add(time.Duration(i) * time.Millisecond)
	}
	return evs
}

// everyKind is one run with an event of every kind.
var everyKind = stamped(
	ping.Event{Kind: ping.EventSent, Seq: 1, Bytes: 64},
	ping.Event{Kind: ping.EventReply, Seq: 1, Bytes: 64, From: target, TTL: 63, HasTTL: true, RTT: us(51)},
	ping.Event{Kind: ping.EventDuplicate, Seq: 1, Bytes: 64, From: target, TTL: 63, HasTTL: true, RTT: us(12345)},
	ping.Event{Kind: ping.EventSent, Seq: 2, Bytes: 64},
	ping.Event{Kind: ping.EventICMPError, Seq: 2, From: router, Error: unreachHost},
	ping.Event{Kind: ping.EventSent, Seq: 3, Bytes: 64},
	ping.Event{Kind: ping.EventICMPError, Seq: 3, From: router, TTL: 64, HasTTL: true, Error: ttlExceeded},
	ping.Event{Kind: ping.EventSent, Seq: 4, Bytes: 64},
	ping.Event{Kind: ping.EventCorrupted, Seq: 4, Bytes: 64, From: target, TTL: 63, HasTTL: true, RTT: time.Millisecond, BadByte: 20, Want: 0x14, Got: 0x00},
	ping.Event{Kind: ping.EventSent, Seq: 5, Bytes: 64},
	ping.Event{Kind: ping.EventTimeout, Seq: 5},
	ping.Event{Kind: ping.EventSendError, Seq: 6, Err: enobufs},
	ping.Event{Kind: ping.EventSent, Seq: 7, Bytes: 64},
	ping.Event{Kind: ping.EventTimeout, Seq: 7},
	ping.Event{Kind: ping.EventLate, Seq: 7, Bytes: 64, From: target, TTL: 63, HasTTL: true, RTT: 10500 * time.Millisecond},
	ping.Event{Kind: ping.EventSent, Seq: 8, Bytes: 64},
	ping.Event{Kind: ping.EventBadChecksum, Seq: 8, Bytes: 64, From: target, TTL: 63, HasTTL: true, RTT: us(150)},
	ping.Event{Kind: ping.EventReply, Seq: 8, Bytes: 64, From: target, RTT: us(200)}, // no TTL: none printed
	ping.Event{Kind: ping.EventSent, Seq: 9, Bytes: 64},
	ping.Event{Kind: ping.EventICMPError, Seq: 9, From: router, Error: fragNeeded},
)

// everyKindCounts are the counters of everyKind; its tests add the RTTs of
// its replies and its duplicate.
var everyKindCounts = ping.Stats{Transmitted: 8, Received: 2, TimedOut: 6, Duplicates: 1, Corrupted: 1, BadChecksums: 1, Errors: 3, Late: 1, SendErrors: 1}

// TestPing holds the lines to iputils ping's (20221126) for the same
// events; what iputils lacks ((late), corrupted data, send errors) is in
// its style.
func TestPing(t *testing.T) {
	for _, tc := range []struct {
		name    string
		p       report.Ping
		addr    netip.Addr
		via     string
		events  []ping.Event
		counts  ping.Stats
		rtts    []time.Duration // of replies and duplicates
		elapsed time.Duration
		preload int
	}{
		{"every-kind", report.Ping{Name: "198.18.1.2"}, target, "", everyKind,
			everyKindCounts, []time.Duration{us(51), us(12345), us(200)}, 8005 * time.Millisecond, 0},
		{"stamps", report.Ping{Name: "198.18.1.2", Stamps: true}, target, "", everyKind,
			everyKindCounts, []time.Duration{us(51), us(12345), us(200)}, 8005 * time.Millisecond, 0},
		{"quiet", report.Ping{Name: "198.18.1.2", Quiet: true, Stamps: true, Report: true}, target, "", everyKind,
			everyKindCounts, []time.Duration{us(51), us(12345), us(200)}, 8005 * time.Millisecond, 0},
		{"outstanding", report.Ping{Name: "198.18.1.2", Report: true, Stamps: true}, target, "", stamped(
			ping.Event{Kind: ping.EventSent, Seq: 1},
			ping.Event{Kind: ping.EventReply, Seq: 1, Bytes: 64, From: target, TTL: 63, HasTTL: true, RTT: us(80)},
			ping.Event{Kind: ping.EventSent, Seq: 2},
			ping.Event{Kind: ping.EventSent, Seq: 3}, // 2 is still out
			ping.Event{Kind: ping.EventICMPError, Seq: 3, From: router, Error: ttlExceeded},
			ping.Event{Kind: ping.EventSent, Seq: 4}, // 3 was answered, by an error
			ping.Event{Kind: ping.EventTimeout, Seq: 2},
			ping.Event{Kind: ping.EventSent, Seq: 5}, // 4 is still out
			ping.Event{Kind: ping.EventReply, Seq: 4, Bytes: 64, From: target, TTL: 63, HasTTL: true, RTT: 1200 * time.Millisecond},
			ping.Event{Kind: ping.EventSendError, Seq: 6, Err: enobufs},
			ping.Event{Kind: ping.EventSent, Seq: 7}, // 6 never left; iputils asks after the one before only
		), ping.Stats{Transmitted: 6, Received: 2, TimedOut: 2, Outstanding: 2, Errors: 1, SendErrors: 1},
			[]time.Duration{us(80), 1200 * time.Millisecond}, 6002 * time.Millisecond, 0},
		{"source-iface-pipe", report.Ping{Name: "target.lab"}, target, "198.18.0.2 h0", stamped(
			ping.Event{Kind: ping.EventSent, Seq: 1},
			ping.Event{Kind: ping.EventSent, Seq: 2},
			ping.Event{Kind: ping.EventSent, Seq: 3},
			ping.Event{Kind: ping.EventReply, Seq: 1, Bytes: 64, From: target, TTL: 63, HasTTL: true, RTT: time.Millisecond},
			ping.Event{Kind: ping.EventReply, Seq: 3, Bytes: 64, From: target, TTL: 63, HasTTL: true, RTT: time.Millisecond},
			ping.Event{Kind: ping.EventTimeout, Seq: 2},
		), ping.Stats{Transmitted: 3, Received: 2, TimedOut: 1}, []time.Duration{time.Millisecond, time.Millisecond}, time.Second, 3},
		{"ipv6-no-replies", report.Ping{Name: "target.lab"}, target6, "", stamped(
			ping.Event{Kind: ping.EventSent, Seq: 1},
			ping.Event{Kind: ping.EventICMPError, Seq: 1, From: router6, Error: unreachAddr6},
			ping.Event{Kind: ping.EventSent, Seq: 2},
			ping.Event{Kind: ping.EventTimeout, Seq: 2},
			ping.Event{Kind: ping.EventSent, Seq: 3},
			ping.Event{Kind: ping.EventTimeout, Seq: 3},
		), ping.Stats{Transmitted: 3, TimedOut: 3, Errors: 1}, nil, 2003 * time.Millisecond, 0},
		{"nothing-sent", report.Ping{Name: "198.18.1.2"}, target, "", nil,
			ping.Stats{SendErrors: 0}, nil, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := stats(t, tc.counts, tc.rtts...)
			var b strings.Builder
			p := tc.p
			p.W = &b
			p.Header(tc.addr, 56, tc.via, 0, 0)
			for _, ev := range tc.events {
				p.Event(&ev)
			}
			p.Summary(&st, tc.elapsed, tc.preload)
			golden(t, "ping-"+tc.name, b.String())
		})
	}
}

// TestPingFlood: -f draws a dot per probe and rubs it out with its reply,
// an E per error; the summary adds the gap between probes and the smoothed
// RTT. Inline, for the backspaces.
func TestPingFlood(t *testing.T) {
	evs := []ping.Event{
		{Kind: ping.EventSent, Seq: 1},
		{Kind: ping.EventReply, Seq: 1, Bytes: 64, From: target, RTT: time.Millisecond},
		{Kind: ping.EventSent, Seq: 2},
		{Kind: ping.EventSent, Seq: 3},
		{Kind: ping.EventReply, Seq: 3, Bytes: 64, From: target, RTT: 2 * time.Millisecond},
		{Kind: ping.EventDuplicate, Seq: 3, Bytes: 64, From: target, RTT: 2 * time.Millisecond},
		{Kind: ping.EventICMPError, Seq: 2, From: router, Error: ttlExceeded},
		{Kind: ping.EventSent, Seq: 4},
		{Kind: ping.EventSendError, Seq: 5, Err: enobufs},
		{Kind: ping.EventTimeout, Seq: 4},
	}
	// ewma: 1000 first, then 1000 + (2000-1000)/8 = 1125, then the
	// duplicate: 1125 + (2000-1125)/8 = 1234.
	st := stats(t, ping.Stats{Transmitted: 4, Received: 2, TimedOut: 2, Duplicates: 1, Errors: 1, SendErrors: 1},
		time.Millisecond, 2*time.Millisecond, 2*time.Millisecond)
	for _, tc := range []struct {
		name    string
		p       report.Ping
		preload int
		want    string
	}{
		{"flood", report.Ping{Name: "198.18.1.2", Flood: true}, 0,
			".\b \b..\b \bE.E\n" +
				"--- 198.18.1.2 ping statistics ---\n" +
				"4 packets transmitted, 2 received, +1 duplicates, +1 errors, 50% packet loss, time 30ms\n" +
				"rtt min/avg/max/mdev = 1.000/1.666/2.000/0.473 ms, ipg/ewma 10.000/1.234 ms\n"},
		{"flood preload", report.Ping{Name: "198.18.1.2", Flood: true}, 2,
			".\b \b..\b \bE.E\n" +
				"--- 198.18.1.2 ping statistics ---\n" +
				"4 packets transmitted, 2 received, +1 duplicates, +1 errors, 50% packet loss, time 30ms\n" +
				"rtt min/avg/max/mdev = 1.000/1.666/2.000/0.473 ms, pipe 2, ipg/ewma 10.000/1.234 ms\n"},
		{"flood quiet", report.Ping{Name: "198.18.1.2", Flood: true, Quiet: true}, 0,
			"\n--- 198.18.1.2 ping statistics ---\n" +
				"4 packets transmitted, 2 received, +1 duplicates, +1 errors, 50% packet loss, time 30ms\n" +
				"rtt min/avg/max/mdev = 1.000/1.666/2.000/0.473 ms, ipg/ewma 10.000/1.234 ms\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			p := tc.p
			p.W = &b
			for _, ev := range evs {
				p.Event(&ev)
			}
			p.Summary(&st, 30*time.Millisecond, tc.preload)
			if diff := cmp.Diff(tc.want, b.String()); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPingStatus: the SIGQUIT line, iputils' format to the byte.
func TestPingStatus(t *testing.T) {
	var status, out strings.Builder
	p := &report.Ping{W: &out}
	p.Status(&status, &ping.Stats{})
	// ewma: 1000 first, then 1000 + (2000-1000)/8 = 1125.
	st := stats(t, ping.Stats{Transmitted: 3, Received: 2, Outstanding: 1}, time.Millisecond, 2*time.Millisecond)
	p.Status(&status, &st)
	p.Status(nil, &st) // to p.W
	want := "\r0/0 packets, 0% loss\n" +
		"\r2/3 packets, 33% loss, min/avg/ewma/max = 1.000/1.500/1.125/2.000 ms\n"
	if diff := cmp.Diff(want, status.String()); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff("\r2/3 packets, 33% loss, min/avg/ewma/max = 1.000/1.500/1.125/2.000 ms\n", out.String()); diff != "" {
		t.Errorf("status to W (-want +got):\n%s", diff)
	}
}

// TestPingLoss: iputils prints loss with %g of a float: six digits.
func TestPingLoss(t *testing.T) {
	for _, tc := range []struct {
		sent, recv int
		want       string
	}{
		{3, 2, "33.3333%"}, {3, 1, "66.6667%"}, {7, 0, "100%"}, {8, 7, "12.5%"}, {1000000, 999999, "0.0001%"}, {1, 1, "0%"},
	} {
		var b strings.Builder
		p := &report.Ping{W: &b, Name: "x"}
		p.Summary(&ping.Stats{Transmitted: tc.sent, Received: tc.recv}, time.Second, 0)
		if !strings.Contains(b.String(), " received, "+tc.want+" packet loss,") {
			t.Errorf("%d/%d: %q, want %s", tc.recv, tc.sent, b.String(), tc.want)
		}
	}
}

// TestPingNilWriter: a Ping without W writes nowhere, and does not fail.
func TestPingNilWriter(t *testing.T) {
	p := &report.Ping{Report: true, Stamps: true}
	p.Header(target, 56, "", 0, 0)
	for _, ev := range everyKind {
		p.Event(&ev)
	}
	p.Summary(&ping.Stats{}, 0, 0)
	p.Status(nil, &ping.Stats{})
}

// TestPingLocalError: -M do beyond the MTU, as iputils 20221126 prints it
// on stderr (IPv6 with a colon), with the errors in the summary.
func TestPingLocalError(t *testing.T) {
	for _, tc := range []struct {
		addr, want string
	}{
		{"198.18.1.2", "ping: local error: message too long, mtu=1400\n"},
		{"fd00:198:18:1::2", "ping: local error: message too long, mtu: 1400\n"},
	} {
		var out, errs strings.Builder
		p := &report.Ping{W: &out, ErrW: &errs, Name: tc.addr}
		p.Event(&ping.Event{Kind: ping.EventLocalError, Addr: netip.MustParseAddr(tc.addr), Seq: 1, MTU: 1400})
		if diff := cmp.Diff(tc.want, errs.String()); diff != "" || out.Len() != 0 {
			t.Errorf("%s: stdout %q, stderr (-want +got):\n%s", tc.addr, out.String(), diff)
		}
	}
}

// TestPingNames: with NameOf, lines name addresses as iputils 20221126
// printed them for `ping -c1 localhost` with ::1 in /etc/hosts.
func TestPingNames(t *testing.T) {
	var out strings.Builder
	lo := netip.IPv6Loopback()
	p := &report.Ping{W: &out, Name: "localhost", NameOf: func(a netip.Addr) string {
		if a == lo {
			return "localhost"
		}
		return ""
	}}
	p.Header(lo, 56, "", 0, 0)
	p.Event(&ping.Event{Kind: ping.EventReply, Addr: lo, From: lo, Seq: 1, Bytes: 64, TTL: 64, HasTTL: true, RTT: 30 * time.Microsecond})
	p.Event(&ping.Event{Kind: ping.EventReply, Addr: lo, From: netip.MustParseAddr("fd00::1"), Seq: 2, Bytes: 64, TTL: 64, HasTTL: true, RTT: 30 * time.Microsecond})
	want := "PING localhost(localhost (::1)) 56 data bytes\n" +
		"64 bytes from localhost (::1): icmp_seq=1 ttl=64 time=0.030 ms\n" +
		"64 bytes from fd00::1: icmp_seq=2 ttl=64 time=0.030 ms\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestPingIPOptions: record route and timestamps after the reply line,
// '(same route)' when the route did not change, as iputils prints them
// (the expected text is iputils' own output on loopback), a bell with -a.
func TestPingIPOptions(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	rr := craft.RecordRouteOption()
	rr[3] = 4 + 4*4
	for i := 0; i < 4; i++ {
		copy(rr[4+4*i:], []byte{127, 0, 0, 1})
	}
	ts := craft.TimestampOption(craft.TimestampAndAddress, nil)
	ts[2] = 5 + 8*2
	copy(ts[4:], []byte{127, 0, 0, 1, 0x02, 0xfa, 0x3c, 0x2a, 127, 0, 0, 1, 0x02, 0xfa, 0x3c, 0x2b})
	reply := func(seq uint16, opts []byte) *ping.Event {
		return &ping.Event{Kind: ping.EventReply, Addr: lo, From: lo, Seq: seq, TTL: 64, HasTTL: true, Bytes: 64, RTT: us(16), IPOptions: opts}
	}
	var b strings.Builder
	p := &report.Ping{W: &b, Name: "127.0.0.1"}
	p.Header(lo, 56, "", 0, craft.MaxIPv4Options)
	p.Event(reply(1, rr))
	p.Event(reply(2, rr))
	p.Event(reply(3, ts))
	p.Event(reply(5, craft.TimestampOption(craft.TimestampPrespecified, nil))) // nothing recorded: nothing printed
	pb := &report.Ping{W: &b, Name: "127.0.0.1", Bell: true, Untimed: true}
	pb.Event(reply(4, nil))
	want := "PING 127.0.0.1 (127.0.0.1) 56(124) bytes of data.\n" +
		"64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.016 ms\nRR: \t127.0.0.1\n\t127.0.0.1\n\t127.0.0.1\n\t127.0.0.1\n\n" +
		"64 bytes from 127.0.0.1: icmp_seq=2 ttl=64 time=0.016 ms\t(same route)\n" +
		"64 bytes from 127.0.0.1: icmp_seq=3 ttl=64 time=0.016 ms\nTS: \t127.0.0.1\t49953834 absolute\n\t127.0.0.1\t1\n\n" +
		"64 bytes from 127.0.0.1: icmp_seq=5 ttl=64 time=0.016 ms\n" +
		"64 bytes from 127.0.0.1: icmp_seq=4 ttl=64\a\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestPingHeaderAndSummary: the IPv6 header with a flow label and a
// source, the summary's time rounded to the millisecond, no rtt line for
// an untimed run, ipg/ewma after an adaptive one.
func TestPingHeaderAndSummary(t *testing.T) {
	var b strings.Builder
	p := &report.Ping{W: &b, Name: "::1"}
	p.Header(netip.MustParseAddr("::1"), 56, "::1 lo", 5, 0)
	st := stats(t, ping.Stats{Transmitted: 2, Received: 2}, us(10), us(20))
	p.Summary(&st, 1500*time.Microsecond, 1)
	(&report.Ping{W: &b, Name: "::1", Untimed: true}).Summary(&st, 400*time.Microsecond, 1)
	(&report.Ping{W: &b, Name: "::1", Adaptive: true}).Summary(&st, 2*time.Millisecond, 1)
	want := "PING ::1(::1) , flow 0x00005, from ::1 lo: 56 data bytes\n" +
		"\n--- ::1 ping statistics ---\n2 packets transmitted, 2 received, 0% packet loss, time 2ms\nrtt min/avg/max/mdev = 0.010/0.015/0.020/0.005 ms\n" +
		"\n--- ::1 ping statistics ---\n2 packets transmitted, 2 received, 0% packet loss, time 0ms\n\n" +
		"\n--- ::1 ping statistics ---\n2 packets transmitted, 2 received, 0% packet loss, time 2ms\nrtt min/avg/max/mdev = 0.010/0.015/0.020/0.005 ms, ipg/ewma 2.000/0.011 ms\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestAuthentication: -v says how replies are told from forgeries, and
// that below 8 data bytes they cannot be.
func TestAuthentication(t *testing.T) {
	for _, tt := range []struct {
		size int
		want string
	}{
		{0, "pingcraft: 0 data bytes leave no room for the 8-byte authenticator: replies cannot be told from forgeries (use -s 8 or more)\n"},
		{7, "pingcraft: 7 data bytes leave no room for the 8-byte authenticator: replies cannot be told from forgeries (use -s 8 or more)\n"},
		{8, "pingcraft: replies must carry the probe's 8-byte authenticator (a MAC keyed for this run of id, seq and destination)\n"},
		{56, "pingcraft: replies must carry the probe's 8-byte authenticator (a MAC keyed for this run of id, seq, destination and send time)\n"},
	} {
		var b strings.Builder
		p := report.Ping{W: &b}
		p.Authentication(tt.size)
		if diff := cmp.Diff(tt.want, b.String()); diff != "" {
			t.Errorf("size %d (-want +got):\n%s", tt.size, diff)
		}
	}
}

// -v names the clocks that time each end of the round trips, and after the
// summary how many replies fell back to the user-space send time.
func TestPingClocks(t *testing.T) {
	for _, tc := range []struct {
		name          string
		mode          ping.Mode
		send, receive ping.StampSource
		replies       []ping.StampSource // each reply's SendClock
		want          string             // the transport line's end, then the fallback line
	}{
		{"ring", ping.ModeEthernet, ping.StampKernel, ping.StampKernel, []ping.StampSource{ping.StampKernel},
			"AF_PACKET SOCK_RAW out, TPACKET_V3 ring in; kernel timestamps both ways; icmp id 7\n"},
		{"raw socket", ping.ModeRaw, ping.StampKernel, ping.StampKernel, []ping.StampSource{ping.StampKernel, ping.StampKernel},
			"SOCK_RAW ICMP socket; kernel timestamps both ways (send stamps from the socket's error queue, SO_TIMESTAMPING); icmp id 7\n"},
		{"a stamp that did not come", ping.ModeDgram, ping.StampKernel, ping.StampKernel, []ping.StampSource{ping.StampKernel, ping.StampUser, ping.StampKernel},
			"ping socket (SOCK_DGRAM ICMP); kernel timestamps both ways (send stamps from the socket's error queue, SO_TIMESTAMPING); icmp id 7\n" +
				"pingcraft: 1 of 3 replies timed from the user-space send time: their probe's kernel send stamp did not come\n"},
		{"no send stamps", ping.ModeRaw, ping.StampUser, ping.StampKernel, []ping.StampSource{ping.StampUser},
			"SOCK_RAW ICMP socket; kernel receive time, user send time; icmp id 7\n"},
		{"NIC", ping.ModeRaw, ping.StampHardware, ping.StampHardware, []ping.StampSource{ping.StampHardware},
			"SOCK_RAW ICMP socket; NIC (hardware) timestamps both ways, the kernel's where the NIC gives none; icmp id 7\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			p := &report.Ping{W: &b, Quiet: true}
			m := &ping.Member{Mode: tc.mode, Path: &resolve.Path{Target: target}}
			p.Transport(m, 7, false, tc.send, tc.receive)
			for _, c := range tc.replies {
				p.Event(&ping.Event{Kind: ping.EventReply, SendClock: c, ReceiveClock: tc.receive})
			}
			p.UserSendTimes()
			_, got, _ := strings.Cut(b.String(), "\npingcraft: transport "+tc.mode.String()+": ")
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}
