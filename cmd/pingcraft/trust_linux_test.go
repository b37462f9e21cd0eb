package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/gopacket"
	"github.com/mdlayher/packet"
	"golang.org/x/sys/unix"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/lab"
	"github.com/pingcraft/pingcraft/lab/labtest"
)

// trustModes are every mode a probe can leave in.
var trustModes = []string{"auto", "ethernet", "ip", "raw", "dgram"}

// frameResponder answers the echo requests the router sees from the host
// (through an AF_PACKET socket on the router's host link, below its IP
// layer) with frames of its own making, which reach the host as they are
// built: forged ones, broken ones. The target stays silent.
type frameResponder struct {
	l      *lab.Lab
	conn   *packet.Conn
	answer func(r *frameResponder, req *craft.Packet) [][]byte
	mu     sync.Mutex
	seen   map[uint16][]byte // the first body seen per ICMP id
	done   chan struct{}
	wg     sync.WaitGroup
}

// respondFrames silences the target's echo replies and starts a responder
// on the router, closed when the test ends.
func respondFrames(t *testing.T, l *lab.Lab, answer func(r *frameResponder, req *craft.Packet) [][]byte) *frameResponder {
	t.Helper()
	if err := l.Target.Do(func() error {
		for _, key := range []string{"net/ipv4/icmp_echo_ignore_all", "net/ipv6/icmp/echo_ignore_all"} {
			if err := os.WriteFile("/proc/sys/"+key, []byte("1"), 0o644); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	r := &frameResponder{l: l, answer: answer, seen: map[uint16][]byte{}, done: make(chan struct{})}
	if err := l.Router.Do(func() error {
		ifi, err := net.InterfaceByName(l.RouterHostLink)
		if err != nil {
			return err
		}
		r.conn, err = packet.Listen(ifi, packet.Raw, unix.ETH_P_ALL, nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	r.wg.Go(r.run)
	t.Cleanup(func() {
		close(r.done)
		r.conn.Close()
		r.wg.Wait()
	})
	return r
}

func (r *frameResponder) run() {
	dec, _ := craft.NewDecoder(craft.LinkTypeEthernet)
	whole, _ := craft.NewDecoder(craft.LinkTypeRaw)
	var defrag craft.Reassembler
	buf := make([]byte, 1<<16)
	for {
		n, _, err := r.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		var p craft.Packet
		if dec.Decode(buf[:n], &p) != nil {
			continue
		}
		macs := [2]net.HardwareAddr{append(net.HardwareAddr(nil), p.DstMAC...), append(net.HardwareAddr(nil), p.SrcMAC...)}
		if p.IsFragment() {
			dg := defrag.Add(&p, time.Now())
			if dg == nil || whole.Decode(dg, &p) != nil {
				continue
			}
			p.DstMAC, p.SrcMAC = macs[0], macs[1]
		}
		if p.Class != craft.ClassEchoRequest || (p.Dst != r.l.Target4 && p.Dst != r.l.Target6) {
			continue
		}
		for _, f := range r.answer(r, &p) {
			r.conn.WriteTo(f, &packet.Addr{HardwareAddr: macs[1]})
		}
	}
}

// reply is the frames of an echo reply to req from its destination, with
// data, fragmented over 1500 bytes as the target would send it.
func reply(req *craft.Packet, seq uint16, data []byte) [][]byte {
	e := craft.Echo{Reply: true, ID: req.ID, Seq: seq, Src: req.Dst, Dst: req.Src, TTL: 63, IPID: seq,
		SrcMAC: req.DstMAC, DstMAC: req.SrcMAC, Payload: data}
	buf := gopacket.NewSerializeBuffer()
	if err := e.Serialize(buf, craft.DepthEthernet); err != nil {
		panic(err)
	}
	frames, err := craft.Fragment(append([]byte(nil), buf.Bytes()...), craft.DepthEthernet, 1500, uint32(seq), nil)
	if err != nil {
		panic(err)
	}
	return frames
}

// forge answers the first probe of each id truly, and from then on, blind,
// answers seqs 2 to 5 every 20 ms for 3 s with that first probe's body:
// replies to probes it never received, the copy of one it did.
func forge(r *frameResponder, req *craft.Packet) [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.seen[req.ID]; ok {
		return nil
	}
	body := append([]byte(nil), req.Payload...)
	r.seen[req.ID] = body
	first := *req
	first.SrcMAC, first.DstMAC = append(net.HardwareAddr(nil), req.SrcMAC...), append(net.HardwareAddr(nil), req.DstMAC...)
	r.wg.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		stop := time.After(3 * time.Second)
		for {
			select {
			case <-r.done:
				return
			case <-stop:
				return
			case <-tick.C:
			}
			for seq := uint16(2); seq <= 5; seq++ {
				for _, f := range reply(&first, seq, body) {
					r.conn.WriteTo(f, &packet.Addr{HardwareAddr: first.SrcMAC})
				}
			}
		}
	})
	return reply(req, req.Seq, body)
}

// jsonRun is what a --json run says: the seqs of its replies, and its
// summary.
type jsonRun struct {
	replies      []int
	badChecksums []int
	received     int
}

func runJSON(t *testing.T, l *lab.Lab, bin string, args ...string) jsonRun {
	t.Helper()
	out, errs, _ := inHost(t, l, "", bin, append([]string{"send", "--json"}, args...)...)
	var r jsonRun
	for _, ln := range strings.Split(strings.TrimSpace(out), "\n") {
		var o struct {
			Event        string
			Seq          int
			Received     int
			BadChecksums int `json:"bad_checksums"`
		}
		if err := json.Unmarshal([]byte(ln), &o); err != nil {
			t.Fatalf("%v: %q (stderr %q)", err, ln, errs)
		}
		switch o.Event {
		case "reply":
			r.replies = append(r.replies, o.Seq)
		case "bad_checksum":
			r.badChecksums = append(r.badChecksums, o.Seq)
		case "summary":
			r.received = o.Received
			if o.BadChecksums != len(r.badChecksums) {
				t.Errorf("summary bad_checksums %d, %d events", o.BadChecksums, len(r.badChecksums))
			}
		}
	}
	return r
}

// TestTrustForgedReplies: a responder that answers the first probe and
// then, blind, answers the next seqs with a copy of that probe's body gets
// exactly the first reply counted, in every mode, at every size from 8 up
// (fragments included); below 8 its forgeries count, as documented.
func TestTrustForgedReplies(t *testing.T) {
	bin := pingcraftBinary(t)
	l := labtest.NewTagged(t, "tr")
	setPingGroups(t, l.Host, "0 2147483647")
	respondFrames(t, l, forge)
	for _, target := range []netip.Addr{l.Target4, l.Target6} {
		for _, size := range []int{4, 8, 12, 16, 56, 2000} {
			for _, mode := range trustModes {
				t.Run(fmt.Sprintf("%s/%d/%s", target, size, mode), func(t *testing.T) {
					t.Parallel()
					r := runJSON(t, l, bin, "--mode", mode, "-c", "4", "-i", "0.25", "-W", "1", "-s", strconv.Itoa(size), target.String())
					if size < craft.AuthLen {
						if len(r.replies) < 2 {
							t.Errorf("replies %v: the forger's copies should count below %d bytes (or the forger did not run)", r.replies, craft.AuthLen)
						}
						return
					}
					if diff := cmp.Diff([]int{1}, r.replies); diff != "" || r.received != 1 {
						t.Errorf("received %d; reply seqs (-want +got):\n%s", r.received, diff)
					}
				})
			}
		}
	}
}

// broken answers seq 1 with a good reply and each later seq with a reply
// the IP layer refuses, or with a bad ICMP checksum (seq 5).
func broken(r *frameResponder, req *craft.Packet) [][]byte {
	frames := reply(req, req.Seq, req.Payload)
	f := frames[0]
	ip := f[14:]
	fix := func() {
		binary.BigEndian.PutUint16(ip[10:], 0)
		binary.BigEndian.PutUint16(ip[10:], ^craft.Fold(craft.Sum16(0, ip[:20])))
	}
	switch req.Seq {
	case 2:
		ip[10] ^= 0x55 // IP header checksum
	case 3:
		binary.BigEndian.PutUint16(ip[2:], binary.BigEndian.Uint16(ip[2:])+64) // beyond the frame
		fix()
	case 4:
		ip[6] |= 0x20 // MF: a first fragment whose rest never comes
		fix()
	case 5:
		ip[22] ^= 0xff // ICMP checksum
	}
	return frames
}

// TestTrustRefusedFrames: replies with a bad IP header checksum, a total
// length beyond the frame or MF set never count, in any mode; one with a
// bad ICMP checksum is iputils' "(BAD CHECKSUM!)" line wherever the socket
// sees it (the rings and the raw socket: the kernel drops it before a ping
// socket), counted apart.
func TestTrustRefusedFrames(t *testing.T) {
	bin := pingcraftBinary(t)
	l := labtest.NewTagged(t, "tr")
	setPingGroups(t, l.Host, "0 2147483647")
	respondFrames(t, l, broken)
	args := []string{"-c", "5", "-i", "0.2", "-W", "1", l.Target4.String()}
	for _, mode := range trustModes {
		t.Run(mode, func(t *testing.T) {
			r := runJSON(t, l, bin, append([]string{"--mode", mode}, args...)...)
			wantBad := []int{5}
			if mode == "dgram" {
				wantBad = nil
			}
			if diff := cmp.Diff([]int{1}, r.replies); diff != "" || r.received != 1 {
				t.Errorf("received %d; reply seqs (-want +got):\n%s", r.received, diff)
			}
			if diff := cmp.Diff(wantBad, r.badChecksums); diff != "" {
				t.Errorf("bad checksum seqs (-want +got):\n%s", diff)
			}
		})
	}
	// The line and the summary, beside iputils' where it sees the reply.
	out, _, _ := inHost(t, l, "", bin, append([]string{"send", "--mode", "raw"}, args...)...)
	line := func(s string) string {
		for _, ln := range timeless(s) {
			if strings.Contains(ln, "icmp_seq=5") {
				return ln
			}
		}
		return ""
	}
	want := "64 bytes from " + l.Target4.String() + ": icmp_seq=5 ttl=63 time=X ms (BAD CHECKSUM!)"
	if got := line(out); got != want {
		t.Errorf("line %q, want %q\n%s", got, want, out)
	}
	if !strings.Contains(out, "5 packets transmitted, 1 received, +1 corrupted, 80% packet loss") {
		t.Errorf("summary:\n%s", out)
	}
	if _, err := exec.LookPath("ping"); err == nil {
		iputils, _, _ := inHost(t, l, "", "ping", args...)
		if got := line(iputils); strings.Contains(got, "BAD CHECKSUM") && got != line(out) {
			t.Errorf("iputils prints %q, pingcraft %q", got, line(out))
		} else {
			t.Logf("iputils: %q", got)
		}
	}
}

// TestTrustLargeProbes: -s 2000, over the 1500-byte MTU of every link,
// gets every reply in every mode: the ring modes send in fragments and put
// the replies' fragments together, as the kernel does for the sockets.
func TestTrustLargeProbes(t *testing.T) {
	bin := pingcraftBinary(t)
	l := labtest.NewTagged(t, "tr")
	setPingGroups(t, l.Host, "0 2147483647")
	for _, target := range []netip.Addr{l.Target4, l.Target6} {
		for _, mode := range trustModes {
			t.Run(fmt.Sprintf("%s/%s", target, mode), func(t *testing.T) {
				t.Parallel()
				out, errs, code := inHost(t, l, "", bin, "send", "--mode", mode, "-c", "3", "-i", "0.2", "-W", "1", "-s", "2000", target.String())
				if code != 0 || !strings.Contains(out, "3 packets transmitted, 3 received, 0% packet loss") ||
					!strings.Contains(out, "2008 bytes from "+target.String()) {
					t.Errorf("exit %d, stderr %q:\n%s", code, errs, out)
				}
			})
		}
	}
}
