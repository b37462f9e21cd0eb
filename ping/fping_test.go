package ping

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pingcraft/pingcraft/craft"
)

// TestFpingPrinter: the lines fping 5.1 prints for the same run (taken
// from fping -c 3 and -C 3 in the lab), names aligned on the colon.
func TestFpingPrinter(t *testing.T) {
	a, b := netip.MustParseAddr("198.18.1.2"), netip.MustParseAddr("198.18.9.10")
	router := netip.MustParseAddr("198.18.0.1")
	evs := []Event{
		{Kind: EventSent, Target: 0, Seq: 1}, {Kind: EventSent, Target: 1, Seq: 1},
		{Kind: EventReply, Target: 0, Seq: 1, Bytes: 64, RTT: 49 * time.Microsecond},
		{Kind: EventICMPError, Target: 1, Seq: 1, Addr: b, From: router, Error: craft.ICMPError{Kind: craft.ErrUnreachable, Type: 3, Code: 1}},
		{Kind: EventSent, Target: 0, Seq: 2}, {Kind: EventSent, Target: 1, Seq: 2},
		{Kind: EventReply, Target: 0, Seq: 2, Bytes: 64, RTT: 170 * time.Microsecond},
		{Kind: EventTimeout, Target: 1, Seq: 2},
	}
	st := []Stats{{Transmitted: 2, Received: 2}, {Transmitted: 2, TimedOut: 2}}
	for _, tc := range []struct {
		name      string
		p         FpingPrinter
		out, errs string
	}{
		{"count", FpingPrinter{Count: true},
			"198.18.1.2  : [0], 64 bytes, 0.049 ms (0.049 avg, 0% loss)\n" +
				"198.18.9.10 : [0], timed out (NaN avg, 100% loss)\n" +
				"198.18.1.2  : [1], 64 bytes, 0.170 ms (0.110 avg, 0% loss)\n" +
				"198.18.9.10 : [1], timed out (NaN avg, 100% loss)\n",
			"ICMP Host Unreachable from 198.18.0.1 for ICMP Echo sent to 198.18.9.10\n\n" +
				"198.18.1.2  : xmt/rcv/%loss = 2/2/0%, min/avg/max = 0.049/0.110/0.170\n" +
				"198.18.9.10 : xmt/rcv/%loss = 2/0/100%\n"},
		{"columns quiet", FpingPrinter{Count: true, Columns: true, Quiet: true}, "",
			"ICMP Host Unreachable from 198.18.0.1 for ICMP Echo sent to 198.18.9.10\n\n" +
				"198.18.1.2  : 0.049 0.170\n" +
				"198.18.9.10 : - -\n"},
		{"alive", FpingPrinter{}, "198.18.1.2 is alive\n198.18.9.10 is unreachable\n",
			"ICMP Host Unreachable from 198.18.0.1 for ICMP Echo sent to 198.18.9.10\n"},
		{"-a -e", FpingPrinter{Alive: true, Elapsed: true}, "198.18.1.2 (0.049 ms)\n",
			"ICMP Host Unreachable from 198.18.0.1 for ICMP Echo sent to 198.18.9.10\n"},
		{"-u", FpingPrinter{Unreachable: true}, "198.18.9.10\n",
			"ICMP Host Unreachable from 198.18.0.1 for ICMP Echo sent to 198.18.9.10\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errs strings.Builder
			p := tc.p
			p.W, p.Err, p.Names = &out, &errs, []string{a.String(), b.String()}
			for _, ev := range evs {
				p.Event(&ev)
			}
			p.Summary(st)
			if diff := cmp.Diff(tc.out, out.String()); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.errs, errs.String()); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}
