package ping

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/pingcraft/pingcraft/capture"
	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/lab"
	"github.com/pingcraft/pingcraft/lab/labtest"
	"github.com/pingcraft/pingcraft/resolve"
)

const ringTestID = 0x5043

// ringFrame builds a test frame: an Ethernet frame, or with raw set the IP
// packet alone, around the IP packet ip.
func ringFrame(t *testing.T, raw bool, ip []byte) []byte {
	t.Helper()
	if raw {
		return ip
	}
	typ := layers.EthernetTypeIPv4
	if ip[0]>>4 == 6 {
		typ = layers.EthernetTypeIPv6
	}
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: typ}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{}, eth, gopacket.Payload(ip)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ringEcho is an echo request (or reply) as an IP packet.
func ringEcho(t *testing.T, six, reply bool, id uint16, size int) []byte {
	t.Helper()
	e := craft.Echo{Reply: reply, ID: id, Seq: 7, Src: netip.MustParseAddr("198.18.0.2"), Dst: netip.MustParseAddr("198.18.1.2"), Payload: make([]byte, size)}
	if six {
		e.Src, e.Dst = netip.MustParseAddr("fd00:198:18::2"), netip.MustParseAddr("fd00:198:18:1::2")
	}
	buf := gopacket.NewSerializeBuffer()
	if err := e.Serialize(buf, craft.DepthIP); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// ringICMPError is an ICMP error of the given type quoting the IP packet q.
func ringICMPError(t *testing.T, six bool, typ uint8, q []byte) []byte {
	t.Helper()
	q = q[:min(len(q), 28)]
	var ls []gopacket.SerializableLayer
	if six {
		ip := &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolICMPv6, HopLimit: 64,
			SrcIP: net.ParseIP("fd00:198:18::1"), DstIP: net.ParseIP("fd00:198:18::2")}
		ls = []gopacket.SerializableLayer{ip, &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(typ, 0)},
			gopacket.Payload(append(make([]byte, 4), q...))}
	} else {
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolICMPv4,
			SrcIP: net.IP{198, 18, 0, 1}, DstIP: net.IP{198, 18, 0, 2}}
		ls = []gopacket.SerializableLayer{ip, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, 0)}, gopacket.Payload(q)}
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// ringFragment makes the IP packet ip a fragment at offset (bytes). For
// IPv6 it inserts a fragment header; the payload is left as it was, so a
// later fragment still looks like an echo to a filter that ignores offsets.
func ringFragment(ip []byte, offset int) []byte {
	if ip[0]>>4 == 4 {
		f := append([]byte(nil), ip...)
		binary.BigEndian.PutUint16(f[6:], 0x2000|uint16(offset/8)) // MF
		return f
	}
	f := append([]byte(nil), ip[:40]...)
	f = append(f, ip[6], 0, 0, 0, 0, 0, 0, 1)
	binary.BigEndian.PutUint16(f[42:], uint16(offset/8)<<3|1) // M
	f[6] = 44
	binary.BigEndian.PutUint16(f[4:], binary.BigEndian.Uint16(ip[4:])+8)
	return append(f, ip[40:]...)
}

// ringFilterCase is a packet and whether the ring's filter must pass it.
type ringFilterCase struct {
	name string
	ip   []byte
	pass bool
}

// ringFilterCases are the packets the ring's filter must pass and those it
// must not, for one family.
func ringFilterCases(t *testing.T, six bool) []ringFilterCase {
	var unreach, timx, redirect uint8 = layers.ICMPv4TypeDestinationUnreachable, layers.ICMPv4TypeTimeExceeded, layers.ICMPv4TypeRedirect
	if six {
		unreach, timx, redirect = layers.ICMPv6TypeDestinationUnreachable, layers.ICMPv6TypeTimeExceeded, layers.ICMPv6TypeRedirect
	}
	probe := ringEcho(t, six, false, ringTestID, 56)
	tests := []ringFilterCase{
		{"our request", probe, true},
		{"our reply", ringEcho(t, six, true, ringTestID, 56), true},
		{"our empty reply", ringEcho(t, six, true, ringTestID, 0), true},
		{"another id's reply", ringEcho(t, six, true, ringTestID+1, 56), false},
		{"another id's request", ringEcho(t, six, false, ringTestID^0xff00, 56), false},
		{"unreachable", ringICMPError(t, six, unreach, probe), true},
		{"time exceeded", ringICMPError(t, six, timx, probe), true},
		{"redirect", ringICMPError(t, six, redirect, probe), !six}, // NDP in IPv6
		{"first fragment of our reply", ringFragment(ringEcho(t, six, true, ringTestID, 2000), 0), true},
		// Later fragments carry no ICMP header to match on: all pass, for
		// the reassembler (the kernel's IP layer sees them all too).
		{"later fragment", ringFragment(ringEcho(t, six, true, ringTestID, 2000), 1480), true},
		{"later fragment of another id's reply", ringFragment(ringEcho(t, six, true, ringTestID+1, 2000), 1480), true},
	}
	if six {
		return append(tests, ringFilterCase{"neighbour solicitation", ringICMPError(t, six, layers.ICMPv6TypeNeighborSolicitation, nil), false})
	}
	return append(tests, ringFilterCase{"udp", ringUDP4(t), false})
}

// TestRingFilter runs the ring's kernel filter in the BPF VM over the
// frames it must pass and those it must not, on both link types.
func TestRingFilter(t *testing.T) {
	for _, six := range []bool{false, true} {
		for _, link := range []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeRaw} {
			raw := link == layers.LinkTypeRaw
			prog, err := ringProgram(six, raw, ringTestID, capture.DefaultSnaplen)
			if err != nil {
				t.Fatal(err)
			}
			insns, _ := bpf.Disassemble(prog)
			vm, err := bpf.NewVM(insns)
			if err != nil {
				t.Fatal(err)
			}
			for _, tt := range ringFilterCases(t, six) {
				t.Run(fmt.Sprintf("v6=%v/%s/%s", six, link, tt.name), func(t *testing.T) {
					frame := ringFrame(t, raw, tt.ip)
					n, err := vm.Run(frame)
					if err != nil {
						t.Fatal(err)
					}
					if got := n > 0; got != tt.pass {
						t.Errorf("filter passes %x: %v, want %v", frame, got, tt.pass)
					}
					if tt.pass && n != capture.DefaultSnaplen {
						t.Errorf("filter keeps %d bytes, want %d", n, capture.DefaultSnaplen)
					}
				})
			}
		}
	}
}

func ringUDP4(t *testing.T) []byte {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IP{198, 18, 0, 2}, DstIP: net.IP{198, 18, 1, 2}}
	u := &layers.UDP{SrcPort: 0x5043, DstPort: 9} // ports where an echo's id would be
	u.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, ip, u, gopacket.Payload(make([]byte, 8))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ringReceive receives until match accepts a packet or the deadline passes,
// and returns every packet it saw, copied.
func ringReceive(c Conn, d time.Duration, match func(*Received) bool) ([]Received, error) {
	var seen []Received
	if err := c.SetReceiveDeadline(time.Now().Add(d)); err != nil {
		return nil, err
	}
	for {
		var r Received
		err := c.Receive(&r)
		if err != nil {
			return seen, err
		}
		r.Packet.Payload = append([]byte(nil), r.Packet.Payload...)
		r.Packet.SrcMAC, r.Packet.DstMAC = nil, nil
		seen = append(seen, r)
		if match(&r) {
			return seen, nil
		}
	}
}

func ringOpen(t *testing.T, n *lab.Node, target netip.Addr, mode Mode, id uint16) (*resolve.Path, *ringConn) {
	t.Helper()
	return ringOpenWith(t, n, target, mode, id, false)
}

// ringOpenWith is ringOpen, or with direct set openDirectConn: no ring.
func ringOpenWith(t *testing.T, n *lab.Node, target netip.Addr, mode Mode, id uint16, direct bool) (*resolve.Path, *ringConn) {
	t.Helper()
	var p *resolve.Path
	var c *ringConn
	err := n.Do(func() error {
		var err error
		p, err = resolve.New().Resolve(context.Background(), target.String(), nil)
		if err != nil {
			return err
		}
		if direct {
			c, err = openDirectConn(p, mode, id)
		} else {
			c, err = openRingConn(p, mode, id, 0, 0)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return p, c
}

// ringProbe sends one echo and receives until its reply (or, with kind
// set, an ICMP error of that kind quoting it) arrives.
func ringProbe(t *testing.T, c *ringConn, e *craft.Echo, kind craft.ErrorKind) (sent time.Time, out, got *Received) {
	t.Helper()
	sent, err := c.Send(e)
	if err != nil {
		t.Fatal(err)
	}
	seen, err := ringReceive(c, 3*time.Second, func(r *Received) bool {
		p := &r.Packet
		if kind != 0 {
			return p.Class == craft.ClassError && p.Error.Kind == kind && p.Error.Quote.Seq == e.Seq
		}
		return p.Class == craft.ClassEchoReply && p.Seq == e.Seq
	})
	if err != nil {
		t.Fatalf("waiting for the answer to seq %d: %v (saw %d packets)", e.Seq, err, len(seen))
	}
	got = &seen[len(seen)-1]
	for i := range seen {
		if r := &seen[i]; r.Outgoing && r.Packet.Seq == e.Seq {
			out = r
		}
	}
	return sent, out, got
}

// TestRingTransports runs each ring transport with its ring and, direct,
// without one (a short run's: frames come back on the send socket).
func TestRingTransports(t *testing.T) {
	for _, tc := range []struct {
		mode   Mode
		six    bool
		direct bool
	}{
		{ModeEthernet, false, false}, {ModeEthernet, true, false}, {ModeIP, false, false}, {ModeIP, true, false},
		{ModeEthernet, false, true}, {ModeEthernet, true, true}, {ModeIP, false, true}, {ModeIP, true, true},
	} {
		mode, six, direct := tc.mode, tc.six, tc.direct
		t.Run(fmt.Sprintf("%v/v6=%v/direct=%v", mode, six, direct), func(t *testing.T) {
			t.Parallel()
			l := labtest.NewPrefixed(t, "ri-")
			target, router, unreach := l.Target4, l.Router4, l.Unreachable4.Addr().Next()
			if six {
				target, router, unreach = l.Target6, l.Router6, l.Unreachable6.Addr().Next()
			}
			p, c := ringOpenWith(t, l.Host, target, mode, ringTestID, direct)
			if (c.direct != nil) != direct || (c.ring != nil) == direct {
				t.Fatalf("direct %v: opened with ring %v, direct receive %v", direct, c.ring != nil, c.direct != nil)
			}
			if c.Mode() != mode {
				t.Errorf("Mode() = %v", c.Mode())
			}
			if id := c.ID(); id != ringTestID {
				t.Errorf("ID() = %d, want the id it was opened with, %d", id, ringTestID)
			}
			payload := craft.Payload{Size: 56, Auth: craft.NewAuthenticator(craft.Key{1, 2, 3, 4, 5, 6, 7, 8})}
			pr := &craft.Probe{ID: ringTestID, N: 1, Dst: target, Sent: time.Now()}
			data := payload.Append(nil, pr)

			t.Run("reply", func(t *testing.T) {
				e := &craft.Echo{ID: ringTestID, Seq: 1, Payload: data}
				sent, out, reply := ringProbe(t, c, e, 0)
				// TPACKET_V3 hands a block over when it retires: the
				// block timeout is the price of the ring.
				late := time.Since(reply.At)
				if late > 20*capture.DefaultBlockTimeout {
					t.Errorf("Receive returned the reply %v after the kernel stamped it; the block timeout is %v", late, capture.DefaultBlockTimeout)
				}
				if e.Src.IsValid() || e.DstMAC != nil {
					t.Errorf("Send modified the caller's echo: %+v", e)
				}
				if out == nil {
					t.Fatal("our request was not seen leaving")
				}
				op := &out.Packet
				if op.Class != craft.ClassEchoRequest || op.ID != ringTestID || op.Src != p.Source || op.Dst != target ||
					out.From != p.Source || out.Stamp != StampKernel || out.Bytes != 64 || out.TTL != craft.DefaultTTL {
					t.Errorf("outgoing = %+v", out)
				}
				if out.At.Before(sent) {
					t.Errorf("request stamped %v by the kernel, before Send's %v", out.At, sent)
				}
				rp := &reply.Packet
				if rp.ID != ringTestID || rp.Seq != 1 || reply.From != target || !reply.HasTTL || reply.TTL != 63 ||
					reply.Stamp != StampKernel || reply.Bytes != 64 || reply.Outgoing {
					t.Errorf("reply = %+v", reply)
				}
				if bad := payload.Check(rp.Payload, pr); bad >= 0 {
					t.Errorf("reply payload differs at byte %d: %x", bad, rp.Payload)
				}
				if !reply.At.After(out.At) {
					t.Errorf("reply stamped %v, request %v", reply.At, out.At)
				}
				t.Logf("kernel RTT %v, user-space RTT %v; Receive returned the reply %v after its kernel stamp", reply.At.Sub(out.At), reply.At.Sub(sent), late)
			})

			t.Run("ttl 1", func(t *testing.T) {
				e := &craft.Echo{ID: ringTestID, Seq: 2, TTL: 1, Payload: data}
				_, _, r := ringProbe(t, c, e, craft.ErrTimeExceeded)
				q := &r.Packet.Error.Quote
				if r.From != router || q.ID != ringTestID || q.Dst != target || q.Src != p.Source || r.Stamp != StampKernel {
					t.Errorf("time exceeded = %+v", r)
				}
			})

			t.Run("unreachable", func(t *testing.T) {
				// Another id, or c's ring would see the error too.
				const id = ringTestID + 2
				up, uc := ringOpenWith(t, l.Host, unreach, mode, id, direct)
				// IPv4 unreachables are rate limited host-wide (see
				// package lab): give the token bucket a second chance.
				var r *Received
				for seq := uint16(1); r == nil && seq <= 3; seq++ {
					if _, err := uc.Send(&craft.Echo{ID: id, Seq: seq, Payload: data}); err != nil {
						t.Fatal(err)
					}
					seen, err := ringReceive(uc, 1500*time.Millisecond, func(r *Received) bool {
						return r.Packet.Class == craft.ClassError && r.Packet.Error.Kind == craft.ErrUnreachable
					})
					if err == nil {
						r = &seen[len(seen)-1]
					} else if !errors.Is(err, os.ErrDeadlineExceeded) {
						t.Fatal(err)
					}
				}
				if r == nil {
					t.Fatal("no destination unreachable from the router")
				}
				if q := &r.Packet.Error.Quote; r.From != router || q.Dst != up.Target || q.ID != id {
					t.Errorf("unreachable = %+v", r)
				}
				if d, err := uc.Drops(); d != 0 || err != nil {
					t.Errorf("Drops() = %d, %v", d, err)
				}
			})

			t.Run("deadline", func(t *testing.T) {
				const wait = 50 * time.Millisecond
				start := time.Now()
				seen, err := ringReceive(c, wait, func(*Received) bool { return true })
				if !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatalf("Receive with nothing sent: %v after %d packets, want os.ErrDeadlineExceeded", err, len(seen))
				}
				if took := time.Since(start); took < wait || took > wait+ringPoll+50*time.Millisecond {
					t.Errorf("a %v deadline expired after %v", wait, took)
				}
			})

			t.Run("another id", func(t *testing.T) {
				const other = ringTestID + 1
				_, oc := ringOpenWith(t, l.Host, target, mode, other, direct)
				_, _, r := ringProbe(t, oc, &craft.Echo{ID: other, Seq: 9, Payload: data}, 0)
				if r.Packet.ID != other {
					t.Fatalf("second conn received %+v", r)
				}
				seen, err := ringReceive(c, 200*time.Millisecond, func(*Received) bool { return true })
				if !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Errorf("conn for id %#x received %+v (%v), meant for id %#x", ringTestID, seen, err, other)
				}
			})

			t.Run("concurrent", func(t *testing.T) {
				// Send and Receive on two goroutines, as the engine does.
				const n = 50
				type result struct{ out, replies int }
				done := make(chan result, 1)
				go func() {
					var res result
					ringReceive(c, 3*time.Second, func(r *Received) bool {
						if r.Packet.Seq >= 100 {
							if r.Outgoing {
								res.out++
							} else if r.Packet.Class == craft.ClassEchoReply {
								res.replies++
							}
						}
						return res.replies == n
					})
					done <- res
				}()
				for seq := uint16(100); seq < 100+n; seq++ {
					if _, err := c.Send(&craft.Echo{ID: ringTestID, Seq: seq, Payload: data}); err != nil {
						t.Fatal(err)
					}
					time.Sleep(time.Millisecond)
				}
				if res := <-done; res.out != n || res.replies != n {
					t.Errorf("saw %d of %d requests leave and %d replies", res.out, n, res.replies)
				}
			})

			if d, err := c.Drops(); d != 0 || err != nil {
				t.Errorf("Drops() = %d, %v", d, err)
			}
		})
	}
}

// TestRingClose closes a conn under a blocked Receive, with its ring and
// without one.
func TestRingClose(t *testing.T) {
	l := labtest.NewPrefixed(t, "ri-")
	for _, direct := range []bool{false, true} {
		t.Run(fmt.Sprintf("direct=%v", direct), func(t *testing.T) {
			_, c := ringOpenWith(t, l.Host, l.Target4, ModeEthernet, ringTestID, direct)
			var r Received
			labtest.CloseUnblocks(t, func() error { return c.Receive(&r) }, c.Close, 3*ringPoll, ringPoll+50*time.Millisecond)
			if _, err := c.Send(&craft.Echo{ID: ringTestID, Seq: 1}); !errors.Is(err, net.ErrClosed) {
				t.Errorf("Send after Close: %v, want net.ErrClosed", err)
			}
		})
	}
}

// TestRingErrors checks that the errors callers act on can be told apart:
// no CAP_NET_RAW (Open falls back to the ping socket on it) and a link that
// went down under the conn.
func TestRingErrors(t *testing.T) {
	l := labtest.New(t)
	p, c := ringOpen(t, l.Host, l.Target4, ModeEthernet, ringTestID)

	t.Run("no CAP_NET_RAW", func(t *testing.T) {
		errc := make(chan error, 1)
		go func() {
			// Capabilities are per thread: drop CAP_NET_RAW on this
			// one, inside the host namespace, and let the thread die
			// with the goroutine (no UnlockOSThread).
			runtime.LockOSThread()
			ns, err := netns.GetFromName(l.Host.Name)
			if err == nil {
				err = netns.Set(ns)
				ns.Close()
			}
			hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
			var data [2]unix.CapUserData
			if err == nil {
				err = unix.Capget(&hdr, &data[0])
			}
			if err == nil {
				data[0].Effective &^= 1 << unix.CAP_NET_RAW
				err = unix.Capset(&hdr, &data[0])
			}
			if err != nil {
				errc <- fmt.Errorf("setting up the thread: %w", err)
				return
			}
			for _, mode := range []Mode{ModeEthernet, ModeIP} {
				c, err := openRingConn(p, mode, ringTestID, 0, 0)
				if err == nil {
					c.Close()
					err = fmt.Errorf("%v opened", mode)
				}
				if !errors.Is(err, os.ErrPermission) {
					errc <- fmt.Errorf("%v without CAP_NET_RAW: %w, want os.ErrPermission", mode, err)
					return
				}
			}
			errc <- nil
		}()
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	})

	t.Run("interface down", func(t *testing.T) {
		ip := func(args ...string) {
			if out, err := l.Host.Command(t.Context(), "ip", args...).CombinedOutput(); err != nil {
				t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
		ip("link", "set", l.HostLink, "down")
		_, err := c.Send(&craft.Echo{ID: ringTestID, Seq: 1})
		var op *net.OpError
		if !errors.Is(err, unix.ENETDOWN) || !errors.As(err, &op) {
			t.Errorf("Send with %s down: %v, want a *net.OpError wrapping ENETDOWN", l.HostLink, err)
		}
		_, err = ringReceive(c, time.Second, func(*Received) bool { return true })
		if !errors.Is(err, unix.ENETDOWN) {
			t.Errorf("Receive with %s down: %v, want ENETDOWN", l.HostLink, err)
		}
		// Reported once: the conn works again once the link is back,
		// which the kernel finishes asynchronously (linkwatch).
		ip("link", "set", l.HostLink, "up")
		ip("route", "add", "default", "via", l.Router4.String())
		for end := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			_, err := c.Send(&craft.Echo{ID: ringTestID, Seq: 2, Payload: make([]byte, 56)})
			if err == nil {
				break
			}
			if !errors.Is(err, unix.ENETDOWN) || time.Now().After(end) {
				t.Fatal(err)
			}
		}
		seen, err := ringReceive(c, 2*time.Second, func(r *Received) bool { return r.Packet.Class == craft.ClassEchoReply })
		if err != nil {
			t.Fatalf("no reply once %s was back up: %v (saw %d packets)", l.HostLink, err, len(seen))
		}
	})
}

// TestRingTun runs the ip transport over a tun device, a link without
// Ethernet framing, answered by the test itself.
func TestRingTun(t *testing.T) {
	l := labtest.New(t)
	const name = "pctun0"
	local4, peer4 := netip.MustParsePrefix("198.19.0.1/24"), netip.MustParseAddr("198.19.0.2")
	local6, peer6 := netip.MustParsePrefix("fd00:198:19::1/64"), netip.MustParseAddr("fd00:198:19::2")
	var tun *os.File
	err := l.Host.Do(func() error {
		fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		ifr, err := unix.NewIfreq(name)
		if err != nil {
			return err
		}
		ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
		if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
			unix.Close(fd)
			return fmt.Errorf("TUNSETIFF: %w", err)
		}
		tun = os.NewFile(uintptr(fd), "/dev/net/tun")
		link, err := netlink.LinkByName(name)
		if err != nil {
			return err
		}
		for _, p := range []netip.Prefix{local4, local6} {
			a := &netlink.Addr{IPNet: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}, Flags: unix.IFA_F_NODAD}
			if err := netlink.AddrAdd(link, a); err != nil {
				return err
			}
		}
		return netlink.LinkSetUp(link)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tun.Close()
	go ringAnswerTun(tun)

	for _, peer := range []netip.Addr{peer4, peer6} {
		t.Run(peer.String(), func(t *testing.T) {
			var p *resolve.Path
			err := l.Host.Do(func() error {
				var err error
				p, err = resolve.New().Resolve(context.Background(), peer.String(), nil)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if p.Kind != resolve.KindNone || p.Interface != name {
				t.Fatalf("path %+v, want one through %s, a link without link-layer addresses", p, name)
			}
			if _, err := openRingConn(p, ModeEthernet, ringTestID, 0, 0); err == nil {
				t.Error("ethernet mode opened on a tun device")
			}
			_, c := ringOpen(t, l.Host, peer, ModeIP, ringTestID)
			_, out, reply := ringProbe(t, c, &craft.Echo{ID: ringTestID, Seq: 1, Payload: make([]byte, 56)}, 0)
			if out == nil || out.Bytes != 64 {
				t.Errorf("outgoing = %+v", out)
			}
			if reply.From != peer || reply.TTL != craft.DefaultTTL || reply.Bytes != 64 || reply.Packet.SrcMAC != nil || !reply.At.After(out.At) {
				t.Errorf("reply = %+v", reply)
			}
			if d, err := c.Drops(); d != 0 || err != nil {
				t.Errorf("Drops() = %d, %v", d, err)
			}
		})
	}
}

// ringAnswerTun answers the echo requests the kernel sends into tun until it is
// closed.
func ringAnswerTun(tun *os.File) {
	dec, _ := craft.NewDecoder(craft.LinkTypeRaw)
	buf := gopacket.NewSerializeBuffer()
	b := make([]byte, 65536)
	var p craft.Packet
	for {
		n, err := tun.Read(b)
		if err != nil {
			return
		}
		if dec.Decode(b[:n], &p) != nil || p.Class != craft.ClassEchoRequest {
			continue
		}
		e := craft.Echo{Reply: true, ID: p.ID, Seq: p.Seq, Src: p.Dst, Dst: p.Src, Payload: p.Payload}
		if e.Serialize(buf, craft.DepthIP) == nil {
			tun.Write(buf.Bytes())
		}
	}
}
