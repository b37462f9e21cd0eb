package ping

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/pingcraft/pingcraft/craft"
)

// FpingPrinter writes what fping 5 writes for a run over many targets:
// per-probe lines with -c or -C, "is alive" / "is unreachable" otherwise,
// ICMP errors and the summary on stderr.
type FpingPrinter struct {
	W, Err io.Writer
	// Names are the targets as given, indexed like the engine's targets.
	Names []string
	// Count: -c or -C was given (per-probe lines and a summary);
	// Columns: -C (the summary lists every probe's time).
	Count, Columns bool
	// Quiet (-q) drops the per-probe lines; Alive (-a) and Unreachable
	// (-u) print only those targets' names; Elapsed (-e) adds the time.
	Quiet, Alive, Unreachable, Elapsed bool

	t     []fpingTarget
	width int // of the longest name: fping aligns the colons
}

// fpingTarget is what the per-probe lines need of a target so far.
type fpingTarget struct {
	sent, recv          int
	sumMS, minMS, maxMS float64
	alive               bool
	rtts                []float64 // -C: each probe's time in ms, NaN when lost
}

// Event reports one engine event. It is an onEvent for ping.New.
func (p *FpingPrinter) Event(ev *Event) {
	p.init()
	t, name := &p.t[ev.Target], p.Names[ev.Target]
	switch ev.Kind {
	case EventSent:
		t.sent++
	case EventReply:
		ms := msOf(ev.RTT)
		if t.recv == 0 || ms < t.minMS {
			t.minMS = ms
		}
		t.maxMS = max(t.maxMS, ms)
		t.recv++
		t.sumMS += ms
		p.record(t, ev.Seq, ms)
		if p.Count {
			if !p.Quiet {
				fmt.Fprintf(p.W, "%-*s : [%d], %d bytes, %s ms (%s avg, %d%% loss)\n", p.width, name, ev.Seq-1, ev.Bytes,
					fpingMS(ms), fpingMS(t.sumMS/float64(t.recv)), (t.sent-t.recv)*100/t.sent)
			}
			return
		}
		if !t.alive {
			t.alive = true
			if !p.Unreachable {
				fmt.Fprint(p.W, name)
				if !p.Alive {
					fmt.Fprint(p.W, " is alive")
				}
				if p.Elapsed {
					fmt.Fprintf(p.W, " (%s ms)", fpingMS(ms))
				}
				fmt.Fprintln(p.W)
			}
		}
	case EventTimeout, EventICMPError:
		if ev.Kind == EventICMPError {
			fmt.Fprintf(p.Err, "%s from %s for ICMP Echo sent to %s\n", fpingError(&ev.Error), ev.From, ev.Addr)
		}
		p.record(t, ev.Seq, math.NaN())
		if p.Count && !p.Quiet {
			avg := "NaN"
			if t.recv > 0 {
				avg = fpingMS(t.sumMS / float64(t.recv))
			}
			fmt.Fprintf(p.W, "%-*s : [%d], timed out (%s avg, %d%% loss)\n", p.width, name, ev.Seq-1, avg, (t.sent-t.recv)*100/max(t.sent, 1))
		}
	case EventDuplicate:
		if p.Count && !p.Quiet {
			fmt.Fprintf(p.Err, "%-*s : duplicate for [%d], %d bytes, %s ms\n", p.width, name, ev.Seq-1, ev.Bytes, fpingMS(msOf(ev.RTT)))
		}
	case EventSendError:
		fmt.Fprintf(p.Err, "%s: error while sending ping: %v\n", name, ev.Err)
	}
}

func (p *FpingPrinter) init() {
	if p.t != nil {
		return
	}
	p.t = make([]fpingTarget, len(p.Names))
	for _, n := range p.Names {
		p.width = max(p.width, len(n))
	}
}

func (p *FpingPrinter) record(t *fpingTarget, seq uint16, ms float64) {
	if !p.Columns {
		return
	}
	i := int(seq) - 1
	for len(t.rtts) <= i {
		t.rtts = append(t.rtts, math.NaN())
	}
	t.rtts[i] = ms
}

// Summary writes the end of the run: with -c the per-target counts and
// times on stderr, with -C every probe's time; otherwise the targets that
// never answered, as unreachable. stats are the engine's, by target.
func (p *FpingPrinter) Summary(stats []Stats) {
	p.init()
	switch {
	case p.Columns:
		fmt.Fprintln(p.Err)
		for i, name := range p.Names {
			cols := make([]string, 0, stats[i].Transmitted)
			for j := range stats[i].Transmitted {
				ms := math.NaN()
				if j < len(p.t[i].rtts) {
					ms = p.t[i].rtts[j]
				}
				if math.IsNaN(ms) {
					cols = append(cols, "-")
				} else {
					cols = append(cols, fpingMS(ms))
				}
			}
			fmt.Fprintf(p.Err, "%-*s : %s\n", p.width, name, strings.Join(cols, " "))
		}
	case p.Count:
		if !p.Quiet {
			fmt.Fprintln(p.Err)
		}
		for i, name := range p.Names {
			s := &stats[i]
			loss := 0
			if s.Transmitted > 0 {
				loss = (s.Transmitted - s.Received) * 100 / s.Transmitted
			}
			fmt.Fprintf(p.Err, "%-*s : xmt/rcv/%%loss = %d/%d/%d%%", p.width, name, s.Transmitted, s.Received, loss)
			// fping's times are of replies only, duplicates left out.
			if t := &p.t[i]; t.recv > 0 {
				fmt.Fprintf(p.Err, ", min/avg/max = %s/%s/%s", fpingMS(t.minMS), fpingMS(t.sumMS/float64(t.recv)), fpingMS(t.maxMS))
			}
			fmt.Fprintln(p.Err)
		}
	default:
		for i, name := range p.Names {
			if stats[i].Received == 0 && !p.Alive {
				if p.Unreachable {
					fmt.Fprintln(p.W, name)
				} else {
					fmt.Fprintf(p.W, "%s is unreachable\n", name)
				}
			}
		}
	}
}

func msOf(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// fpingMS formats milliseconds as fping does: three decimals below 100 ms
// ... and fewer above, as its sprint_tm.
func fpingMS(ms float64) string {
	switch {
	case ms >= 100:
		return fmt.Sprintf("%.0f", ms)
	case ms >= 10:
		return fmt.Sprintf("%.1f", ms)
	case ms >= 1:
		return fmt.Sprintf("%.2f", ms)
	}
	return fmt.Sprintf("%.3f", ms)
}

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
