package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pingcraft/pingcraft/lab"
	"github.com/pingcraft/pingcraft/lab/labtest"
)

// Acceptance tests of `pingcraft send` against a network that misbehaves on
// purpose: nftables in the lab drops or duplicates replies, labtest.Responder
// corrupts them, other pingers share the target. Each compares what
// pingcraft reports with an independent count (nft counters, the kernel's
// SNMP counters, the responder's own statistics).

// sendEvent is one line of `send --json`: an event or the summary.
type sendEvent struct {
	V       int    `json:"v"`
	Event   string `json:"event"`
	Seq     uint16 `json:"seq"`
	ID      uint16 `json:"id"`
	Src     string `json:"src"`
	BadByte *int   `json:"bad_byte"`

	Transmitted int     `json:"transmitted"`
	Received    int     `json:"received"`
	Duplicates  int     `json:"duplicates"`
	Corrupted   int     `json:"corrupted"`
	Errors      int     `json:"errors"`
	Late        int     `json:"late"`
	SendErrors  int     `json:"send_errors"`
	LossPercent float64 `json:"loss_percent"`
	RingDrops   uint64  `json:"ring_drops"`
}

// sendRun is one `pingcraft send --json` run: its events in order, its
// summary and exit status.
type sendRun struct {
	events  []sendEvent
	summary sendEvent
	code    int
	stderr  string
}

// count returns how many events of kind there are, and how many per seq.
func (r *sendRun) count(kind string) (int, map[uint16]int) {
	n, bySeq := 0, map[uint16]int{}
	for _, ev := range r.events {
		if ev.Event == kind {
			n++
			bySeq[ev.Seq]++
		}
	}
	return n, bySeq
}

// sendJSON runs pingcraft send --json with args in the lab host.
func sendJSON(t *testing.T, l *lab.Lab, args ...string) *sendRun {
	t.Helper()
	out, stderr, code := inHost(t, l, "", pingcraftBinary(t), append([]string{"send", "--json"}, args...)...)
	return parseRun(t, out, stderr, code)
}

func parseRun(t *testing.T, out, stderr string, code int) *sendRun {
	t.Helper()
	r := &sendRun{code: code, stderr: stderr}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var ev sendEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("not a JSON line: %q: %v\nstderr: %s", sc.Text(), err, stderr)
		}
		if ev.V != 1 {
			t.Fatalf("schema version %d, want 1: %s", ev.V, sc.Text())
		}
		if ev.Event == "summary" {
			r.summary = ev
			continue
		}
		r.events = append(r.events, ev)
	}
	if r.summary.Event != "summary" {
		t.Fatalf("no summary (exit %d, stderr %q):\n%s", code, stderr, out)
	}
	return r
}

// nft loads ruleset into n's nftables; the namespace goes with the lab.
func nft(t *testing.T, n *lab.Node, ruleset string) {
	t.Helper()
	cmd := n.Command(t.Context(), "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(ruleset)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft -f in %s: %v\n%s\nruleset:\n%s", n.Name, err, out, ruleset)
	}
}

// nftCounter reads the packet count of a named nftables counter in n.
func nftCounter(t *testing.T, n *lab.Node, family, table, name string) int {
	t.Helper()
	out, err := n.Command(t.Context(), "nft", "-j", "list", "counter", family, table, name).Output()
	if err != nil {
		t.Fatalf("nft list counter %s %s %s in %s: %v", family, table, name, n.Name, err)
	}
	var doc struct {
		Nftables []struct {
			Counter *struct {
				Packets int `json:"packets"`
			} `json:"counter"`
		} `json:"nftables"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("nft -j output: %v\n%s", err, out)
	}
	for _, o := range doc.Nftables {
		if o.Counter != nil {
			return o.Counter.Packets
		}
	}
	t.Fatalf("no counter %s in nft output:\n%s", name, out)
	return 0
}

// ipFamily is one address family of the lab's target.
type ipFamily struct {
	name   string
	six    bool
	target func(l *lab.Lab) string
}

var (
	fam4 = ipFamily{"v4", false, func(l *lab.Lab) string { return l.Target4.String() }}
	fam6 = ipFamily{"v6", true, func(l *lab.Lab) string { return l.Target6.String() }}
)

// everyMode runs test for each of the four modes and both families, in
// parallel, each in a lab of its own whose ping_group_range is open.
func everyMode(t *testing.T, test func(t *testing.T, l *lab.Lab, mode string, fam ipFamily)) {
	for _, mode := range []string{"ethernet", "ip", "raw", "dgram"} {
		for _, fam := range []ipFamily{fam4, fam6} {
			t.Run(mode+"/"+fam.name, func(t *testing.T) {
				t.Parallel()
				l := labtest.New(t)
				setPingGroups(t, l.Host, "0 2147483647")
				test(t, l, mode, fam)
			})
		}
	}
}

// TestSendLoss: nftables in the target drops a random 30% of the echo
// replies and counts them. Every dropped reply must be a lost probe and
// every other one a reply: transmitted - received equals the firewall's
// count exactly, in a flood, where the ring or socket is busiest.
func TestSendLoss(t *testing.T) {
	labtest.RequireTool(t, "nft", "nftables")
	const probes = 500
	for _, tc := range []struct {
		mode string
		fam  ipFamily
	}{{"ethernet", fam4}, {"raw", fam4}, {"ip", fam6}} {
		t.Run(tc.mode+"/"+tc.fam.name, func(t *testing.T) {
			t.Parallel()
			l := labtest.New(t)
			nft(t, l.Target, `
table inet loss {
	counter dropped {}
	chain replies {
		type filter hook output priority 0; policy accept;
		icmp type echo-reply numgen random mod 100 < 30 counter name dropped drop
		icmpv6 type echo-reply numgen random mod 100 < 30 counter name dropped drop
	}
}`)
			r := sendJSON(t, l, "--mode", tc.mode, "-f", "-c", strconv.Itoa(probes), "-W", "1", tc.fam.target(l))
			dropped := nftCounter(t, l.Target, "inet", "loss", "dropped")
			s := r.summary
			t.Logf("%d of %d replies dropped; pingcraft: %d received, %v%% loss", dropped, probes, s.Received, s.LossPercent)
			if r.code != 0 || s.Transmitted != probes || s.Transmitted-s.Received != dropped {
				t.Errorf("exit %d, %d transmitted, %d received: want %d transmitted, %d received (nft dropped %d); stderr %q",
					r.code, s.Transmitted, s.Received, probes, probes-dropped, dropped, r.stderr)
			}
			if want := 100 * float64(dropped) / probes; math.Abs(s.LossPercent-want) > 1e-9 {
				t.Errorf("loss_percent %v, want %v", s.LossPercent, want)
			}
			if s.Duplicates+s.Corrupted+s.Errors+s.Late+s.SendErrors != 0 || s.RingDrops != 0 {
				t.Errorf("summary has more than replies and losses: %+v", s)
			}
			replies, _ := r.count("reply")
			timeouts, _ := r.count("timeout")
			sent, _ := r.count("sent")
			if replies != s.Received || timeouts != dropped || sent != probes {
				t.Errorf("events: %d sent, %d reply, %d timeout; want %d, %d, %d", sent, replies, timeouts, probes, s.Received, dropped)
			}
			// 500 draws at 30%: 20-40% is nearly five standard deviations.
			if dropped < probes/5 || dropped > 2*probes/5 {
				t.Errorf("nft dropped %d of %d: outside 20-40%%, is numgen random?", dropped, probes)
			}
		})
	}
}

// TestSendDuplicates: nftables in the router duplicates about half of the
// echo replies on their way to the host (dup sends a copy to the host
// before the original goes on). Every copy must be reported as a duplicate
// and never as a reply: received == transmitted, duplicates == the count of
// copies. The last probe is never copied: its copy may arrive after the run
// ends, as with iputils.
func TestSendDuplicates(t *testing.T) {
	labtest.RequireTool(t, "nft", "nftables")
	const probes = 50
	everyMode(t, func(t *testing.T, l *lab.Lab, mode string, fam ipFamily) {
		// dup exists in the ip and ip6 families only, not inet.
		nft(t, l.Router, fmt.Sprintf(`
table ip dups {
	counter copies {}
	chain replies {
		type filter hook forward priority 0; policy accept;
		icmp type echo-reply icmp sequence < %[1]d numgen random mod 2 < 1 counter name copies dup to %[2]s device %[4]s
	}
}
table ip6 dups {
	counter copies {}
	chain replies {
		type filter hook forward priority 0; policy accept;
		icmpv6 type echo-reply icmpv6 sequence < %[1]d numgen random mod 2 < 1 counter name copies dup to %[3]s device %[4]s
	}
}`, probes, l.Host4, l.Host6, l.RouterHostLink))
		nftFamily := "ip"
		if fam.six {
			nftFamily = "ip6"
		}
		args := []string{"--mode", mode, "-c", strconv.Itoa(probes), "-i", "0.01", "-W", "1", fam.target(l)}

		r := sendJSON(t, l, args...)
		copies := nftCounter(t, l.Router, nftFamily, "dups", "copies")
		s := r.summary
		t.Logf("nft copied %d replies; pingcraft: %+v", copies, s)
		if r.code != 0 || s.Transmitted != probes || s.Received != probes || s.Duplicates != copies || s.Late+s.Corrupted != 0 {
			t.Errorf("exit %d, summary %+v: want %d transmitted and received, %d duplicates; stderr %q", r.code, s, probes, copies, r.stderr)
		}
		if copies == 0 {
			t.Errorf("nft copied no reply: the test proves nothing")
		}
		replies, replyBySeq := r.count("reply")
		dups, dupBySeq := r.count("duplicate")
		if replies != probes || len(replyBySeq) != probes || dups != copies {
			t.Errorf("%d reply events for %d seqs, %d duplicate events; want %d, %d, %d", replies, len(replyBySeq), dups, probes, probes, copies)
		}
		for seq, n := range dupBySeq {
			if n != 1 || replyBySeq[seq] != 1 {
				t.Errorf("seq %d: %d duplicates, %d replies; want one of each", seq, n, replyBySeq[seq])
			}
		}

		// The same in iputils' words.
		before := copies
		out, stderr, code := inHost(t, l, "", pingcraftBinary(t), append([]string{"send"}, args...)...)
		copies = nftCounter(t, l.Router, nftFamily, "dups", "copies") - before
		want := fmt.Sprintf("%d packets transmitted, %d received, +%d duplicates, 0%% packet loss", probes, probes, copies)
		if code != 0 || strings.Count(out, " (DUP!)\n") != copies || !strings.Contains(out, want) {
			t.Errorf("text: exit %d, %d (DUP!) lines, want %d and %q; stderr %q\n%s", code, strings.Count(out, " (DUP!)\n"), copies, want, stderr, out)
		}
	})
}

var iputilsCounts = regexp.MustCompile(`(\d+) packets transmitted, (\d+) received(.*)`)

// TestSendConcurrent runs three pingcraft processes that share one ICMP id
// (ethernet, ip and raw: the rings and the raw socket each see the others'
// replies, which only the payload cookie tells apart), one on a ping socket
// and iputils ping, all at once against the same target from the same host.
// Each must count exactly its own replies.
func TestSendConcurrent(t *testing.T) {
	labtest.RequireTool(t, "ping", "iputils-ping")
	const probes, sharedID = 20, 0x7063
	for _, fam := range []ipFamily{fam4, fam6} {
		t.Run(fam.name, func(t *testing.T) {
			t.Parallel()
			l := labtest.New(t)
			setPingGroups(t, l.Host, "0 2147483647")
			common := []string{"-c", strconv.Itoa(probes), "-i", "0.05", "-W", "2"}
			runs := [][]string{
				{pingcraftBinary(t), "send", "--json", "--mode", "ethernet", "--id", strconv.Itoa(sharedID)},
				{pingcraftBinary(t), "send", "--json", "--mode", "ip", "--id", strconv.Itoa(sharedID)},
				{pingcraftBinary(t), "send", "--json", "--mode", "raw", "--id", strconv.Itoa(sharedID)},
				{pingcraftBinary(t), "send", "--json", "--mode", "dgram"},
				{"ping"},
			}
			type result struct {
				out, stderr string
				code        int
			}
			results := make([]result, len(runs))
			var wg sync.WaitGroup
			for i, argv := range runs {
				args := append(append(argv[1:len(argv):len(argv)], common...), fam.target(l))
				cmd := l.Host.Command(t.Context(), argv[0], args...)
				var out, stderr strings.Builder
				cmd.Stdout, cmd.Stderr = &out, &stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				wg.Go(func() {
					err := cmd.Wait()
					if _, ok := err.(*exec.ExitError); err != nil && !ok {
						stderr.WriteString(err.Error())
					}
					results[i] = result{out.String(), stderr.String(), cmd.ProcessState.ExitCode()}
				})
			}
			wg.Wait()
			for i, res := range results {
				name := strings.Join(runs[i][1:], " ")
				if runs[i][0] == "ping" {
					m := iputilsCounts.FindStringSubmatch(res.out)
					if res.code != 0 || m == nil || m[1] != strconv.Itoa(probes) || m[2] != strconv.Itoa(probes) || strings.Contains(res.out, "DUP") {
						t.Errorf("iputils ping: exit %d, %v, want %d of %d and no duplicates; %s\n%s", res.code, m, probes, probes, res.stderr, res.out)
					}
					continue
				}
				r := parseRun(t, res.out, res.stderr, res.code)
				s := r.summary
				if r.code != 0 || s.Transmitted != probes || s.Received != probes || s.Duplicates+s.Late+s.Corrupted != 0 {
					t.Errorf("%s: exit %d, %+v, want %d of %d and nothing else; stderr %q", name, r.code, s, probes, probes, res.stderr)
				}
				if replies, bySeq := r.count("reply"); replies != probes || len(bySeq) != probes {
					t.Errorf("%s: %d reply events for %d seqs, want %d", name, replies, len(bySeq), probes)
				}
				for _, ev := range r.events {
					if slices.Contains(runs[i], "--id") && ev.ID != sharedID {
						t.Errorf("%s: event %+v: id %d, want %d", name, ev, ev.ID, sharedID)
						break
					}
				}
			}
		})
	}
}

// TestSendCorrupted: the responder in the target spoils data byte 30 of
// the reply to seq 2. pingcraft must report seq 2 as corrupted, never as a
// reply, and count it as lost: 3 transmitted, 2 received, +1 corrupted.
func TestSendCorrupted(t *testing.T) {
	labtest.RequireRoot(t)
	everyMode(t, func(t *testing.T, l *lab.Lab, mode string, fam ipFamily) {
		rs, err := labtest.Respond(l.Target, &labtest.ResponderConfig{Corrupt: []labtest.Corruption{{Seq: 2, Offset: 30}}})
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := rs.Close(); err != nil {
				t.Error(err)
			}
		}()
		args := []string{"--mode", mode, "-c", "3", "-i", "0.1", "-W", "0.5", fam.target(l)}

		r := sendJSON(t, l, args...)
		s := r.summary
		if r.code != 0 || s.Transmitted != 3 || s.Received != 2 || s.Corrupted != 1 || math.Abs(s.LossPercent-100.0/3) > 1e-6 {
			t.Errorf("exit %d, summary %+v: want 3 transmitted, 2 received, 1 corrupted, 33.3%% loss; stderr %q", r.code, s, r.stderr)
		}
		_, replies := r.count("reply")
		_, corrupted := r.count("corrupted")
		_, timeouts := r.count("timeout")
		if replies[1] != 1 || replies[2] != 0 || replies[3] != 1 || corrupted[2] != 1 || len(corrupted) != 1 || timeouts[2] != 1 {
			t.Errorf("replies by seq %v, corrupted %v, timeouts %v: want seq 2 corrupted and timed out, 1 and 3 replies", replies, corrupted, timeouts)
		}
		for _, ev := range r.events {
			if ev.Event == "corrupted" && (ev.BadByte == nil || *ev.BadByte != 30) {
				t.Errorf("corrupted event %+v: want bad_byte 30", ev)
			}
		}

		out, stderr, code := inHost(t, l, "", pingcraftBinary(t), append([]string{"send"}, args...)...)
		// Data byte i is i mod 256 past the cookie and the time.
		for _, want := range []string{
			"icmp_seq=2 ttl=63 time=",
			"\nwrong data byte #30 should be 0x1e but was 0xe1\n",
			"3 packets transmitted, 2 received, +1 corrupted, 33.3333% packet loss",
		} {
			if code != 0 || strings.Count(out, want) != 1 {
				t.Errorf("text: exit %d, want %q once; stderr %q\n%s", code, want, stderr, out)
			}
		}
		if got := rs.Stats(); got.Requests != 6 || got.Corrupted != 2 {
			t.Errorf("responder %+v: want 6 requests, 2 corrupted", got)
		}
	})
}

// icmpCsumErrors reads the kernel's count of ICMP (or ICMPv6) messages that
// arrived in n with a wrong checksum.
func icmpCsumErrors(t *testing.T, n *lab.Node, six bool) int {
	t.Helper()
	file := "/proc/net/snmp"
	if six {
		file = "/proc/net/snmp6"
	}
	out, err := n.Command(t.Context(), "cat", file).Output()
	if err != nil {
		t.Fatal(err)
	}
	if six {
		for line := range strings.Lines(string(out)) {
			if f := strings.Fields(line); len(f) == 2 && f[0] == "Icmp6InCsumErrors" {
				v, _ := strconv.Atoi(f[1])
				return v
			}
		}
	} else {
		// Two "Icmp:" lines: the names, then the values.
		var names []string
		for line := range strings.Lines(string(out)) {
			f := strings.Fields(line)
			if len(f) == 0 || f[0] != "Icmp:" {
				continue
			}
			if names == nil {
				names = f
				continue
			}
			for i, name := range names {
				if name == "InCsumErrors" && i < len(f) {
					v, _ := strconv.Atoi(f[i])
					return v
				}
			}
		}
	}
	t.Fatalf("no ICMP checksum error counter in %s:\n%s", file, out)
	return 0
}

// TestSendBadChecksum: with --bad-checksum no reply comes, in every mode
// where pingcraft writes the checksum, and the target's kernel counts each
// probe as an ICMP checksum error, which proves the probes arrived with a
// wrong sum rather than got lost. Without the flag the same probes are
// answered and counted as no error.
func TestSendBadChecksum(t *testing.T) {
	labtest.RequireRoot(t)
	for _, tc := range []struct {
		mode string
		fam  ipFamily
	}{{"ethernet", fam4}, {"ip", fam4}, {"raw", fam4}, {"ethernet", fam6}, {"ip", fam6}} {
		t.Run(tc.mode+"/"+tc.fam.name, func(t *testing.T) {
			t.Parallel()
			l := labtest.New(t)
			for _, bad := range []bool{true, false} {
				args := []string{"--mode", tc.mode, "-c", "3", "-i", "0.1", "-W", "0.5", tc.fam.target(l)}
				want, wantCode, wantErrs := 3, 0, 0
				if bad {
					args = append([]string{"--bad-checksum"}, args...)
					want, wantCode, wantErrs = 0, 1, 3
				}
				before := icmpCsumErrors(t, l.Target, tc.fam.six)
				r := sendJSON(t, l, args...)
				errs := icmpCsumErrors(t, l.Target, tc.fam.six) - before
				if r.code != wantCode || r.summary.Transmitted != 3 || r.summary.Received != want || errs != wantErrs {
					t.Errorf("--bad-checksum=%v: exit %d, %d of %d received, %d checksum errors in the target; want exit %d, %d of 3, %d errors; stderr %q",
						bad, r.code, r.summary.Received, r.summary.Transmitted, errs, wantCode, want, wantErrs, r.stderr)
				}
			}
		})
	}
	// Where the kernel writes the checksum, the flag is refused up front.
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		l := labtest.New(t)
		setPingGroups(t, l.Host, "0 2147483647")
		for _, tc := range []struct {
			mode, target, want string
		}{
			{"dgram", l.Target4.String(), "the ping socket rewrites it"},
			{"raw", l.Target6.String(), "a raw ICMPv6 socket has the kernel write the checksum"},
		} {
			out, stderr, code := inHost(t, l, "", pingcraftBinary(t), "send", "--bad-checksum", "--mode", tc.mode, "-c", "1", tc.target)
			if code != 2 || out != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.want) {
				t.Errorf("--mode %s %s: exit %d, stdout %q, stderr %q: want exit 2 and one line with %q", tc.mode, tc.target, code, out, stderr, tc.want)
			}
		}
	})
}
