package report

import (
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/ping"
)

// Ping writes a run as iputils ping (20221126) does, line for line where
// the meaning is the same. A nil W writes nowhere.
type Ping struct {
	W io.Writer
	// ErrW is where iputils writes to stderr: local errors ("ping: local
	// error: message too long, mtu=1400"). nil means W.
	ErrW   io.Writer
	Name   string // the target as the user gave it
	Quiet  bool   // -q: header and summary only
	Stamps bool   // -D: [unix time] before each line
	Report bool   // -O: report outstanding replies when the next probe goes
	Flood  bool   // -f: a dot per probe, a backspace per reply
	// Adaptive is -A, or -i 0: lines as a normal run, the summary as a
	// flood's.
	Adaptive bool
	Bell     bool // -a: a bell after every reply
	// Untimed is a run with less than 16 bytes of echo data, which leave
	// iputils no room for its send time: it prints no times.
	Untimed bool
	// NameOf, when set, names addresses as iputils does without -n: reply
	// and error lines say "from localhost (::1)", an IPv6 header
	// "PING localhost(localhost (::1))". It returns "" for an address it
	// cannot name, printed bare. iputils 20221126 names them only for a
	// target given as a name (a reverse lookup, cached); for a numeric
	// target, or with -n, leave it nil.
	NameOf func(netip.Addr) string
	// Zone is the interface link-scoped IPv6 addresses are printed with,
	// as iputils prints its sockaddrs' scope ("fe80::1%h0").
	Zone string
	// Group: the target is a broadcast or multicast address, whose every
	// member answers; iputils counts the answers after the first as
	// duplicates without marking them (DUP!) unless -v.
	Group bool

	pending map[uint16]bool // -O: probes sent and not yet answered
	// replies and userSent count the replies, and those timed from the
	// user-space send time, for UserSendTimes; stamped is set by
	// Transport when the transport stamps its sends below user space.
	replies, userSent int
	stamped           bool
	route             []netip.Addr // -R: the last route printed
}

// timing says whether iputils would time the replies.
func (p *Ping) timing() bool { return !p.Untimed }

func (p *Ping) w() io.Writer {
	if p.W == nil {
		return io.Discard
	}
	return p.W
}

// Header prints the PING line; via, when set, is "SOURCE IFACE" (-I, -B),
// IFACE empty when none was given; flow is the IPv6 flow label (-F);
// options the bytes of IPv4 options each probe carries (-R, -T).
func (p *Ping) Header(addr netip.Addr, size int, via string, flow uint32, options int) {
	from := ""
	if via != "" {
		from = "from " + via + ": "
	}
	if addr.Is4() {
		fmt.Fprintf(p.w(), "PING %s (%s) %s%d(%d) bytes of data.\n", p.Name, addr, from, size, size+28+options)
		return
	}
	flowInfo := ""
	if flow != 0 {
		flowInfo = fmt.Sprintf(", flow 0x%05x, ", flow)
	}
	fmt.Fprintf(p.w(), "PING %s(%s) %s%s%d data bytes\n", p.Name, p.addr(addr), flowInfo, from, size)
}

// Event prints one event. It is an onEvent for ping.New.
func (p *Ping) Event(ev *ping.Event) {
	if ev.Kind == ping.EventReply {
		p.replies++
		if ev.SendClock == ping.StampUser {
			p.userSent++
		}
	}
	if p.Quiet {
		return
	}
	if p.Flood {
		p.flood(ev)
		return
	}
	w := p.w()
	switch ev.Kind {
	case ping.EventSent:
		if p.Report {
			if p.pending == nil {
				p.pending = map[uint16]bool{}
			}
			if p.pending[ev.Seq-1] {
				p.stamp(ev.At)
				fmt.Fprintf(w, "no answer yet for icmp_seq=%d\n", ev.Seq-1)
			}
			delete(p.pending, ev.Seq-1)
			p.pending[ev.Seq] = true
		}
	case ping.EventReply, ping.EventDuplicate, ping.EventLate, ping.EventCorrupted, ping.EventBadChecksum:
		delete(p.pending, ev.Seq)
		p.stamp(ev.At)
		fmt.Fprintf(w, "%d bytes from %s: icmp_seq=%d", ev.Bytes, p.addr(ev.From), ev.Seq)
		if ev.HasTTL {
			fmt.Fprintf(w, " ttl=%d", ev.TTL)
		}
		if p.timing() {
			fmt.Fprintf(w, " time=%s ms", FormatRTT(ev.RTT))
		}
		switch ev.Kind {
		case ping.EventDuplicate:
			if !p.Group {
				io.WriteString(w, " (DUP!)")
			}
		case ping.EventLate:
			io.WriteString(w, " (late)")
		case ping.EventBadChecksum:
			io.WriteString(w, " (BAD CHECKSUM!)")
		case ping.EventCorrupted:
			fmt.Fprintf(w, "\nwrong data byte #%d should be 0x%x but was 0x%x", ev.BadByte, ev.Want, ev.Got)
		}
		if p.Bell {
			io.WriteString(w, "\a")
		}
		if len(ev.IPOptions) > 0 {
			p.options(ev.IPOptions)
		}
		io.WriteString(w, "\n")
	case ping.EventICMPError:
		delete(p.pending, ev.Seq)
		p.stamp(ev.At)
		fmt.Fprintf(w, "From %s icmp_seq=%d %s\n", p.addr(ev.From), ev.Seq, ev.Error.String())
	case ping.EventSendError:
		p.stamp(ev.At)
		fmt.Fprintf(w, "pingcraft: send icmp_seq=%d: %v\n", ev.Seq, ev.Err)
	case ping.EventLocalError:
		delete(p.pending, ev.Seq)
		p.localError(ev)
	}
}

// addr is a as iputils prints it: "name (a)" when NameOf names it, a
// link-scoped address with its zone.
func (p *Ping) addr(a netip.Addr) string {
	s := a.String()
	if p.Zone != "" && a.Is6() && a.Zone() == "" && (a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast()) {
		s = a.WithZone(p.Zone).String()
	}
	if p.NameOf != nil {
		if n := p.NameOf(a); n != "" {
			return n + " (" + s + ")"
		}
	}
	return s
}

// localError prints a probe beyond the path MTU with -M do as iputils
// prints the kernel's EMSGSIZE, whose IPv6 variant has a colon.
func (p *Ping) localError(ev *ping.Event) {
	w := p.ErrW
	if w == nil {
		w = p.w()
	}
	sep := "="
	if ev.Addr.Is6() && !ev.Addr.Is4In6() {
		sep = ": "
	}
	fmt.Fprintf(w, "ping: local error: message too long, mtu%s%d\n", sep, ev.MTU)
}

// flood draws iputils' -f line: a dot per probe, rubbed out by its reply.
func (p *Ping) flood(ev *ping.Event) {
	switch ev.Kind {
	case ping.EventSent:
		io.WriteString(p.w(), ".")
	case ping.EventReply:
		io.WriteString(p.w(), "\b \b")
	case ping.EventBadChecksum:
		io.WriteString(p.w(), "\bC") // iputils' mark in a flood
	case ping.EventICMPError, ping.EventSendError:
		io.WriteString(p.w(), "E")
	case ping.EventLocalError:
		p.localError(ev) // iputils prints them in a flood too
	}
}

func (p *Ping) stamp(t time.Time) {
	if p.Stamps {
		fmt.Fprintf(p.w(), "[%d.%06d] ", t.Unix(), t.Nanosecond()/1000)
	}
}

// Summary prints the statistics block; preload is -l (pipe N above 1).
func (p *Ping) Summary(s *ping.Stats, elapsed time.Duration, preload int) {
	w := p.w()
	fmt.Fprintf(w, "\n--- %s ping statistics ---\n", p.Name)
	fmt.Fprintf(w, "%d packets transmitted, %d received", s.Transmitted, s.Received)
	if s.Duplicates > 0 {
		fmt.Fprintf(w, ", +%d duplicates", s.Duplicates)
	}
	// iputils' "corrupted" are its bad checksums; ours also holds the
	// replies whose data is wrong, which it would count as received.
	if n := s.Corrupted + s.BadChecksums; n > 0 {
		fmt.Fprintf(w, ", +%d corrupted", n)
	}
	if s.Errors > 0 {
		fmt.Fprintf(w, ", +%d errors", s.Errors)
	}
	if s.Transmitted > 0 {
		// iputils prints a float with %g: six significant digits of a float32.
		// iputils rounds the time to the nearest millisecond.
		fmt.Fprintf(w, ", %s%% packet loss, time %dms", strconv.FormatFloat(float64(float32(s.Loss())), 'g', 6, 32), (elapsed + time.Millisecond/2).Milliseconds())
	}
	io.WriteString(w, "\n")
	sep := ""
	if min, avg, max, mdev, ok := s.RTT(); ok && p.timing() {
		fmt.Fprintf(w, "rtt min/avg/max/mdev = %s/%s/%s/%s ms", ms3(min), ms3(avg), ms3(max), ms3(mdev))
		sep = ", "
	}
	if preload > 1 {
		fmt.Fprintf(w, "%spipe %d", sep, preload)
		sep = ", "
	}
	if (p.Flood || p.Adaptive) && s.Received > 0 && s.Transmitted > 1 {
		// iputils: the mean gap between probes and the smoothed RTT.
		ipg := elapsed.Microseconds() / int64(s.Transmitted-1)
		ewma := s.EWMA().Microseconds()
		fmt.Fprintf(w, "%sipg/ewma %d.%03d/%d.%03d ms", sep, ipg/1000, ipg%1000, ewma/1000, ewma%1000)
	}
	io.WriteString(w, "\n")
}

// Status writes the line SIGQUIT prints without stopping the run, as
// iputils prints it: from a carriage return, so that it overwrites a
// flood's dots. It touches only w and s, so it may run beside Event (on
// another writer, or on one safe for concurrent use such as an
// AsyncWriter); a nil w means p.W.
func (p *Ping) Status(w io.Writer, s *ping.Stats) {
	if w == nil {
		w = p.w()
	}
	loss := 0
	if s.Transmitted > 0 {
		loss = (s.Transmitted - s.Received) * 100 / s.Transmitted
	}
	fmt.Fprintf(w, "\r%d/%d packets, %d%% loss", s.Received, s.Transmitted, loss)
	if min, avg, max, _, ok := s.RTT(); ok {
		fmt.Fprintf(w, ", min/avg/ewma/max = %s/%s/%s/%s ms", ms3(min), ms3(avg), ms3(s.EWMA()), ms3(max))
	}
	io.WriteString(w, "\n")
}

// ms3 is a duration in ms with three decimals, truncated to the µs as
// iputils' integer arithmetic does.
func ms3(d time.Duration) string {
	us := d.Microseconds()
	return fmt.Sprintf("%d.%03d", us/1000, us%1000)
}

// FormatRTT formats a round trip as iputils does after time=: three
// decimals below 1 ms, fewer as it grows, none from 100 ms.
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

// Transport prints -v's two lines before the header: the path m's probes
// take, and the transport, its clocks (send and receive, as ping.ClocksOf
// says) and the ICMP id. flood says a ring transport reads a TPACKET_V2
// ring.
func (p *Ping) Transport(m *ping.Member, id uint16, flood bool, send, receive ping.StampSource) {
	ring := "TPACKET_V3"
	if flood {
		ring = "TPACKET_V2 (per-frame, for a flood)"
	}
	socket := map[ping.Mode]string{
		ping.ModeEthernet: "AF_PACKET SOCK_RAW out, " + ring + " ring in",
		ping.ModeIP:       "AF_PACKET SOCK_DGRAM out, " + ring + " ring in",
		ping.ModeRaw:      "SOCK_RAW ICMP socket",
		ping.ModeDgram:    "ping socket (SOCK_DGRAM ICMP)",
	}[m.Mode] + "; " + clocks(m.Mode, send, receive)
	p.stamped = send == ping.StampKernel || send == ping.StampHardware
	a := m.Path
	fmt.Fprintf(p.w(), "pingcraft: path %s via %s (index %d, %s, mtu %d) from %s %s, next hop %s %s [MAC: %s]\n",
		a.Target, a.Interface, a.Index, a.Kind, a.MTU, a.Source, a.SourceMAC, a.NextHop, a.NextHopMAC, a.MACSource)
	fmt.Fprintf(p.w(), "pingcraft: transport %s: %s; icmp id %d\n", m.Mode, socket, id)
}

// clocks says in -v's words which clocks time a transport's round trips.
func clocks(m ping.Mode, send, receive ping.StampSource) string {
	switch {
	case send == ping.StampHardware && receive == ping.StampHardware:
		return "NIC (hardware) timestamps both ways, the kernel's where the NIC gives none"
	case send == ping.StampKernel && receive == ping.StampKernel && (m == ping.ModeRaw || m == ping.ModeDgram):
		return "kernel timestamps both ways (send stamps from the socket's error queue, SO_TIMESTAMPING)"
	case send == ping.StampKernel && receive == ping.StampKernel:
		return "kernel timestamps both ways"
	}
	return fmt.Sprintf("%s receive time, %s send time", receive, send)
}

// UserSendTimes prints, for -v after the summary, how many replies of a
// run whose transport stamps its sends in the kernel (or the NIC, see
// Transport) were timed from the user-space send time, their probe's
// send stamp not having come; nothing when none were.
func (p *Ping) UserSendTimes() {
	if p.stamped && p.userSent > 0 {
		fmt.Fprintf(p.w(), "pingcraft: %d of %d replies timed from the user-space send time: their probe's kernel send stamp did not come\n", p.userSent, p.replies)
	}
}

// Authentication says, for -v, how replies to probes of size data bytes
// are told from forgeries: by the per-probe authenticator, or not at all.
func (p *Ping) Authentication(size int) {
	pl := craft.Payload{Size: size}
	if pl.HasAuth() {
		what := "id, seq and destination"
		if pl.HasTimestamp() {
			what = "id, seq, destination and send time"
		}
		fmt.Fprintf(p.w(), "pingcraft: replies must carry the probe's %d-byte authenticator (a MAC keyed for this run of %s)\n", craft.AuthLen, what)
		return
	}
	fmt.Fprintf(p.w(), "pingcraft: %d data bytes leave no room for the %d-byte authenticator: replies cannot be told from forgeries (use -s %d or more)\n",
		size, craft.AuthLen, craft.AuthLen)
}

// options prints a reply's record route or timestamps as iputils does,
// each on its own line after the reply's; a route the same as the one
// before is not printed again.
func (p *Ping) options(b []byte) {
	o, ok := craft.ParseIPv4Options(b)
	if !ok || len(o.Addrs) == 0 && len(o.Stamps) == 0 {
		return // as iputils, nothing for an option nobody wrote into
	}
	w := p.w()
	if o.Type == craft.IPOptionRecordRoute {
		if slices.Equal(o.Addrs, p.route) {
			io.WriteString(w, "\t(same route)")
			return
		}
		p.route = o.Addrs
		io.WriteString(w, "\nRR: ")
		for i, a := range o.Addrs {
			if i > 0 {
				io.WriteString(w, "\n")
			}
			fmt.Fprintf(w, "\t%s", p.addr(a))
		}
		io.WriteString(w, "\n")
		return
	}
	io.WriteString(w, "\nTS: ")
	stdPrev, otherPrev := int64(-1), int64(-1)
	for i, ts := range o.Stamps {
		if i > 0 {
			io.WriteString(w, "\n")
		}
		io.WriteString(w, "\t")
		if i < len(o.Addrs) {
			fmt.Fprintf(w, "%s\t", p.addr(o.Addrs[i]))
		}
		// A set high bit marks a time that is not milliseconds since
		// midnight UT; iputils keeps the two kinds apart.
		std := ts&0x80000000 == 0
		v := int64(ts & 0x7fffffff)
		switch {
		case std && stdPrev < 0:
			fmt.Fprintf(w, "%d absolute", v)
		case std:
			fmt.Fprintf(w, "%d", v-stdPrev)
		case otherPrev < 0:
			fmt.Fprintf(w, "%d absolute not-standard", v)
		default:
			fmt.Fprintf(w, "%d not-standard", v-otherPrev)
		}
		if std {
			stdPrev = v
		} else {
			otherPrev = v
		}
	}
	io.WriteString(w, "\n")
	if o.Overflow > 0 {
		fmt.Fprintf(w, "Unrecorded hops: %d\n", o.Overflow)
	}
}
