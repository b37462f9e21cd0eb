//go:build linux

package ping

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/gopacket"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/resolve"
)

// fuzzSizes are the probe sizes FuzzMatch picks from: none, no room for an
// authenticator, authenticator only, authenticator and send time, and
// fragmented.
var fuzzSizes = [...]int{0, 7, 8, 12, 16, 56, 2000}

// fuzzProbes is how many probes FuzzMatch sends before the frames come.
const fuzzProbes = 4

// fuzzSep separates the frames of one FuzzMatch input.
var fuzzSep = []byte("\xfe\xfe\xfe")

// fuzzKey is FuzzMatch's run key: fixed, so that seeds hold real replies.
var fuzzKey = craft.Key{'f', 'u', 'z', 'z'}

// fuzzRun is an engine that sent fuzzProbes probes of size bytes to them
// (lost on the way), and the ring receive path frames go through, without
// a ring: what accept does to a frame is all it needs.
type fuzzRun struct {
	e    *Engine
	fc   *fakeConn
	ring *ringConn
	evs  []Event
}

func newFuzzRun(t testing.TB, size int) *fuzzRun {
	fr := &fuzzRun{fc: newFakeConn(func(uint16) answer { return answer{drop: true} })}
	cfg := &Config{Count: 100, Interval: time.Second, Timeout: time.Minute, Size: size, Key: fuzzKey, PMTUDisc: PMTUDiscDont}
	p := &resolve.Path{Target: them, Source: us, Interface: "eth0", Index: 2, MTU: 1500}
	e, err := New(cfg, []Target{{Path: p, Conn: fr.fc}}, func(ev *Event) { fr.evs = append(fr.evs, *ev) })
	if err != nil {
		t.Fatal(err)
	}
	fr.e = e
	// A fixed clock: the send time in the data, and so the authenticator,
	// is the same in every run, so that seeds hold real replies.
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	e.now = func() time.Time { return at }
	dec, _ := craft.NewDecoder(craft.LinkTypeRaw)
	whole, _ := craft.NewDecoder(craft.LinkTypeRaw)
	fr.ring = &ringConn{mode: ModeIP, id: fr.fc.ID(), dec: dec, whole: whole, frame: make([]byte, 0, 1<<16)}
	fr.ring.path.src, fr.ring.path.dst = us, them
	e.start = e.now()
	e.mu.Lock()
	for range fuzzProbes {
		e.send(e.targets[0], e.now())
	}
	e.mu.Unlock()
	return fr
}

// deliver passes frame through the ring's receive checks to the engine, and
// returns the data of what reached it (nil: nothing).
func (fr *fuzzRun) deliver(frame []byte) []byte {
	var r Received
	fr.ring.frame = append(fr.ring.frame[:0], frame...)
	if !fr.ring.accept(&r, time.Now(), len(frame)) {
		return nil
	}
	r.From = r.Packet.Src
	data := bytes.Clone(r.Packet.Payload)
	if r.Packet.Class == craft.ClassError {
		data = bytes.Clone(r.Packet.QuoteData)
	}
	fr.e.handle(fr.fc, &r)
	return data
}

// sentData is the data of probe seq as it was sent.
func (fr *fuzzRun) sentData(seq uint16) []byte {
	fr.fc.mu.Lock()
	defer fr.fc.mu.Unlock()
	for _, e := range fr.fc.sent {
		if e.Seq == seq {
			return e.Payload
		}
	}
	return nil
}

// FuzzMatch feeds arbitrary frames to the ring's receive path and the
// engine's matching, after a run of probes that all got lost, and checks
// the accounting: a seq never sent is never answered, no probe is received
// twice (more replies are duplicates), the counters add up, and no reply
// counts unless it carries the authenticator of the probe it answers
// (from 8 bytes of data on: below that nothing can tell).
func FuzzMatch(f *testing.F) {
	for sel, size := range fuzzSizes {
		fr := newFuzzRun(f, size)
		f.Add(bytes.Join(fuzzFrames(f, fr), fuzzSep), uint8(sel))
	}
	f.Fuzz(func(t *testing.T, in []byte, sel uint8) {
		size := fuzzSizes[int(sel)%len(fuzzSizes)]
		fr := newFuzzRun(t, size)
		replies := map[uint16]int{}
		for _, frame := range bytes.Split(in, fuzzSep) {
			n := len(fr.evs)
			data := fr.deliver(frame)
			for _, ev := range fr.evs[n:] {
				switch ev.Kind {
				case EventReply, EventDuplicate, EventLate, EventCorrupted, EventBadChecksum, EventICMPError:
					if ev.Seq == 0 || ev.Seq > fuzzProbes {
						t.Fatalf("%v for seq %d, never sent", ev.Kind, ev.Seq)
					}
				}
				if ev.Kind == EventReply || ev.Kind == EventICMPError && len(data) >= craft.AuthLen {
					replies[ev.Seq]++
					want := fr.sentData(ev.Seq)
					if size >= craft.AuthLen && (len(data) < craft.AuthLen || !bytes.Equal(data[:craft.AuthLen], want[:craft.AuthLen])) {
						t.Fatalf("%v for seq %d counted without its authenticator: %x, sent %x", ev.Kind, ev.Seq, data, want)
					}
				}
				if ev.Kind == EventReply && replies[ev.Seq] > 1 {
					t.Fatalf("seq %d received twice", ev.Seq)
				}
			}
			st := fr.e.Stats(0)
			if st.Transmitted != st.Received+st.TimedOut+st.Outstanding || st.Received > st.Transmitted || st.Transmitted != fuzzProbes {
				t.Fatalf("counters do not add up: %+v", st)
			}
		}
	})
}

// fuzzFrames builds, for the run fr, a real reply to seq 1, forgeries of
// seqs 2 and 3 (seq 1's body), replies to seq 4 the IP layer refuses (bad
// header checksum, total length beyond the frame, a first fragment alone)
// or with a bad ICMP checksum, and time exceeded quoting seq 2 with a
// wrong source.
func fuzzFrames(t testing.TB, fr *fuzzRun) [][]byte {
	var frames [][]byte
	reply := func(seq uint16, data []byte) []byte {
		e := craft.Echo{Reply: true, ID: fr.fc.ID(), Seq: seq, Src: them, Dst: us, TTL: 63, Payload: data}
		buf := gopacket.NewSerializeBuffer()
		if err := e.Serialize(buf, craft.DepthIP); err != nil {
			t.Fatal(err)
		}
		pkt := bytes.Clone(buf.Bytes())
		out, err := craft.Fragment(pkt, craft.DepthIP, 1500, uint32(seq), nil)
		if err != nil {
			t.Fatal(err)
		}
		return bytes.Join(out, fuzzSep)
	}
	one := fr.sentData(1)
	frames = append(frames, reply(1, one), reply(2, one), reply(3, one))
	four := reply(4, fr.sentData(4))
	if bytes.Contains(four, fuzzSep) {
		four = four[:bytes.Index(four, fuzzSep)] // its first fragment alone
	}
	badIP := bytes.Clone(four)
	badIP[10] ^= 0x55
	long := bytes.Clone(four)
	binary.BigEndian.PutUint16(long[2:], uint16(len(long)+8))
	badICMP := bytes.Clone(four)
	badICMP[22] ^= 0xff
	frames = append(frames, badIP, long, badICMP)
	probe := craft.Echo{ID: fr.fc.ID(), Seq: 2, Src: other, Dst: them, Payload: fr.sentData(2)}
	buf := gopacket.NewSerializeBuffer()
	if err := probe.Serialize(buf, craft.DepthIP); err != nil {
		t.Fatal(err)
	}
	q := buf.Bytes()
	frames = append(frames, timeExceeded(bytes.Clone(q[:min(len(q), 28+craft.AuthLen)])))
	return frames
}

// TestMatchForgedFrames: FuzzMatch's seeds, with what each must come to.
// The real reply to seq 1 counts at every size (put together from its
// fragments at 2000); seq 1's body under seqs 2 and 3 counts only where no
// authenticator fits; what the IP layer refuses never reaches the engine;
// a bad ICMP checksum is reported apart; an error quoting another source is
// not ours.
func TestMatchForgedFrames(t *testing.T) {
	for _, size := range fuzzSizes {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			fr := newFuzzRun(t, size)
			frames := fuzzFrames(t, fr)
			for _, f := range frames {
				for _, part := range bytes.Split(f, fuzzSep) {
					fr.deliver(part)
				}
			}
			var got []string
			for _, ev := range fr.evs {
				if ev.Kind != EventSent {
					got = append(got, ev.Kind.String()+" "+itoa(ev.Seq))
				}
			}
			want := []string{"reply 1", "bad_checksum 4"}
			switch {
			case size < craft.AuthLen:
				want = []string{"reply 1", "reply 2", "reply 3", "bad_checksum 4"}
			case size > 1500:
				want = want[:1] // seq 4's first fragment alone never completes
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}
