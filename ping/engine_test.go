package ping

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/gopacket"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/resolve"
)

var (
	us     = netip.MustParseAddr("198.18.0.2")
	them   = netip.MustParseAddr("198.18.1.2")
	router = netip.MustParseAddr("198.18.0.1")
	other  = netip.MustParseAddr("198.18.1.3")
)

// answer says what the fake network does with one probe.
type answer struct {
	drop    bool
	copies  int           // replies sent (default 1)
	delay   time.Duration // before the reply arrives
	from    netip.Addr    // reply source (default the target)
	id      int           // reply id override (-1: keep)
	cookie  bool          // replace the cookie with a foreign one
	corrupt int           // flip data byte corrupt-1 (0: none)
	icmpErr bool          // a time exceeded from the router instead of a reply
	inOrder bool          // delay through one queue, so replies keep their order
	sendErr error
	// replay answers with the data of the previous probe sent: a forger
	// that saw one probe answering another it never got.
	replay bool
	badSum bool // a wrong ICMP checksum in the reply or error
	// quoted is how much of the probe's data the ICMP error quotes (0:
	// none, as RFC 792 routers); forgedQuote spoils its authenticator,
	// quoteSrc replaces the quoted source.
	quoted      int
	forgedQuote bool
	quoteSrc    netip.Addr
}

// fakeConn is a network in a box: Send decides the probe's fate by seq.
type fakeConn struct {
	fate    func(seq uint16) answer
	many    bool // replies come from the probe's destination, not them
	fateTo  func(dst netip.Addr, seq uint16) answer
	localID int // >= 0: a ping socket's kernel id
	in      chan Received
	mu      sync.Mutex
	sent    []craft.Echo
	timers  sync.WaitGroup
	dl      time.Time
	pipe    chan timed
	once    sync.Once
	mode    Mode // ModeRaw when zero
	closed  bool
	// lastData is the data of the latest probe sent, for answer.replay.
	lastData []byte
	// mirror receives a copy of every reply too, as an unbound raw socket
	// sees the replies that reach another interface's Conn.
	mirror *fakeConn
}

type timed struct {
	due time.Time
	r   Received
}

func newFakeConn(fate func(seq uint16) answer) *fakeConn {
	return &fakeConn{fate: fate, localID: -1, in: make(chan Received, 1024)}
}

func (f *fakeConn) Mode() Mode {
	if f.mode == 0 {
		return ModeRaw
	}
	return f.mode
}

func (f *fakeConn) Send(e *craft.Echo) (time.Time, error) {
	at := time.Now() // as a Conn: the time before the "system call"
	var a answer
	if f.fateTo != nil {
		a = f.fateTo(e.Dst, e.Seq)
	} else {
		a = f.fate(e.Seq)
	}
	if a.sendErr != nil {
		return time.Time{}, a.sendErr
	}
	if f.localID >= 0 {
		e.ID = uint16(f.localID)
	}
	f.mu.Lock()
	sent := *e
	sent.Payload = bytes.Clone(e.Payload) // e's data is the engine's, reused
	f.sent = append(f.sent, sent)
	prev := f.lastData
	f.lastData = bytes.Clone(e.Payload)
	f.mu.Unlock()
	if a.drop {
		return at, nil
	}
	r := Received{From: them, TTL: 63, HasTTL: true, Stamp: StampUser}
	if f.many {
		r.From = e.Dst
	}
	if a.from.IsValid() {
		r.From = a.from
	}
	data := bytes.Clone(e.Payload)
	if a.replay {
		data = prev
	}
	if a.cookie {
		copy(data, "FOREIGN!")
	}
	if a.corrupt > 0 {
		data[a.corrupt-1] ^= 0xff
	}
	reply := craft.Echo{Reply: true, ID: e.ID, Seq: e.Seq, Src: r.From, Dst: us, Payload: data}
	if a.id >= 0 && a.id != 0 {
		reply.ID = uint16(a.id)
	}
	var pkt []byte
	dec, _ := craft.NewDecoder(craft.LinkTypeRaw)
	buf := gopacket.NewSerializeBuffer()
	if a.icmpErr {
		// Router's time exceeded quoting our probe.
		src := us
		if a.quoteSrc.IsValid() {
			src = a.quoteSrc
		}
		probe := craft.Echo{ID: e.ID, Seq: e.Seq, Src: src, Dst: them, Payload: e.Payload, TTL: 1}
		if err := probe.Serialize(buf, craft.DepthIP); err != nil {
			panic(err)
		}
		quote := bytes.Clone(buf.Bytes()[:28+min(a.quoted, len(e.Payload))])
		if a.forgedQuote {
			quote[28] ^= 1
		}
		pkt = timeExceeded(quote)
		if a.badSum {
			pkt[22] ^= 0xff
		}
		r.From = router
	} else {
		if err := reply.Serialize(buf, craft.DepthIP); err != nil {
			panic(err)
		}
		pkt = bytes.Clone(buf.Bytes())
		if a.badSum {
			pkt[22] ^= 0xff // the ICMP checksum, behind a 20-byte IP header
		}
	}
	if err := dec.Decode(pkt, &r.Packet); err != nil {
		panic(err)
	}
	r.Bytes = 8 + len(data)
	copies := a.copies
	if copies == 0 {
		copies = 1
	}
	for i := 0; i < copies; i++ {
		f.timers.Add(1)
		if a.inOrder {
			f.once.Do(func() {
				f.pipe = make(chan timed, 4096)
				go func() {
					for it := range f.pipe {
						time.Sleep(time.Until(it.due))
						it.r.At = time.Now()
						f.in <- it.r
						f.timers.Done()
					}
				}()
			})
			f.pipe <- timed{time.Now().Add(a.delay), r}
			continue
		}
		time.AfterFunc(a.delay, func() {
			defer f.timers.Done()
			rr := r
			rr.At = time.Now()
			f.in <- rr
			if f.mirror != nil {
				f.mirror.in <- rr
			}
		})
	}
	return at, nil
}

func timeExceeded(quote []byte) []byte {
	// 20-byte IPv4 header + ICMP type 11 + quote, with the ICMP checksum
	// the kernel would check (an error with a wrong one is dropped).
	b := make([]byte, 28+len(quote))
	b[0], b[8], b[9] = 0x45, 64, 1
	b[2], b[3] = byte(len(b)>>8), byte(len(b))
	copy(b[12:], router.AsSlice())
	copy(b[16:], us.AsSlice())
	b[20] = 11
	copy(b[28:], quote)
	binary.BigEndian.PutUint16(b[22:], ^craft.Fold(craft.Sum16(0, b[20:])))
	return b
}

func (f *fakeConn) Receive(r *Received) error {
	f.mu.Lock()
	dl := f.dl
	f.mu.Unlock()
	t := time.NewTimer(time.Until(dl))
	defer t.Stop()
	select {
	case *r = <-f.in:
		return nil
	case <-t.C:
		return os.ErrDeadlineExceeded
	}
}

// stop ends the goroutine that delivers in-order replies, once every
// reply was delivered: a synctest bubble ends only when its goroutines do.
func (f *fakeConn) stop() {
	f.timers.Wait()
	if f.pipe != nil {
		close(f.pipe)
	}
}

func (f *fakeConn) SetReceiveDeadline(t time.Time) error {
	f.mu.Lock()
	f.dl = t
	f.mu.Unlock()
	return nil
}

func (f *fakeConn) ID() uint16 {
	if f.localID >= 0 {
		return uint16(f.localID)
	}
	return 0x1234
}
func (f *fakeConn) Drops() (uint64, error) { return 0, nil }
func (f *fakeConn) Close() error           { f.closed = true; return nil }

func path() *resolve.Path {
	return &resolve.Path{Target: them, Source: us, Interface: "eth0", Index: 2}
}

// run runs an engine to the end and returns its events, checking the
// accounting invariant at every one.
func run(t *testing.T, cfg *Config, c *fakeConn) ([]Event, Stats) {
	t.Helper()
	evs, st := runMany(t, cfg, c, []netip.Addr{them})
	return evs, st[0]
}

// kinds lists (kind, seq) of events other than sent.
func kinds(evs []Event) []string {
	var out []string
	for _, ev := range evs {
		if ev.Kind != EventSent {
			out = append(out, ev.Kind.String()+" "+itoa(ev.Seq))
		}
	}
	return out
}

func itoa(n uint16) string { return strconv.Itoa(int(n)) }

func fast(count int) *Config {
	return &Config{Count: count, Interval: 5 * time.Millisecond, Timeout: 100 * time.Millisecond, Size: 56}
}

func TestEngineOutcomes(t *testing.T) {
	tests := []struct {
		name string
		fate func(seq uint16) answer
		want []string
		st   Stats // counters only
	}{
		{"all answered", func(uint16) answer { return answer{id: -1} }, []string{"reply 1", "reply 2", "reply 3"},
			Stats{Transmitted: 3, Received: 3}},
		{"loss", func(s uint16) answer { return answer{id: -1, drop: s == 2} }, []string{"reply 1", "reply 3", "timeout 2"},
			Stats{Transmitted: 3, Received: 2, TimedOut: 1}},
		{"duplicates", func(s uint16) answer { return answer{id: -1, copies: map[bool]int{true: 3, false: 1}[s == 2]} },
			[]string{"reply 1", "reply 2", "duplicate 2", "duplicate 2", "reply 3"},
			Stats{Transmitted: 3, Received: 3, Duplicates: 2}},
		{"corrupted data is never a reply", func(s uint16) answer {
			return answer{id: -1, corrupt: map[bool]int{true: 30}[s == 2]}
		}, []string{"reply 1", "corrupted 2", "reply 3", "timeout 2"},
			Stats{Transmitted: 3, Received: 2, TimedOut: 1, Corrupted: 1}},
		{"another pinger's id", func(s uint16) answer { return answer{id: map[bool]int{true: 7, false: -1}[s == 2]} },
			[]string{"reply 1", "reply 3", "timeout 2"}, Stats{Transmitted: 3, Received: 2, TimedOut: 1}},
		{"another pinger's cookie, same id", func(s uint16) answer { return answer{id: -1, cookie: s == 2} },
			[]string{"reply 1", "reply 3", "timeout 2"}, Stats{Transmitted: 3, Received: 2, TimedOut: 1}},
		{"another host", func(s uint16) answer {
			a := answer{id: -1}
			if s == 2 {
				a.from = other
			}
			return a
		}, []string{"reply 1", "reply 3", "timeout 2"}, Stats{Transmitted: 3, Received: 2, TimedOut: 1}},
		{"ICMP error", func(s uint16) answer { return answer{id: -1, icmpErr: s == 2} },
			[]string{"reply 1", "error 2", "reply 3"}, Stats{Transmitted: 3, Received: 2, TimedOut: 1, Errors: 1}},
		{"ICMP error quoting the authenticator", func(s uint16) answer { return answer{id: -1, icmpErr: s == 2, quoted: 20} },
			[]string{"reply 1", "error 2", "reply 3"}, Stats{Transmitted: 3, Received: 2, TimedOut: 1, Errors: 1}},
		{"ICMP error quoting a forged authenticator", func(s uint16) answer {
			return answer{id: -1, icmpErr: s == 2, quoted: 20, forgedQuote: true}
		}, []string{"reply 1", "reply 3", "timeout 2"}, Stats{Transmitted: 3, Received: 2, TimedOut: 1}},
		{"ICMP error quoting another source", func(s uint16) answer { return answer{id: -1, icmpErr: s == 2, quoteSrc: other} },
			[]string{"reply 1", "reply 3", "timeout 2"}, Stats{Transmitted: 3, Received: 2, TimedOut: 1}},
		{"ICMP error with a bad checksum", func(s uint16) answer { return answer{id: -1, icmpErr: s == 2, badSum: s == 2} },
			[]string{"reply 1", "reply 3", "timeout 2"}, Stats{Transmitted: 3, Received: 2, TimedOut: 1}},
		{"forged reply: the previous probe's body under this seq", func(s uint16) answer { return answer{id: -1, replay: s == 2} },
			[]string{"reply 1", "reply 3", "timeout 2"}, Stats{Transmitted: 3, Received: 2, TimedOut: 1}},
		{"bad ICMP checksum is never a reply", func(s uint16) answer { return answer{id: -1, badSum: s == 2} },
			[]string{"reply 1", "bad_checksum 2", "reply 3", "timeout 2"}, Stats{Transmitted: 3, Received: 2, TimedOut: 1, BadChecksums: 1}},
		{"send error is not loss", func(s uint16) answer {
			a := answer{id: -1}
			if s == 2 {
				a.sendErr = &net.OpError{Op: "sendto", Err: os.NewSyscallError("sendto", syscall.ENOBUFS)}
			}
			return a
		}, []string{"reply 1", "send_error 2", "reply 3"}, Stats{Transmitted: 2, Received: 2, SendErrors: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				evs, st := run(t, fast(3), newFakeConn(tt.fate))
				got := kinds(evs)
				// Events of different probes may interleave; order them by
				// the kind's first appearance per seq only where it matters.
				if diff := cmp.Diff(sortedCopy(tt.want), sortedCopy(got)); diff != "" {
					t.Errorf("events (-want +got):\n%s\nin order: %v", diff, got)
				}
				want := tt.st
				if diff := cmp.Diff(want, st, cmp.AllowUnexported(Stats{}), cmp.FilterPath(func(p cmp.Path) bool {
					switch p.Last().String() {
					case ".rttN", ".rttSum", ".rttSum2", ".rttMinUS", ".rttMaxUS", ".ewma8", ".firstSent", ".lastSent":
						return true
					}
					return false
				}, cmp.Ignore())); diff != "" {
					t.Errorf("stats (-want +got):\n%s", diff)
				}
			})
		})
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// A reply after its probe's timeout is late: reported, never received. The
// run must still be going when it arrives, so 40 probes cover 200ms.
// TestEngineCountsOnlyTheTargetsConn: a reply that also reaches another
// target's Conn (a raw socket on lo sees the replies of every interface)
// is counted once, from its own target's Conn.
func TestEngineCountsOnlyTheTargetsConn(t *testing.T) {
	loop := netip.MustParseAddr("127.0.0.1")
	lo := newFakeConn(func(uint16) answer { return answer{id: -1} })
	eth := newFakeConn(func(uint16) answer { return answer{id: -1} })
	lo.many, eth.many = true, true
	eth.mirror = lo
	targets := []Target{
		{Path: &resolve.Path{Target: loop, Source: loop, Interface: "lo", Kind: resolve.KindLoopback}, Conn: lo},
		{Path: path(), Conn: eth},
	}
	var mu sync.Mutex
	var evs []string
	e, err := New(fast(3), targets, func(ev *Event) {
		if ev.Kind != EventSent {
			mu.Lock()
			evs = append(evs, ev.Addr.String()+" "+ev.Kind.String())
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	lo.stop()
	eth.stop()
	for i := range targets {
		if st := e.Stats(i); st.Received != 3 || st.Duplicates != 0 || st.Errors != 0 {
			t.Errorf("%s: %+v, want 3 received and no duplicates", targets[i].Path.Target, st)
		}
	}
	if len(evs) != 6 {
		t.Errorf("events %q, want 3 replies for each target", evs)
	}
}

func TestEngineLateReply(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		evs, st := run(t, fast(40), newFakeConn(func(s uint16) answer {
			return answer{id: -1, delay: map[bool]time.Duration{true: 150 * time.Millisecond}[s == 1]}
		}))
		var seq1 []string
		for _, k := range kinds(evs) {
			if strings.HasSuffix(k, " 1") {
				seq1 = append(seq1, k)
			}
		}
		if diff := cmp.Diff([]string{"timeout 1", "late 1"}, seq1); diff != "" {
			t.Errorf("events of seq 1 (-want +got):\n%s", diff)
		}
		if st.Received != 39 || st.TimedOut != 1 || st.Late != 1 {
			t.Errorf("received %d, timed out %d, late %d; want 39, 1, 1", st.Received, st.TimedOut, st.Late)
		}
	})
}

func TestEnginePingSocketID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newFakeConn(func(uint16) answer { return answer{id: -1} })
		c.localID = 4242
		evs, st := run(t, fast(2), c)
		if st.Received != 2 {
			t.Fatalf("received %d of 2: %v", st.Received, kinds(evs))
		}
		for _, ev := range evs {
			if ev.ID != 4242 {
				t.Errorf("%v carries id %d, want the kernel's 4242", ev.Kind, ev.ID)
			}
		}
	})
}

func TestEngineRTT(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		evs, st := run(t, fast(3), newFakeConn(func(uint16) answer { return answer{id: -1, delay: 20 * time.Millisecond} }))
		for _, ev := range evs {
			if ev.Kind == EventReply && (ev.RTT < 20*time.Millisecond || ev.RTT > 100*time.Millisecond || ev.Stamp != StampUser) {
				t.Errorf("seq %d: rtt %v from %v, want about 20ms from the user clock", ev.Seq, ev.RTT, ev.Stamp)
			}
		}
		min, avg, max, mdev, ok := st.RTT()
		if !ok || min > avg || avg > max || mdev < 0 {
			t.Errorf("rtt min/avg/max/mdev %v/%v/%v/%v", min, avg, max, mdev)
		}
	})
}

// A kernel receive stamp from before the send (the wall clock stepped back)
// must not give a negative RTT.
func TestEngineClockStep(t *testing.T) {
	sent := time.Now()
	e := &Engine{now: time.Now, start: sent}
	p := &probe{sent: 0}
	a := &arrival{at: sent.Add(-time.Hour), stamp: StampKernel, now: e.now()}
	d, stamp := e.rtt(p, a)
	if d < 0 || stamp != StampUser {
		t.Errorf("rtt %v from %v after a clock step back", d, stamp)
	}
	a.at = sent.Add(time.Hour) // stepped forward
	if d, _ := e.rtt(p, a); d > time.Minute {
		t.Errorf("rtt %v after a clock step forward", d)
	}
	p.kernel = sent.UnixNano()
	a.at, a.now = sent.Add(time.Microsecond), sent.Add(time.Millisecond)
	if d, stamp := e.rtt(p, a); d != time.Microsecond || stamp != StampKernel {
		t.Errorf("kernel stamps: rtt %v from %v, want 1µs from kernel", d, stamp)
	}
}

func TestSeqWrap(t *testing.T) {
	tg := &target{window: make([]probe, 16)}
	for _, start := range []uint64{1, 65530, 65536, 131070} {
		tg.next = start - 1
		for i := 0; i < 10; i++ {
			tg.next++
			n := tg.next
			tg.window[(n-1)&15] = probe{n: n, state: pending}
			if p := tg.find(uint16(n)); p == nil || p.n != n {
				t.Fatalf("probe %d (seq %d) not found", n, uint16(n))
			}
		}
		// A seq from outside the window is not found.
		if p := tg.find(uint16(tg.next - 20)); p != nil {
			t.Errorf("seq %d of probe %d found in a 16-probe window at %d", uint16(tg.next-20), tg.next-20, tg.next)
		}
	}
}

func TestEngineDeadlineAndCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newFakeConn(func(uint16) answer { return answer{id: -1} })
		e, err := New(&Config{Interval: 10 * time.Millisecond, Deadline: 100 * time.Millisecond, Size: 56}, []Target{{Path: path(), Conn: c}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if st := e.Stats(0); st.Transmitted < 3 || st.Transmitted > 12 {
			t.Errorf("deadline 100ms at 10ms intervals sent %d", st.Transmitted)
		}

		e, _ = New(&Config{Interval: 10 * time.Millisecond, Size: 56}, []Target{{Path: path(), Conn: c}}, nil)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		if err := e.Run(ctx); err != nil {
			t.Errorf("Run after cancel: %v, want nil (a normal end)", err)
		}
		c.timers.Wait()
	})
}

// TestEngineLingersTwoRTTs: once every probe is sent and replies came, the
// run ends two of the longest RTTs after the last probe, not -W later, and
// what is still unanswered is counted lost, as iputils does.
func TestEngineLingersTwoRTTs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := &Config{Count: 3, Interval: 5 * time.Millisecond, Timeout: 30 * time.Second, Size: 56}
		start := time.Now()
		evs, st := run(t, cfg, newFakeConn(func(s uint16) answer { return answer{id: -1, drop: s == 2} }))
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("the run waited %v for a lost probe; -W is 30s, two RTTs are microseconds", d)
		}
		if st.Received != 2 || st.TimedOut != 1 || st.Outstanding != 0 {
			t.Errorf("%+v: want 2 received, 1 lost", st)
		}
		if diff := cmp.Diff([]string{"reply 1", "reply 3", "timeout 2"}, sortedCopy(kinds(evs))); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})
}

// TestEngineFloodOvertakesLoss: a lost probe overtaken by later replies no
// longer holds a one-in-flight flood back until its timeout.
func TestEngineFloodOvertakesLoss(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := &Config{Count: 300, Flood: true, Timeout: 30 * time.Second, Size: 56}
		start := time.Now()
		_, st := run(t, cfg, newFakeConn(func(s uint16) answer { return answer{id: -1, drop: s == 5} }))
		// At the 10ms floor alone, 295 probes after the loss would take 3s.
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("flood with one loss took %v", d)
		}
		if st.Received != 299 || st.TimedOut != 1 {
			t.Errorf("%+v: want 299 received, 1 lost", st)
		}
	})
}

func TestEngineFloodPreload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newFakeConn(func(uint16) answer { return answer{id: -1, delay: time.Millisecond, inOrder: true} })
		cfg := &Config{Count: 200, Flood: true, Preload: 4, Timeout: time.Second, Size: 56}
		evs, st := run(t, cfg, c)
		if st.Received != 200 || st.Transmitted != 200 {
			t.Fatalf("flood: %d sent, %d received", st.Transmitted, st.Received)
		}
		inFlight, most := 0, 0
		for _, ev := range evs {
			switch ev.Kind {
			case EventSent:
				inFlight++
			case EventReply:
				inFlight--
			}
			most = max(most, inFlight)
		}
		if most != 4 {
			t.Errorf("at most %d in flight with preload 4, want 4", most)
		}
		// Preload keeps 4 in flight all along, not just in the first burst:
		// replies come back four at a time and each batch is refilled to 4,
		// about 50 times in 200 probes. One send per wake-up, the old bug,
		// reached 4 only in the first burst. (Not every run of sends: the
		// receiver may take the lock between two of them.)
		inFlight, full := 0, 0
		for _, ev := range evs {
			switch ev.Kind {
			case EventSent:
				inFlight++
				if inFlight == 4 {
					full++
				}
			case EventReply:
				inFlight--
			}
		}
		if full < 25 {
			t.Errorf("4 in flight only %d times in 200 probes, want about 50", full)
		}
	})
}

func TestNewErrors(t *testing.T) {
	c := newFakeConn(nil)
	for _, tt := range []struct {
		cfg     *Config
		targets []Target
	}{
		{&Config{Count: -1}, []Target{{Path: path(), Conn: c}}},
		{nil, nil},
		{nil, []Target{{Path: path(), Conn: c}, {Path: path(), Conn: c}}},
	} {
		if _, err := New(tt.cfg, tt.targets, nil); err == nil {
			t.Errorf("New(%+v, %d targets) accepted", tt.cfg, len(tt.targets))
		}
	}
}

// TestEnginePMTUDisc: DF as iputils' sockets set it, and -M do beyond the
// path MTU answered by local errors without a send.
func TestEnginePMTUDisc(t *testing.T) {
	for _, tc := range []struct {
		name   string
		pmtu   PMTUDisc
		size   int
		sent   int
		df     bool
		errors int
	}{
		{"want fits", 0, 1472, 2, true, 0},
		{"want beyond", PMTUDiscWant, 1473, 2, false, 0},
		{"dont", PMTUDiscDont, 56, 2, false, 0},
		{"do fits", PMTUDiscDo, 1472, 2, true, 0},
		{"do beyond", PMTUDiscDo, 1473, 0, false, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newFakeConn(func(uint16) answer { return answer{id: -1} })
			p := path()
			p.MTU = 1500
			cfg := fast(2)
			cfg.Size, cfg.PMTUDisc = tc.size, tc.pmtu
			var local []int
			e, err := New(cfg, []Target{{Path: p, Conn: c}}, func(ev *Event) {
				if ev.Kind == EventLocalError {
					local = append(local, ev.MTU)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			c.stop()
			if len(c.sent) != tc.sent {
				t.Fatalf("%d probes sent, want %d", len(c.sent), tc.sent)
			}
			for _, s := range c.sent {
				if s.DontFragment != tc.df {
					t.Errorf("seq %d: DF %v, want %v", s.Seq, s.DontFragment, tc.df)
				}
			}
			st := e.Stats(0)
			if st.Transmitted != 2 || st.Errors != tc.errors || st.Received != tc.sent || st.Outstanding != 0 {
				t.Errorf("stats %+v: want 2 transmitted, %d received, %d errors", st, tc.sent, tc.errors)
			}
			if want := slicesRepeat(1500, tc.errors); !cmp.Equal(local, want) {
				t.Errorf("local errors with MTUs %v, want %v", local, want)
			}
		})
	}
}

func slicesRepeat(v, n int) []int {
	var out []int
	for range n {
		out = append(out, v)
	}
	return out
}

// TestStatsSpan: iputils' summary time runs from the first probe sent to
// the latest, whatever came after.
func TestStatsSpan(t *testing.T) {
	var s Stats
	if s.Span() != 0 {
		t.Errorf("no probe: span %v", s.Span())
	}
	t0 := time.Unix(1e9, 0)
	for i := range 3 {
		s.sent(t0.Add(time.Duration(i) * 200 * time.Millisecond))
	}
	if got := s.Span(); got != 400*time.Millisecond {
		t.Errorf("span %v, want 400ms", got)
	}
}

// TestEngineForgedReplies: a forger that answers each probe with the data
// of the one before (all it could have seen) gets nothing counted at any
// size that carries an authenticator; below that, nothing tells its
// replies from real ones, as documented.
func TestEngineForgedReplies(t *testing.T) {
	for _, size := range []int{0, 4, 7, 8, 9, 12, 15, 16, 17, 56, 1472} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cfg := fast(5)
				cfg.Size = size
				evs, st := run(t, cfg, newFakeConn(func(s uint16) answer { return answer{id: -1, replay: s > 1} }))
				want := Stats{Transmitted: 5, Received: 1, TimedOut: 4}
				if size < craft.AuthLen {
					want = Stats{Transmitted: 5, Received: 5}
				}
				if st.Transmitted != want.Transmitted || st.Received != want.Received || st.TimedOut != want.TimedOut ||
					st.Corrupted != 0 || st.Duplicates != 0 {
					t.Errorf("stats %+v, want %+v; events %v", st, want, kinds(evs))
				}
			})
		})
	}
}
