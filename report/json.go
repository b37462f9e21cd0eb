package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/pingcraft/pingcraft/ping"
)

// SchemaVersion is the "v" of every JSON object: fields may be added within
// a version; a rename, a removal or a change of meaning bumps it.
const SchemaVersion = 1

// TimeLayout is how JSON writes times, always in UTC: RFC 3339 with all
// nine fraction digits, so that times sort and align as text.
const TimeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// JSON writes one JSON object a line per event and a summary object per
// target, schema v1 (the README's JSON section). A field that does not apply to an
// event is absent, never null; one that applies is present even when zero.
// A nil W writes nowhere.
type JSON struct {
	W io.Writer
	// Name is the target as the user gave it, for a run of one.
	Name string
	// Names, when set, name each target of a run of many, indexed like
	// the engine's targets; a target beyond them goes by Name, or without
	// one by its address.
	Names []string

	enc *json.Encoder
}

// jsonEvent is every event's object. Pointers are the fields that apply to
// some events only: nil leaves them out, a pointer to zero prints 0.
type jsonEvent struct {
	V      int      `json:"v"`
	Event  string   `json:"event"`
	Target string   `json:"target"`
	Addr   string   `json:"addr,omitempty"`
	ID     uint16   `json:"id"`
	Seq    uint16   `json:"seq"`
	Time   string   `json:"time"`
	Src    string   `json:"src,omitempty"`
	TTL    *uint8   `json:"ttl,omitempty"`
	Bytes  *int     `json:"bytes,omitempty"`
	RTTMS  *float64 `json:"rtt_ms,omitempty"`
	Clock  string   `json:"clock,omitempty"`
	// SendClock and ReceiveClock: which clock stamped each end of the
	// RTT, "kernel", "user" or "hardware" (the NIC's).
	SendClock    string  `json:"send_clock,omitempty"`
	ReceiveClock string  `json:"receive_clock,omitempty"`
	BadByte      *int    `json:"bad_byte,omitempty"`
	ICMPType     *uint8  `json:"icmp_type,omitempty"`
	ICMPCode     *uint8  `json:"icmp_code,omitempty"`
	Error        *string `json:"error,omitempty"`
	MTU          *int    `json:"mtu,omitempty"` // of local_error: the path MTU
}

type jsonSummary struct {
	V           int    `json:"v"`
	Event       string `json:"event"`
	Target      string `json:"target"`
	Addr        string `json:"addr,omitempty"`
	Transmitted int    `json:"transmitted"`
	Received    int    `json:"received"`
	Duplicates  int    `json:"duplicates"`
	Corrupted   int    `json:"corrupted"`
	// BadChecksums: replies with a wrong ICMP checksum (event
	// bad_checksum), never counted as received.
	BadChecksums int      `json:"bad_checksums"`
	Errors       int      `json:"errors"`
	Late         int      `json:"late"`
	SendErrors   int      `json:"send_errors"`
	LossPercent  float64  `json:"loss_percent"`
	TimeMS       int64    `json:"time_ms"`
	RTTMin       *float64 `json:"rtt_min_ms,omitempty"`
	RTTAvg       *float64 `json:"rtt_avg_ms,omitempty"`
	RTTMax       *float64 `json:"rtt_max_ms,omitempty"`
	RTTMdev      *float64 `json:"rtt_mdev_ms,omitempty"`
	RingDrops    uint64   `json:"ring_drops"`
}

func (j *JSON) encode(v any) {
	if j.enc == nil {
		w := j.W
		if w == nil {
			w = io.Discard
		}
		// One Write per object: a line reaches W whole.
		j.enc = json.NewEncoder(w)
	}
	j.enc.Encode(v) // only W can fail, and an AsyncWriter reports that
}

// name is target i as the user gave it; a's text when no name was set.
func (j *JSON) name(i int, a netip.Addr) string {
	switch {
	case i >= 0 && i < len(j.Names):
		return j.Names[i]
	case j.Name != "":
		return j.Name
	}
	return addrText(a)
}

// addrText is a's text, or "" (left out) when the address is unknown.
func addrText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// Event writes ev as one line. It is an onEvent for ping.New.
func (j *JSON) Event(ev *ping.Event) {
	o := jsonEvent{V: SchemaVersion, Event: ev.Kind.String(), Target: j.name(ev.Target, ev.Addr), Addr: addrText(ev.Addr),
		ID: ev.ID, Seq: ev.Seq, Time: ev.At.UTC().Format(TimeLayout)}
	switch ev.Kind {
	case ping.EventSent:
		o.Bytes = &ev.Bytes
	case ping.EventReply, ping.EventDuplicate, ping.EventLate, ping.EventCorrupted, ping.EventBadChecksum:
		o.Src, o.Bytes = addrText(ev.From), &ev.Bytes
		if ev.HasTTL {
			o.TTL = &ev.TTL
		}
		ms := float64(ev.RTT.Nanoseconds()) / 1e6
		o.RTTMS = &ms
		switch ev.Stamp {
		case ping.StampKernel, ping.StampHardware:
			// "kernel" has always meant: no user-space time at either
			// end. The NIC's stamps are that too; the ends' fields say
			// which.
			o.Clock = ping.StampKernel.String()
		case ping.StampUser:
			o.Clock = ev.Stamp.String()
		}
		// An Event made without the ends' clocks has both of Stamp's.
		o.SendClock, o.ReceiveClock = clockName(cmp.Or(ev.SendClock, ev.Stamp)), clockName(cmp.Or(ev.ReceiveClock, ev.Stamp))
		if ev.Kind == ping.EventCorrupted {
			o.BadByte = &ev.BadByte
		}
	case ping.EventICMPError:
		o.Src = addrText(ev.From)
		if ev.HasTTL {
			o.TTL = &ev.TTL
		}
		words := ev.Error.String()
		o.ICMPType, o.ICMPCode, o.Error = &ev.Error.Type, &ev.Error.Code, &words
	case ping.EventSendError:
		why := ""
		if ev.Err != nil {
			why = ev.Err.Error()
		}
		o.Error = &why
	case ping.EventLocalError:
		why := fmt.Sprintf("message too long, mtu=%d", ev.MTU)
		o.Error, o.MTU = &why, &ev.MTU
	}
	j.encode(&o)
}

// clockName is a clock's JSON name, "" (left out) when unknown.
func clockName(s ping.StampSource) string {
	switch s {
	case ping.StampKernel, ping.StampUser, ping.StampHardware:
		return s.String()
	}
	return ""
}

// Summary writes target i's statistics object: addr is its address (for a
// run of one, i is 0), elapsed the run's time, ringDrops what its receive
// path lost (ping.Conn.Drops).
func (j *JSON) Summary(i int, addr netip.Addr, s *ping.Stats, elapsed time.Duration, ringDrops uint64) {
	o := jsonSummary{V: SchemaVersion, Event: "summary", Target: j.name(i, addr), Addr: addrText(addr),
		Transmitted: s.Transmitted, Received: s.Received, Duplicates: s.Duplicates, Corrupted: s.Corrupted,
		BadChecksums: s.BadChecksums, Errors: s.Errors, Late: s.Late, SendErrors: s.SendErrors, LossPercent: s.Loss(),
		TimeMS: elapsed.Milliseconds(), RingDrops: ringDrops}
	if min, avg, max, mdev, ok := s.RTT(); ok {
		ms := func(d time.Duration) *float64 { v := float64(d.Microseconds()) / 1000; return &v }
		o.RTTMin, o.RTTAvg, o.RTTMax, o.RTTMdev = ms(min), ms(avg), ms(max), ms(mdev)
	}
	j.encode(&o)
}
