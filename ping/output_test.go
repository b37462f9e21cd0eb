package ping

import (
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pingcraft/pingcraft/craft"
)

func TestFormatRTT(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{51 * time.Microsecond, "0.051"},
		{999 * time.Microsecond, "0.999"},
		{1234 * time.Microsecond, "1.23"},
		{9994 * time.Microsecond, "9.99"},
		{9996 * time.Microsecond, "10.0"},
		{12345 * time.Microsecond, "12.3"},
		{99949 * time.Microsecond, "99.9"},
		{99951 * time.Microsecond, "100"},
		{1500 * time.Millisecond, "1500"},
	} {
		if got := FormatRTT(tt.d); got != tt.want {
			t.Errorf("FormatRTT(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// TestPrinter holds pingcraft's lines to iputils ping's (20221126) for the
// same events.
func TestPrinter(t *testing.T) {
	addr := netip.MustParseAddr("198.18.1.2")
	router := netip.MustParseAddr("198.18.0.1")
	at := time.Unix(1764000000, 123456000)
	var b strings.Builder
	p := &Printer{W: &b, Name: "198.18.1.2"}
	p.Header(addr, 56, "")
	for _, ev := range []Event{
		{Kind: EventSent, Seq: 1},
		{Kind: EventReply, Seq: 1, Bytes: 64, From: addr, TTL: 63, HasTTL: true, RTT: 51 * time.Microsecond},
		{Kind: EventDuplicate, Seq: 1, Bytes: 64, From: addr, TTL: 63, HasTTL: true, RTT: 12345 * time.Microsecond},
		{Kind: EventICMPError, Seq: 2, From: router, Error: craft.ICMPError{Kind: craft.ErrUnreachable, Type: 3, Code: 1}},
		{Kind: EventICMPError, Seq: 3, From: router, Error: craft.ICMPError{Kind: craft.ErrTimeExceeded, Type: 11}},
		{Kind: EventCorrupted, Seq: 4, Bytes: 64, From: addr, TTL: 63, HasTTL: true, RTT: time.Millisecond, BadByte: 20, Want: 0x14, Got: 0x00},
		{Kind: EventTimeout, Seq: 5},
		{Kind: EventSendError, Seq: 6, Err: errors.New("sendto: no buffer space available")},
	} {
		ev.At = at
		p.Event(&ev)
	}
	s := Stats{Transmitted: 5, Received: 1, Duplicates: 1, Corrupted: 1, Errors: 2}
	s.addRTT(51 * time.Microsecond)
	s.addRTT(12345 * time.Microsecond)
	p.Summary(&s, 4005*time.Millisecond, 1)

	want := `PING 198.18.1.2 (198.18.1.2) 56(84) bytes of data.
64 bytes from 198.18.1.2: icmp_seq=1 ttl=63 time=0.051 ms
64 bytes from 198.18.1.2: icmp_seq=1 ttl=63 time=12.3 ms (DUP!)
From 198.18.0.1 icmp_seq=2 Destination Host Unreachable
From 198.18.0.1 icmp_seq=3 Time to live exceeded
64 bytes from 198.18.1.2: icmp_seq=4 ttl=63 time=1.00 ms
wrong data byte #20 should be 0x14 but was 0x0
pingcraft: send icmp_seq=6: sendto: no buffer space available

--- 198.18.1.2 ping statistics ---
5 packets transmitted, 1 received, +1 duplicates, +1 corrupted, +2 errors, 80% packet loss, time 4005ms
rtt min/avg/max/mdev = 0.051/6.198/12.345/6.147 ms
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

// TestPrinterStatus: the SIGQUIT line, iputils' format to the byte.
func TestPrinterStatus(t *testing.T) {
	var s Stats
	var b strings.Builder
	p := &Printer{W: io.Discard}
	p.Status(&b, &s)
	s = Stats{Transmitted: 3, Received: 2, Outstanding: 1}
	s.addRTT(1000 * time.Microsecond)
	s.addRTT(2000 * time.Microsecond)
	p.Status(&b, &s)
	// ewma: 1000 first, then 1000 + (2000-1000)/8 = 1125.
	want := "\r0/0 packets, 0% loss\n" +
		"\r2/3 packets, 33% loss, min/avg/ewma/max = 1.000/1.500/1.125/2.000 ms\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
}

func TestPrinterIPv6AndNoReplies(t *testing.T) {
	var b strings.Builder
	p := &Printer{W: &b, Name: "target.lab"}
	p.Header(netip.MustParseAddr("fd00:198:18:1::2"), 56, "")
	s := Stats{Transmitted: 3, TimedOut: 3}
	p.Summary(&s, 2003*time.Millisecond, 1)
	want := `PING target.lab(fd00:198:18:1::2) 56 data bytes

--- target.lab ping statistics ---
3 packets transmitted, 0 received, 100% packet loss, time 2003ms

`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	b.Reset()
	s = Stats{Transmitted: 3, Received: 2, TimedOut: 1}
	s.addRTT(time.Millisecond)
	s.addRTT(time.Millisecond)
	p.Summary(&s, time.Second, 3)
	if !strings.Contains(b.String(), "2 received, 33.3333% packet loss, time 1000ms\nrtt min/avg/max/mdev = 1.000/1.000/1.000/0.000 ms, pipe 3\n") {
		t.Errorf("loss and pipe: %q", b.String())
	}
}

func TestJSONWriter(t *testing.T) {
	var b strings.Builder
	j := &JSONWriter{W: &b, Name: "198.18.1.2"}
	addr := netip.MustParseAddr("198.18.1.2")
	at := time.Date(2026, 1, 2, 3, 4, 5, 600000000, time.UTC)
	j.Event(&Event{Kind: EventReply, Addr: addr, Seq: 1, ID: 7, At: at, RTT: 51 * time.Microsecond, Stamp: StampKernel, TTL: 63, HasTTL: true, Bytes: 64, From: addr})
	j.Event(&Event{Kind: EventICMPError, Addr: addr, Seq: 2, ID: 7, At: at, From: netip.MustParseAddr("198.18.0.1"),
		Error: craft.ICMPError{Kind: craft.ErrTimeExceeded, Type: 11}})
	s := Stats{Transmitted: 2, Received: 1, TimedOut: 1, Errors: 1}
	s.addRTT(51 * time.Microsecond)
	j.Summary(addr, &s, 1001*time.Millisecond, 0)
	want := `{"event":"reply","target":"198.18.1.2","addr":"198.18.1.2","seq":1,"id":7,"time":"2026-01-02T03:04:05.6Z","rtt_ms":0.051,"timestamp":"kernel","ttl":63,"bytes":64,"from":"198.18.1.2"}
{"event":"error","target":"198.18.1.2","addr":"198.18.1.2","seq":2,"id":7,"time":"2026-01-02T03:04:05.6Z","from":"198.18.0.1","icmp_type":11,"icmp_code":0,"error":"Time to live exceeded"}
{"event":"summary","target":"198.18.1.2","addr":"198.18.1.2","transmitted":2,"received":1,"duplicates":0,"corrupted":0,"errors":1,"late":0,"send_errors":0,"loss_percent":50,"time_ms":1001,"rtt_min_ms":0.051,"rtt_avg_ms":0.051,"rtt_max_ms":0.051,"rtt_mdev_ms":0,"ring_drops":0}
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
}
