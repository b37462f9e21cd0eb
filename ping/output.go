package ping

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"time"
)

// Printer writes a run as iputils ping does, line for line where the
// meaning is the same.
type Printer struct {
	W       io.Writer
	Name    string // the target as the user gave it
	Quiet   bool   // -q: header and summary only
	Stamps  bool   // -D: [unix time] before each line
	Report  bool   // -O: report outstanding replies when the next probe goes
	Flood   bool   // -f: a dot per probe, a backspace per reply
	pending map[uint16]bool
}

// Header prints the PING line.
func (p *Printer) Header(addr netip.Addr, size int, via string) {
	from := ""
	if via != "" {
		from = "from " + via + ": "
	}
	if addr.Is4() {
		fmt.Fprintf(p.W, "PING %s (%s) %s%d(%d) bytes of data.\n", p.Name, addr, from, size, size+28)
	} else {
		fmt.Fprintf(p.W, "PING %s(%s) %s%d data bytes\n", p.Name, addr, from, size)
	}
}

// Event prints one event; it has the signature Engine's callback wants.
func (p *Printer) Event(ev *Event) {
	if p.Quiet {
		return
	}
	if p.Flood {
		p.flood(ev)
		return
	}
	switch ev.Kind {
	case EventSent:
		if p.Report {
			if p.pending == nil {
				p.pending = map[uint16]bool{}
			}
			if p.pending[ev.Seq-1] {
				p.stamp(ev.At)
				fmt.Fprintf(p.W, "no answer yet for icmp_seq=%d\n", ev.Seq-1)
			}
			delete(p.pending, ev.Seq-1)
			p.pending[ev.Seq] = true
		}
	case EventReply, EventDuplicate, EventLate, EventCorrupted:
		delete(p.pending, ev.Seq)
		p.stamp(ev.At)
		fmt.Fprintf(p.W, "%d bytes from %s: icmp_seq=%d", ev.Bytes, ev.From, ev.Seq)
		if ev.HasTTL {
			fmt.Fprintf(p.W, " ttl=%d", ev.TTL)
		}
		fmt.Fprintf(p.W, " time=%s ms", FormatRTT(ev.RTT))
		switch ev.Kind {
		case EventDuplicate:
			io.WriteString(p.W, " (DUP!)")
		case EventLate:
			io.WriteString(p.W, " (late)")
		case EventCorrupted:
			fmt.Fprintf(p.W, "\nwrong data byte #%d should be 0x%x but was 0x%x", ev.BadByte, ev.Want, ev.Got)
		}
		io.WriteString(p.W, "\n")
	case EventICMPError:
		delete(p.pending, ev.Seq)
		p.stamp(ev.At)
		fmt.Fprintf(p.W, "From %s icmp_seq=%d %s\n", ev.From, ev.Seq, ev.Error.String())
	case EventSendError:
		p.stamp(ev.At)
		fmt.Fprintf(p.W, "pingcraft: send icmp_seq=%d: %v\n", ev.Seq, ev.Err)
	}
}

func (p *Printer) flood(ev *Event) {
	switch ev.Kind {
	case EventSent:
		io.WriteString(p.W, ".")
	case EventReply:
		io.WriteString(p.W, "\b \b")
	case EventICMPError, EventSendError:
		io.WriteString(p.W, "E")
	}
}

func (p *Printer) stamp(t time.Time) {
	if p.Stamps {
		fmt.Fprintf(p.W, "[%d.%06d] ", t.Unix(), t.Nanosecond()/1000)
	}
}

// Summary prints the statistics block.
func (p *Printer) Summary(s *Stats, elapsed time.Duration, preload int) {
	fmt.Fprintf(p.W, "\n--- %s ping statistics ---\n", p.Name)
	fmt.Fprintf(p.W, "%d packets transmitted, %d received", s.Transmitted, s.Received)
	if s.Duplicates > 0 {
		fmt.Fprintf(p.W, ", +%d duplicates", s.Duplicates)
	}
	if s.Corrupted > 0 {
		fmt.Fprintf(p.W, ", +%d corrupted", s.Corrupted)
	}
	if s.Errors > 0 {
		fmt.Fprintf(p.W, ", +%d errors", s.Errors)
	}
	if s.Transmitted > 0 {
		fmt.Fprintf(p.W, ", %s%% packet loss, time %dms", strconv.FormatFloat(float64(float32(s.Loss())), 'g', 6, 32), elapsed.Milliseconds())
	}
	io.WriteString(p.W, "\n")
	sep := ""
	if min, avg, max, mdev, ok := s.RTT(); ok {
		fmt.Fprintf(p.W, "rtt min/avg/max/mdev = %s/%s/%s/%s ms", ms3(min), ms3(avg), ms3(max), ms3(mdev))
		sep = ", "
	}
	if preload > 1 {
		fmt.Fprintf(p.W, "%spipe %d", sep, preload)
		sep = ", "
	}
	if p.Flood && s.Transmitted > 1 {
		// iputils: the mean gap between probes and the smoothed RTT.
		ipg := elapsed.Microseconds() / int64(s.Transmitted-1)
		ewma := s.ewma8 / 8
		fmt.Fprintf(p.W, "%sipg/ewma %d.%03d/%d.%03d ms", sep, ipg/1000, ipg%1000, ewma/1000, ewma%1000)
	}
	io.WriteString(p.W, "\n")
}

// Status is the line SIGQUIT prints without stopping the run, as iputils
// prints it: from a carriage return, so that it overwrites a flood's dots.
func (p *Printer) Status(w io.Writer, s *Stats) {
	loss := 0
	if s.Transmitted > 0 {
		loss = (s.Transmitted - s.Received) * 100 / s.Transmitted
	}
	fmt.Fprintf(w, "\r%d/%d packets, %d%% loss", s.Received, s.Transmitted, loss)
	if min, avg, max, _, ok := s.RTT(); ok {
		ewma := time.Duration(s.ewma8/8) * time.Microsecond
		fmt.Fprintf(w, ", min/avg/ewma/max = %s/%s/%s/%s ms", ms3(min), ms3(avg), ms3(ewma), ms3(max))
	}
	io.WriteString(w, "\n")
}

func ms3(d time.Duration) string {
	us := d.Microseconds()
	return fmt.Sprintf("%d.%03d", us/1000, us%1000)
}

// FormatRTT formats a round trip as iputils does: three decimals below
// 1 ms, fewer as it grows.
func FormatRTT(d time.Duration) string {
	us := d.Microseconds()
	switch {
	case us >= 100000-50:
		return strconv.FormatInt((us+500)/1000, 10)
	case us >= 10000-5:
		return fmt.Sprintf("%d.%01d", (us+50)/1000, ((us+50)%1000)/100)
	case us >= 1000:
		return fmt.Sprintf("%d.%02d", (us+5)/1000, ((us+5)%1000)/10)
	}
	return fmt.Sprintf("%d.%03d", us/1000, us%1000)
}

// JSONWriter writes one JSON object per event and a summary object; the
// field names are documented in the README and stable.
type JSONWriter struct {
	W    io.Writer
	Name string
	// Names, when set, name each target of a run of many: events carry
	// theirs, and Summary the one in Name.
	Names []string
	enc   *json.Encoder
}

type jsonEvent struct {
	Event     string   `json:"event"`
	Target    string   `json:"target"`
	Addr      string   `json:"addr"`
	Seq       uint16   `json:"seq"`
	ID        uint16   `json:"id"`
	Time      string   `json:"time"`
	RTTMS     *float64 `json:"rtt_ms,omitempty"`
	Stamp     string   `json:"timestamp,omitempty"`
	TTL       *uint8   `json:"ttl,omitempty"`
	Bytes     int      `json:"bytes,omitempty"`
	From      string   `json:"from,omitempty"`
	ICMPType  *uint8   `json:"icmp_type,omitempty"`
	ICMPCode  *uint8   `json:"icmp_code,omitempty"`
	Error     string   `json:"error,omitempty"`
	BadByte   *int     `json:"bad_byte,omitempty"`
	SendError string   `json:"send_error,omitempty"`
}

// Event writes ev as one line.
func (j *JSONWriter) Event(ev *Event) {
	if j.enc == nil {
		j.enc = json.NewEncoder(j.W)
	}
	name := j.Name
	if ev.Target < len(j.Names) {
		name = j.Names[ev.Target]
	}
	o := jsonEvent{Event: ev.Kind.String(), Target: name, Addr: ev.Addr.String(), Seq: ev.Seq, ID: ev.ID,
		Time: ev.At.UTC().Format(time.RFC3339Nano), Bytes: ev.Bytes}
	switch ev.Kind {
	case EventReply, EventDuplicate, EventLate, EventCorrupted:
		ms := float64(ev.RTT.Nanoseconds()) / 1e6
		o.RTTMS, o.Stamp = &ms, ev.Stamp.String()
		if ev.Kind == EventCorrupted {
			o.BadByte = &ev.BadByte
		}
	case EventICMPError:
		o.ICMPType, o.ICMPCode, o.Error = &ev.Error.Type, &ev.Error.Code, ev.Error.String()
	case EventSendError:
		o.SendError = ev.Err.Error()
	}
	if ev.HasTTL {
		o.TTL = &ev.TTL
	}
	if ev.From.IsValid() {
		o.From = ev.From.String()
	}
	j.enc.Encode(o)
}

// Summary writes the statistics object.
func (j *JSONWriter) Summary(addr netip.Addr, s *Stats, elapsed time.Duration, drops uint64) {
	if j.enc == nil {
		j.enc = json.NewEncoder(j.W)
	}
	type summary struct {
		Event       string   `json:"event"`
		Target      string   `json:"target"`
		Addr        string   `json:"addr"`
		Transmitted int      `json:"transmitted"`
		Received    int      `json:"received"`
		Duplicates  int      `json:"duplicates"`
		Corrupted   int      `json:"corrupted"`
		Errors      int      `json:"errors"`
		Late        int      `json:"late"`
		SendErrors  int      `json:"send_errors"`
		LossPercent float64  `json:"loss_percent"`
		TimeMS      int64    `json:"time_ms"`
		RTTMin      *float64 `json:"rtt_min_ms,omitempty"`
		RTTAvg      *float64 `json:"rtt_avg_ms,omitempty"`
		RTTMax      *float64 `json:"rtt_max_ms,omitempty"`
		RTTMdev     *float64 `json:"rtt_mdev_ms,omitempty"`
		RingDrops   uint64   `json:"ring_drops"`
	}
	o := summary{Event: "summary", Target: j.Name, Addr: addr.String(), Transmitted: s.Transmitted, Received: s.Received,
		Duplicates: s.Duplicates, Corrupted: s.Corrupted, Errors: s.Errors, Late: s.Late, SendErrors: s.SendErrors,
		LossPercent: s.Loss(), TimeMS: elapsed.Milliseconds(), RingDrops: drops}
	if min, avg, max, mdev, ok := s.RTT(); ok {
		f := func(d time.Duration) *float64 { v := float64(d.Microseconds()) / 1000; return &v }
		o.RTTMin, o.RTTAvg, o.RTTMax, o.RTTMdev = f(min), f(avg), f(max), f(mdev)
	}
	j.enc.Encode(o)
}
