package report

import (
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/ping"
	"github.com/pingcraft/pingcraft/resolve"
)

// Fping writes what fping 5.1 writes for a run over many hosts: "is alive"
// and "is unreachable" (or -a/-u's bare names), per-probe lines with -c,
// -C and -l, ICMP errors, duplicates, the per-host summary and -s's global
// stats on Err, -Q's interval summaries, -N's netdata charts and -x's
// verdict. A nil W writes nowhere, a nil Err means W.
//
// Hosts are indexed as the events' Target. Counts follow fping's: a probe
// counts as sent once it is answered, timed out or failed to leave, so an
// interrupted run does not count the probes still in flight as lost.
// Event, Split and Summary may be called from different goroutines.
type Fping struct {
	W, Err io.Writer
	// Names are the hosts as fping shows them (the target as given, its
	// address with -A, its reverse name with -n or -d); a host without one
	// goes by its address.
	Names []string
	// Charts names each host's netdata charts (-N); empty means Names.
	Charts []string
	// Count: -c or -C (per-probe lines and a summary); Columns: -C (the
	// summary lists every probe's time); Loop: -l.
	Count, Columns, Loop bool
	// Quiet is -q or -Q: no per-probe lines, no warnings. Alive (-a) and
	// Unreachable (-u) print only those hosts' names; Elapsed (-e) adds
	// the round trip to them.
	Quiet, Alive, Unreachable, Elapsed bool
	// Squiet is -Q's interval: with -l or -c, Split's summaries replace
	// the per-probe lines.
	Squiet time.Duration
	// PrintTTL is later fpings' --print-ttl: alive and per-probe lines end
	// with the reply's TTL (hop limit).
	PrintTTL bool
	// Timeout, when set below timerSlack, is -t as fping keeps it: a reply
	// later than its probe's timeout (grown by Backoff for each retry
	// without -c and -l) is discarded, the probe timed out, though the
	// engine's timers, which cannot fire that soon, took it for a reply.
	// Above, the engine's verdict stands.
	Timeout time.Duration
	Backoff float64
	// Stats is -s: Summary ends with the global stats.
	Stats bool
	// Timestamp is -D: per-probe lines start with the time, in
	// TimestampFormat ("" for fping's seconds since the epoch, "ctime",
	// "iso" or "rfc3339" as fping 5.3's --timestamp-format).
	Timestamp       bool
	TimestampFormat string
	// Outage is -o: summaries add the lost probes times Period.
	Outage bool
	Period time.Duration
	// Netdata is -N: Split writes netdata charts on W instead.
	Netdata bool
	// MinReachable is -x: Summary ends with whether that many hosts
	// answered; it also turns off the alive and unreachable lines.
	MinReachable int
	// Unknown counts the names that did not resolve, for -s.
	Unknown int
	// OnAlive, when set, is called with the number of hosts alive each
	// time one more answers (-X stops the run there).
	OnAlive func(alive int)
	// Now is the clock of Split's header; nil means time.Now.
	Now func() time.Time

	mu sync.Mutex
	h  []fpingHost
	// named are the names of hosts beyond Names or with an empty one:
	// their address, from their first event.
	named map[int]string
	// rtts are -C's per-probe times of each host, made only for -C.
	rtts       [][]int64
	width      int // of the longest name: fping aligns the colons
	alive      int
	timeouts   int
	echoesSent int
	received   int // replies, duplicates and late ones, as fping counts them
	otherICMP  int
	minNS      int64
	maxNS      int64
	sumNS      int64
	replies    int64
	charted    bool
}

// fpingHost is one host's counts: of the whole run, and of the current
// -Q interval (the _i fields). It is kept small, 80 bytes, for runs over a
// million hosts: its name is in Fping.Names, -C's times apart.
type fpingHost struct {
	sent, recv   int
	minNS, maxNS int64
	totalNS      int64
	minI, maxI   int64
	totalI       int64
	sentI, recvI int32
	// lastLate is the seq of the newest probe that timed out (hasLate:
	// one did), which an ICMP error may still name.
	lastLate uint16
	hasLate  bool
}

// timedOutBefore says whether the probe numbered seq already timed out.
// The engine times a host's probes out in the order they were sent (their
// timeouts never shrink), so every probe up to the newest that timed out
// has ended: an ICMP error naming one of them ends nothing more, and one
// naming a later probe ends it. Seqs wrap at 65536; a probe 32768 older
// than the newest is long out of the engine's window.
func (h *fpingHost) timedOutBefore(seq uint16) bool {
	return h.hasLate && int16(seq-h.lastLate) <= 0
}

// nameOf is host i's name: from Names, else its address (see Event).
func (p *Fping) nameOf(i int) string {
	if i < len(p.Names) && p.Names[i] != "" {
		return p.Names[i]
	}
	return p.named[i]
}

// modes are fping's derived flags: verbose prints "is alive" and
// warnings, perRecv the per-probe lines.
func (p *Fping) verbose() bool {
	return !p.Quiet && !p.Alive && !p.Unreachable && p.MinReachable == 0 && !p.Count && !p.Loop
}

func (p *Fping) perRecv() bool {
	if p.Loop {
		return p.Squiet == 0
	}
	return p.Count && !p.Quiet && !p.Alive && !p.Unreachable && p.MinReachable == 0
}

func (p *Fping) listAlive() bool { return p.Alive && !p.Count && !p.Loop }
func (p *Fping) listUnreach() bool {
	return p.Unreachable && !p.Count && !p.Loop
}

func (p *Fping) out() io.Writer {
	if p.W == nil {
		return io.Discard
	}
	return p.W
}

func (p *Fping) errs() io.Writer {
	if p.Err == nil {
		return p.out()
	}
	return p.Err
}

// grow makes the state of every host in Names.
func (p *Fping) grow() {
	if len(p.Names) > 0 {
		p.host(len(p.Names) - 1)
	}
}

// host returns host i's state, made on first use.
func (p *Fping) host(i int) *fpingHost {
	if p.h == nil {
		p.h = make([]fpingHost, len(p.Names))
		for _, n := range p.Names {
			p.width = max(p.width, len(n))
		}
		if p.Columns {
			p.rtts = make([][]int64, len(p.Names))
		}
	}
	for len(p.h) <= i {
		p.h = append(p.h, fpingHost{})
		if p.Columns {
			p.rtts = append(p.rtts, nil)
		}
	}
	return &p.h[i]
}

// Event reports one engine event. It is an onEvent for ping.New.
func (p *Fping) Event(ev *ping.Event) {
	if ev.Target < 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	i := ev.Target
	h := p.host(i)
	name := p.nameOf(i)
	if name == "" {
		name = ev.Addr.String()
		if p.named == nil {
			p.named = map[int]string{}
		}
		p.named[i] = name
		p.width = max(p.width, len(name))
	}
	idx := int(ev.Seq) - 1 // fping numbers probes from 0
	switch ev.Kind {
	case ping.EventSent:
		p.echoesSent++
	case ping.EventReply:
		p.received++
		if p.tooLate(ev) {
			p.timedOut(i, h, idx, ev)
			return
		}
		ns := ev.RTT.Nanoseconds()
		p.add(i, h, idx, ns)
		p.minNS, p.maxNS = minSet(p.minNS, ns, p.replies == 0), max(p.maxNS, ns)
		p.sumNS += ns
		p.replies++
		if h.recv == 1 {
			p.alive++
			if p.verbose() || p.listAlive() {
				w := p.out()
				io.WriteString(w, name)
				if p.verbose() {
					io.WriteString(w, " is alive")
				}
				if p.Elapsed {
					fmt.Fprintf(w, " (%s ms)", fpingTime(ns))
				}
				io.WriteString(w, p.ttl(ev))
				p.elsewhere(ev)
				io.WriteString(w, "\n")
			}
			if p.OnAlive != nil {
				p.OnAlive(p.alive)
			}
		}
		if p.perRecv() {
			fmt.Fprintf(p.out(), "%s%-*s : [%d], %d bytes, %s ms (%s avg, %s)%s", p.stamp(ev.At), p.width, name, idx, ev.Bytes,
				fpingTime(ns), fpingTime(h.totalNS/int64(h.recv)), lossOf(h.sent, h.recv), p.ttl(ev))
			p.elsewhere(ev)
			io.WriteString(p.out(), "\n")
		}
	case ping.EventDuplicate:
		p.received++
		// fping reports duplicates only where it prints no per-probe line.
		if !p.Loop && !p.perRecv() {
			fmt.Fprintf(p.errs(), "%s : duplicate for [%d], %d bytes, %s ms\n", name, idx, ev.Bytes, fpingTime(ev.RTT.Nanoseconds()))
		}
	case ping.EventLate:
		p.received++
	case ping.EventICMPError:
		p.otherICMP++
		if !p.Quiet {
			fmt.Fprintf(p.errs(), "%s from %s for ICMP Echo sent to %s\n", fpingError(&ev.Error), ev.From, name)
		}
		// The engine ends a pending probe with its error; one that timed
		// out before the error came is already counted.
		if !h.timedOutBefore(ev.Seq) {
			p.timedOut(i, h, idx, ev)
		}
	case ping.EventTimeout:
		h.lastLate, h.hasLate = ev.Seq, true
		p.timedOut(i, h, idx, ev)
	case ping.EventSendError, ping.EventLocalError:
		if ev.Kind == ping.EventSendError {
			p.echoesSent++
		}
		if p.verbose() {
			fmt.Fprintf(p.errs(), "%s: error while sending ping: %s\n", name, sendErrorText(ev))
		}
		p.lose(i, h, idx)
	}
}

// timedOut counts probe idx of h as timed out (fping's timeout event).
func (p *Fping) timedOut(i int, h *fpingHost, idx int, ev *ping.Event) {
	p.lose(i, h, idx)
	p.timeouts++
	if p.perRecv() {
		avg := "NaN"
		if h.recv > 0 {
			avg = fpingTime(h.totalNS / int64(h.recv))
		}
		fmt.Fprintf(p.out(), "%s%-*s : [%d], timed out (%s avg, %s)\n", p.stamp(ev.At), p.width, p.nameOf(i), idx, avg, lossOf(h.sent, h.recv))
	}
}

// timerSlack is how late a timer may fire on a loaded machine.
const timerSlack = 10 * time.Millisecond

// tooLate says whether fping would discard reply ev as later than its
// probe's timeout.
func (p *Fping) tooLate(ev *ping.Event) bool {
	if p.Timeout <= 0 || p.Timeout >= timerSlack {
		return false
	}
	limit := float64(p.Timeout)
	if !p.Count && !p.Loop && p.Backoff > 1 && ev.Seq > 1 {
		limit *= math.Pow(p.Backoff, float64(ev.Seq-1))
	}
	return float64(ev.RTT) > limit
}

// ttl is --print-ttl's end of a reply's line.
func (p *Fping) ttl(ev *ping.Event) string {
	switch {
	case !p.PrintTTL:
		return ""
	case ev.HasTTL:
		return fmt.Sprintf(" (TTL %d)", ev.TTL)
	}
	return " (TTL unknown)"
}

// add counts a reply to probe idx of h (fping's stats_add).
func (p *Fping) add(i int, h *fpingHost, idx int, ns int64) {
	h.sent++
	h.sentI++
	h.recv++
	h.recvI++
	h.minNS, h.maxNS = minSet(h.minNS, ns, h.recv == 1), max(h.maxNS, ns)
	h.minI, h.maxI = minSet(h.minI, ns, h.recvI == 1), max(h.maxI, ns)
	h.totalNS += ns
	h.totalI += ns
	p.record(i, idx, ns)
}

// lose counts probe idx of h as sent and lost.
func (p *Fping) lose(i int, h *fpingHost, idx int) {
	h.sent++
	h.sentI++
	p.record(i, idx, -1)
}

func minSet(cur, v int64, first bool) int64 {
	if first || v < cur {
		return v
	}
	return cur
}

// record keeps a probe's time for -C's columns.
func (p *Fping) record(i, idx int, ns int64) {
	if !p.Columns || idx < 0 {
		return
	}
	r := p.rtts[i]
	for len(r) <= idx {
		r = append(r, -1)
	}
	r[idx] = ns
	p.rtts[i] = r
}

// lossOf is the end of a per-probe line: the loss so far.
func lossOf(sent, recv int) string {
	if recv <= sent {
		return fmt.Sprintf("%d%% loss", (sent-recv)*100/max(sent, 1))
	}
	return fmt.Sprintf("%d%% return", recv*100/sent)
}

// sendErrorText is fping's strerror of a probe that never left.
func sendErrorText(ev *ping.Event) string {
	if ev.Kind == ping.EventLocalError {
		return "Message too long"
	}
	if t := resolve.SystemText(ev.Err); t != "" {
		return t
	}
	if ev.Err == nil {
		return "unknown error"
	}
	return ev.Err.Error()
}

// stamp is -D's prefix of a per-probe line at t.
func (p *Fping) stamp(t time.Time) string {
	if !p.Timestamp {
		return ""
	}
	if t.IsZero() {
		t = p.now()
	}
	switch p.TimestampFormat {
	case "ctime":
		return t.Format("[Mon Jan _2 15:04:05 2006] ")
	case "iso":
		return t.Format("[2006-01-02T15:04:05-0700] ")
	case "rfc3339":
		return t.Format("[2006-01-02 15:04:05] ")
	}
	return fmt.Sprintf("[%.5f] ", float64(t.UnixNano())/1e9)
}

func (p *Fping) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// AliveCount returns how many hosts answered so far.
func (p *Fping) AliveCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.alive
}

// Interval writes one -Q interval: Split, or with Netdata the netdata
// charts, then starts the next interval.
func (p *Fping) Interval() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.grow()
	if p.Netdata {
		p.netdata()
		return
	}
	p.split()
}

// Split writes each host's counts since the last interval under the time
// of day, as fping on SIGQUIT, then starts the next interval.
func (p *Fping) Split() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.grow()
	p.split()
}

func (p *Fping) split() {
	errs := p.errs()
	if p.verbose() || p.perRecv() {
		io.WriteString(errs, "\n")
	}
	fmt.Fprintf(errs, "[%s]\n", p.now().Format("15:04:05"))
	for i := range p.h {
		h := &p.h[i]
		fmt.Fprintf(errs, "%-*s :", p.width, p.nameOf(i))
		p.counts(errs, int(h.sentI), int(h.recvI))
		if h.recvI > 0 {
			fmt.Fprintf(errs, ", min/avg/max = %s/%s/%s", fpingTime(h.minI), fpingTime(h.totalI/int64(h.recvI)), fpingTime(h.maxI))
		}
		io.WriteString(errs, "\n")
		h.reset()
	}
}

func (h *fpingHost) reset() { h.sentI, h.recvI, h.minI, h.maxI, h.totalI = 0, 0, 0, 0, 0 }

// counts writes " xmt/rcv/%loss = ..." with -o's outage.
func (p *Fping) counts(w io.Writer, sent, recv int) {
	if recv > sent {
		fmt.Fprintf(w, " xmt/rcv/%%return = %d/%d/%d%%", sent, recv, recv*100/max(sent, 1))
		return
	}
	loss := 0
	if sent > 0 {
		loss = (sent - recv) * 100 / sent
	}
	fmt.Fprintf(w, " xmt/rcv/%%loss = %d/%d/%d%%", sent, recv, loss)
	if p.Outage {
		fmt.Fprintf(w, ", outage(ms) = %d", int(float64(sent-recv)*float64(p.Period)/1e6))
	}
}

// netdata writes an interval as netdata's external plugin protocol wants
// it, the charts defined on the first.
func (p *Fping) netdata() {
	w := p.out()
	secs := p.Squiet.Seconds()
	for i := range p.h {
		h := &p.h[i]
		name := p.nameOf(i)
		chart := name
		if i < len(p.Charts) && p.Charts[i] != "" {
			chart = p.Charts[i]
		}
		chart = netdataName(chart)
		if !p.charted {
			fmt.Fprintf(w, "CHART fping.%s_packets '' 'FPing Packets for host %s' packets '%s' fping.packets line 110020 %.0f\n", chart, name, name, secs)
			io.WriteString(w, "DIMENSION xmt sent absolute 1 1\nDIMENSION rcv received absolute 1 1\n")
		}
		fmt.Fprintf(w, "BEGIN fping.%s_packets\nSET xmt = %d\nSET rcv = %d\nEND\n", chart, h.sentI, h.recvI)
		if !p.charted {
			fmt.Fprintf(w, "CHART fping.%s_quality '' 'FPing Quality for host %s' percentage '%s' fping.quality area 110010 %.0f\n", chart, name, name, secs)
			io.WriteString(w, "DIMENSION returned '' absolute 1 1\n")
		}
		returned := 0
		if h.sentI > 0 {
			returned = int(h.recvI * 100 / h.sentI)
		}
		fmt.Fprintf(w, "BEGIN fping.%s_quality\nSET returned = %d\nEND\n", chart, returned)
		if !p.charted {
			fmt.Fprintf(w, "CHART fping.%s_latency '' 'FPing Latency for host %s' ms '%s' fping.latency area 110000 %.0f\n", chart, name, name, secs)
			io.WriteString(w, "DIMENSION min minimum absolute 1 1000000\nDIMENSION max maximum absolute 1 1000000\nDIMENSION avg average absolute 1 1000000\n")
		}
		fmt.Fprintf(w, "BEGIN fping.%s_latency\n", chart)
		if h.recvI > 0 {
			fmt.Fprintf(w, "SET min = %d\nSET avg = %d\nSET max = %d\n", h.minI, h.totalI/int64(h.recvI), h.maxI)
		}
		io.WriteString(w, "END\n")
		h.reset()
	}
	p.charted = true
}

// netdataName is a chart id as fping makes it: every byte that is not a
// letter or digit becomes '_'.
func netdataName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

// Summary writes the end of the run, as fping's finish: the hosts that
// never answered, with -c, -C or -l each host's counts and times on Err,
// with -s the global stats, with -x the verdict. elapsed is the run's.
func (p *Fping) Summary(elapsed time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.grow()
	out, errs := p.out(), p.errs()
	unreachable := 0
	for i := range p.h {
		h := &p.h[i]
		if h.recv > 0 {
			continue
		}
		unreachable++
		switch {
		case p.verbose():
			fmt.Fprintf(out, "%s is unreachable\n", p.nameOf(i))
		case p.listUnreach():
			fmt.Fprintln(out, p.nameOf(i))
		}
	}
	if p.Count || p.Loop {
		if p.verbose() || p.perRecv() {
			io.WriteString(errs, "\n")
		}
		for i := range p.h {
			h := &p.h[i]
			fmt.Fprintf(errs, "%-*s :", p.width, p.nameOf(i))
			if p.Columns {
				rtts := p.rtts[i]
				for j := range h.sent {
					if j < len(rtts) && rtts[j] >= 0 {
						fmt.Fprintf(errs, " %s", fpingTime(rtts[j]))
					} else {
						io.WriteString(errs, " -")
					}
				}
				io.WriteString(errs, "\n")
				continue
			}
			p.counts(errs, h.sent, h.recv)
			if h.recv > 0 {
				fmt.Fprintf(errs, ", min/avg/max = %s/%s/%s", fpingTime(h.minNS), fpingTime(h.totalNS/int64(h.recv)), fpingTime(h.maxNS))
			}
			io.WriteString(errs, "\n")
		}
	}
	if p.Stats {
		p.global(errs, len(p.h), unreachable, elapsed)
	}
	if p.MinReachable != 0 {
		reachable := len(p.h) - unreachable
		word := "Enough"
		if uint(reachable) < uint(p.MinReachable) { // fping's unsigned -x
			word = "Not enough"
		}
		fmt.Fprintf(out, "%s hosts reachable (required: %d, reachable: %d)\n", word, p.MinReachable, reachable)
	}
}

// global writes -s's block.
func (p *Fping) global(w io.Writer, hosts, unreachable int, elapsed time.Duration) {
	fmt.Fprintf(w, "\n %7d targets\n %7d alive\n %7d unreachable\n %7d unknown addresses\n\n", hosts, p.alive, unreachable, p.Unknown)
	fmt.Fprintf(w, " %7d timeouts (waiting for response)\n %7d ICMP Echos sent\n %7d ICMP Echo Replies received\n %7d other ICMP received\n\n",
		p.timeouts, p.echoesSent, p.received, p.otherICMP)
	lo, avg, hi := int64(0), int64(0), int64(0)
	if p.replies > 0 {
		lo, avg, hi = p.minNS, p.sumNS/p.replies, p.maxNS
	}
	fmt.Fprintf(w, " %s ms (min round trip time)\n %s ms (avg round trip time)\n %s ms (max round trip time)\n", fpingTime(lo), fpingTime(avg), fpingTime(hi))
	fmt.Fprintf(w, " %12.3f sec (elapsed real time)\n\n", elapsed.Seconds())
}

// fpingMS formats milliseconds as fping's sprint_tm does: three decimals
// below 1 ms, fewer as it grows, none from 100 ms.
func fpingMS(ms float64) string {
	switch {
	case ms < 0:
		return strings.TrimSpace(fmt.Sprintf("%.2g", ms))
	case ms < 1:
		return fmt.Sprintf("%.3f", ms)
	case ms < 10:
		return fmt.Sprintf("%.2f", ms)
	case ms < 100:
		return fmt.Sprintf("%.1f", ms)
	case ms < 1e6:
		return fmt.Sprintf("%.0f", ms)
	}
	return fmt.Sprintf("%.3e", ms)
}

// fpingTime is fpingMS of nanoseconds.
func fpingTime(ns int64) string { return fpingMS(float64(ns) / 1e6) }

// fpingUnreach4 are fping's names of ICMPv4 unreachable codes.
var fpingUnreach4 = [...]string{
	"ICMP Network Unreachable", "ICMP Host Unreachable", "ICMP Protocol Unreachable", "ICMP Port Unreachable",
	"ICMP Unreachable (Fragmentation Needed)", "ICMP Unreachable (Source Route Failed)",
	"ICMP Unreachable (Destination Network Unknown)", "ICMP Unreachable (Destination Host Unknown)",
	"ICMP Unreachable (Source Host Isolated)", "ICMP Unreachable (Communication with Network Prohibited)",
	"ICMP Unreachable (Communication with Host Prohibited)", "ICMP Unreachable (Network Unreachable For Type Of Service)",
	"ICMP Unreachable (Host Unreachable For Type Of Service)", "ICMP Unreachable (Communication Administratively Prohibited)",
	"ICMP Unreachable (Host Precedence Violation)", "ICMP Unreachable (Precedence cutoff in effect)",
}

// fpingError is fping's name for an ICMP error.
func fpingError(e *craft.ICMPError) string {
	switch {
	case !e.Six && e.Kind == craft.ErrUnreachable && int(e.Code) < len(fpingUnreach4):
		return fpingUnreach4[e.Code]
	case e.Kind == craft.ErrUnreachable:
		return "ICMP Unreachable"
	case e.Kind == craft.ErrTimeExceeded:
		return "ICMP Time Exceeded"
	case e.Kind == craft.ErrPacketTooBig:
		return "ICMP Packet Too Big"
	case e.Kind == craft.ErrParameterProblem:
		return "ICMP Parameter Problem"
	}
	return fmt.Sprintf("ICMP type %d code %d", e.Type, e.Code)
}

// elsewhere writes fping's " [<- FROM]", on stderr before the line's end,
// for a reply from another address than the target's: a member of a
// multicast group, a host behind a NAT.
func (p *Fping) elsewhere(ev *ping.Event) {
	if ev.From.IsValid() && ev.From.WithZone("") != ev.Addr.WithZone("") {
		fmt.Fprintf(p.errs(), " [<- %s]", ev.From.WithZone(""))
	}
}
