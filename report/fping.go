package report

import (
	"fmt"
	"io"
	"math"
	"net/netip"
	"strings"
	"time"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/ping"
)

// Fping writes what fping 5 writes for a run over many targets: per-probe
// lines with -c or -C, "is alive" / "is unreachable" otherwise, ICMP
// errors, duplicates and the summary on Err. A nil W writes nowhere, a nil
// Err means W.
type Fping struct {
	W, Err io.Writer
	// Names are the targets as given, indexed like the engine's targets; a
	// target without one goes by its address.
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
	addr                netip.Addr // a name for a target missing from Names
	sent, recv          int
	sumMS, minMS, maxMS float64
	alive               bool
	rtts                []float64 // -C: each probe's time in ms, NaN when lost
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

// grow makes the state of the first n targets (at least those in Names),
// on first use.
func (p *Fping) grow(n int) {
	if p.t == nil {
		p.t = make([]fpingTarget, len(p.Names))
		for _, name := range p.Names {
			p.width = max(p.width, len(name))
		}
	}
	for len(p.t) < n {
		p.t = append(p.t, fpingTarget{})
	}
}

func (p *Fping) target(i int) *fpingTarget {
	p.grow(i + 1)
	return &p.t[i]
}

func (p *Fping) name(i int) string {
	if i < len(p.Names) {
		return p.Names[i]
	}
	return p.target(i).addr.String()
}

// Event reports one engine event. It is an onEvent for ping.New.
func (p *Fping) Event(ev *ping.Event) {
	if ev.Target < 0 {
		return
	}
	t := p.target(ev.Target)
	if !t.addr.IsValid() {
		t.addr = ev.Addr
	}
	name := p.name(ev.Target)
	switch ev.Kind {
	case ping.EventSent:
		t.sent++
	case ping.EventReply:
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
				fmt.Fprintf(p.out(), "%-*s : [%d], %d bytes, %s ms (%s avg, %d%% loss)\n", p.width, name, ev.Seq-1, ev.Bytes,
					fpingMS(ms), fpingMS(t.sumMS/float64(t.recv)), (t.sent-t.recv)*100/max(t.sent, 1))
			}
			return
		}
		if !t.alive {
			t.alive = true
			if !p.Unreachable {
				w := p.out()
				io.WriteString(w, name)
				if !p.Alive {
					io.WriteString(w, " is alive")
				}
				if p.Elapsed {
					fmt.Fprintf(w, " (%s ms)", fpingMS(ms))
				}
				io.WriteString(w, "\n")
			}
		}
	case ping.EventTimeout, ping.EventICMPError:
		if ev.Kind == ping.EventICMPError {
			fmt.Fprintf(p.errs(), "%s from %s for ICMP Echo sent to %s\n", fpingError(&ev.Error), ev.From, ev.Addr)
		}
		p.record(t, ev.Seq, math.NaN())
		if p.Count && !p.Quiet {
			avg := "NaN"
			if t.recv > 0 {
				avg = fpingMS(t.sumMS / float64(t.recv))
			}
			fmt.Fprintf(p.out(), "%-*s : [%d], timed out (%s avg, %d%% loss)\n", p.width, name, ev.Seq-1, avg, (t.sent-t.recv)*100/max(t.sent, 1))
		}
	case ping.EventDuplicate:
		if p.Count && !p.Quiet {
			fmt.Fprintf(p.errs(), "%-*s : duplicate for [%d], %d bytes, %s ms\n", p.width, name, ev.Seq-1, ev.Bytes, fpingMS(msOf(ev.RTT)))
		}
	case ping.EventSendError:
		fmt.Fprintf(p.errs(), "%s: error while sending ping: %v\n", name, ev.Err)
	case ping.EventLocalError:
		// fping's sendto fails with EMSGSIZE for DF beyond the MTU.
		fmt.Fprintf(p.errs(), "%s: error while sending ping: message too long\n", name)
		p.record(t, ev.Seq, math.NaN())
	}
}

// record keeps a probe's time for -C's columns; fping numbers them from 0.
func (p *Fping) record(t *fpingTarget, seq uint16, ms float64) {
	if !p.Columns || seq == 0 {
		return
	}
	i := int(seq) - 1
	for len(t.rtts) <= i {
		t.rtts = append(t.rtts, math.NaN())
	}
	t.rtts[i] = ms
}

// Summary writes the end of the run: with -c the per-target counts and
// times on Err, with -C every probe's time; otherwise the targets that
// never answered, as unreachable. stats are the engine's, by target.
func (p *Fping) Summary(stats []ping.Stats) {
	p.grow(len(stats))
	out, errs := p.out(), p.errs()
	switch {
	case p.Columns:
		io.WriteString(errs, "\n")
		for i := range stats {
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
			fmt.Fprintf(errs, "%-*s : %s\n", p.width, p.name(i), strings.Join(cols, " "))
		}
	case p.Count:
		if !p.Quiet {
			io.WriteString(errs, "\n")
		}
		for i := range stats {
			s := &stats[i]
			loss := 0
			if s.Transmitted > 0 {
				loss = (s.Transmitted - s.Received) * 100 / s.Transmitted
			}
			fmt.Fprintf(errs, "%-*s : xmt/rcv/%%loss = %d/%d/%d%%", p.width, p.name(i), s.Transmitted, s.Received, loss)
			// fping's times are of replies only, duplicates left out.
			if t := &p.t[i]; t.recv > 0 {
				fmt.Fprintf(errs, ", min/avg/max = %s/%s/%s", fpingMS(t.minMS), fpingMS(t.sumMS/float64(t.recv)), fpingMS(t.maxMS))
			}
			io.WriteString(errs, "\n")
		}
	default:
		for i := range stats {
			if stats[i].Received == 0 && !p.Alive {
				if p.Unreachable {
					fmt.Fprintln(out, p.name(i))
				} else {
					fmt.Fprintf(out, "%s is unreachable\n", p.name(i))
				}
			}
		}
	}
}

func msOf(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// fpingMS formats milliseconds as fping's sprint_tm does: three decimals
// below 1 ms, fewer as it grows, none from 100 ms.
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
