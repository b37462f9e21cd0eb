package ping

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pingcraft/pingcraft/craft"
)

// Which clocks time an RTT: kernel stamps both ways when the send stamp
// came, the NIC's only when both ends have one, the user-space send time
// when no send stamp came (said so in SendClock).
func TestRTTEnds(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	e := &Engine{now: time.Now, start: start}
	sentAt := start.Add(time.Millisecond) // user time before the send
	type ends struct {
		RTT                         time.Duration
		Stamp, SendClock, RecvClock StampSource
	}
	for _, tc := range []struct {
		name string
		p    probe
		a    arrival
		want ends
	}{
		{"kernel both ways", probe{sent: e.off(sentAt), kernel: sentAt.Add(3 * time.Microsecond).UnixNano(), kclock: StampKernel},
			arrival{at: sentAt.Add(50 * time.Microsecond), stamp: StampKernel, now: sentAt.Add(time.Millisecond)},
			ends{47 * time.Microsecond, StampKernel, StampKernel, StampKernel}},
		{"no send stamp came", probe{sent: e.off(sentAt)},
			arrival{at: sentAt.Add(50 * time.Microsecond), stamp: StampKernel, now: sentAt.Add(time.Millisecond)},
			ends{50 * time.Microsecond, StampUser, StampUser, StampKernel}},
		{"user clock only", probe{sent: e.off(sentAt)},
			arrival{at: sentAt.Add(70 * time.Microsecond), stamp: StampUser, now: sentAt.Add(70 * time.Microsecond)},
			ends{70 * time.Microsecond, StampUser, StampUser, StampUser}},
		{"NIC both ways", probe{sent: e.off(sentAt), kernel: 5_000_000, kclock: StampHardware},
			arrival{at: sentAt.Add(50 * time.Microsecond), stamp: StampKernel, hw: time.Unix(0, 5_040_000), now: sentAt.Add(time.Millisecond)},
			ends{40 * time.Microsecond, StampHardware, StampHardware, StampHardware}},
		{"NIC send stamp, software receive stamp: not mixed", probe{sent: e.off(sentAt), kernel: 5_000_000, kclock: StampHardware},
			arrival{at: sentAt.Add(50 * time.Microsecond), stamp: StampKernel, now: sentAt.Add(time.Millisecond)},
			ends{50 * time.Microsecond, StampUser, StampUser, StampKernel}},
		{"a send stamp after the reply: clock step", probe{sent: e.off(sentAt), kernel: sentAt.Add(time.Second).UnixNano(), kclock: StampKernel},
			arrival{at: sentAt.Add(50 * time.Microsecond), stamp: StampKernel, now: sentAt.Add(time.Millisecond)},
			ends{time.Millisecond, StampUser, StampUser, StampUser}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, send, recv := e.rttEnds(&tc.p, &tc.a)
			got := ends{d, bothEnds(send, recv), send, recv}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

// A socket's send stamp (Own) names its probe by destination, id and seq
// and needs no payload; an outgoing frame without the probe's
// authenticator is not ours; a NIC's stamp replaces the kernel's.
func TestSendStampMatch(t *testing.T) {
	c := newFakeConn(func(uint16) answer { return answer{drop: true} })
	e, err := New(&Config{Count: 1, Size: 56}, []Target{{Path: path(), Conn: c}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.start = time.Now()
	tg := e.targets[0]
	tg.next = 1
	p := tg.slotOf(1)
	*p = probe{n: 1, sent: 0, payload: e.start.UnixNano(), state: pending}
	at := e.start.Add(2 * time.Microsecond)
	stamp := func(own bool, clock StampSource, at time.Time, seq uint16) *Received {
		return &Received{Outgoing: true, Own: own, At: at, Stamp: clock,
			Packet: craft.Packet{Class: craft.ClassEchoRequest, Dst: them, ID: tg.id, Seq: seq}}
	}
	e.handle(c, stamp(false, StampKernel, at, 1))
	if p.kernel != 0 {
		t.Fatalf("an outgoing frame without the authenticator set the send stamp")
	}
	e.handle(c, stamp(true, StampKernel, at, 2))
	if p.kernel != 0 {
		t.Fatalf("a stamp of another seq set the send stamp")
	}
	e.handle(c, stamp(true, StampKernel, at, 1))
	if p.kernel != at.UnixNano() || p.kclock != StampKernel {
		t.Fatalf("own stamp: kernel %d %v, want %d kernel", p.kernel, p.kclock, at.UnixNano())
	}
	e.handle(c, stamp(true, StampKernel, at.Add(time.Second), 1))
	if p.kernel != at.UnixNano() {
		t.Errorf("a second software stamp replaced the first")
	}
	hw := time.Unix(0, 123456789)
	e.handle(c, stamp(true, StampHardware, hw, 1))
	if p.kernel != hw.UnixNano() || p.kclock != StampHardware {
		t.Errorf("NIC stamp: kernel %d %v, want %d hardware", p.kernel, p.kclock, hw.UnixNano())
	}
}
