package ping

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"golang.org/x/sys/unix"

	"github.com/pingcraft/pingcraft/lab"
	"github.com/pingcraft/pingcraft/lab/labtest"
	"github.com/pingcraft/pingcraft/resolve"
)

// truthProbes is how many probes each mode sends per b.N, one every
// truthInterval, as `ping -i 0.01` does.
const (
	truthProbes   = 200
	truthInterval = 10 * time.Millisecond
)

// BenchmarkRTTTruth measures how far each mode's RTT is from the wire's:
// tcpdump captures on the host's interface, with nanosecond stamps, while
// the mode pings the lab's target, and each reply's RTT is compared with
// the time between its request and its reply in the capture. It reports
// the median and 90th percentile of the difference (µs over the wire) and
// the wire's median RTT; iputils' ping is measured the same way beside
// it. It measures, it asserts nothing about time: run it with
//
//	lt ./ping -run '^$' -bench RTTTruth -benchtime 1x
func BenchmarkRTTTruth(b *testing.B) {
	labtest.RequireTool(b, "tcpdump", "tcpdump")
	l := labtest.NewPrefixed(b, "ts-")
	if err := openPingGroups(l.Host); err != nil {
		b.Fatal(err)
	}
	// raw-user and dgram-user are those modes without kernel send stamps,
	// timed from the user-space send time as before them.
	for _, name := range []string{"raw", "dgram", "raw-user", "dgram-user", "ethernet", "ip", "iputils"} {
		b.Run(name, func(b *testing.B) {
			n := truthProbes * b.N
			capture := startCapture(b, l.Host, l.HostLink, 2*n)
			var rtts map[uint16]time.Duration
			if name == "iputils" {
				rtts = iputilsRTTs(b, l, n)
			} else {
				m, user := strings.CutSuffix(name, "-user")
				mode, _ := ParseMode(m)
				rtts = pingcraftRTTs(b, l, mode, n, user)
			}
			wire := capture()
			var off, wireRTT []time.Duration
			for seq, rtt := range rtts {
				if w, ok := wire[seq]; ok {
					off, wireRTT = append(off, rtt-w), append(wireRTT, w)
				}
			}
			if len(off) < n*9/10 {
				b.Fatalf("%d of %d replies found in the capture", len(off), n)
			}
			b.ReportMetric(float64(quantile(off, 0.5).Nanoseconds())/1e3, "µs-over-wire")
			b.ReportMetric(float64(quantile(off, 0.9).Nanoseconds())/1e3, "µs-over-wire-p90")
			b.ReportMetric(float64(quantile(wireRTT, 0.5).Nanoseconds())/1e3, "µs-wire-rtt")
		})
	}
}

// quantile is the q quantile of ds (which it sorts).
func quantile(ds []time.Duration, q float64) time.Duration {
	slices.Sort(ds)
	return ds[int(q*float64(len(ds)-1))]
}

// startCapture runs tcpdump on link in n for count ICMP frames; the
// returned function waits for it and returns the wire RTT of each seq:
// from the request leaving to the reply coming in.
func startCapture(tb testing.TB, n *lab.Node, link string, count int) func() map[uint16]time.Duration {
	tb.Helper()
	file := filepath.Join(tb.TempDir(), "wire.pcap")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	// Not --immediate-mode: waking tcpdump for every frame, which the
	// kernel does between its tap's stamp and the driver's send stamp,
	// costs tens of µs on this VM and would be measured as the wire's.
	cmd := n.Command(ctx, "tcpdump", "-i", link, "-nn", "-U", "--time-stamp-precision=nano",
		"-c", strconv.Itoa(count), "-w", file, "icmp")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	// tcpdump says "listening on" once its socket is capturing.
	listening := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on") {
				listening <- nil
				io.Copy(io.Discard, stderr)
				return
			}
		}
		listening <- errors.New("tcpdump ended before listening")
	}()
	select {
	case err := <-listening:
		if err != nil {
			cancel()
			cmd.Wait()
			tb.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		cancel()
		cmd.Wait()
		tb.Fatal("tcpdump is not listening after 10s")
	}
	return func() map[uint16]time.Duration {
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done: // -c frames captured
		case <-time.After(5 * time.Second):
			cmd.Process.Signal(syscall.SIGINT)
			<-done
		}
		return wireRTTs(tb, file)
	}
}

// wireRTTs reads the echo requests and replies of a pcap file and returns,
// by seq, the time from each request to its first reply.
func wireRTTs(tb testing.TB, file string) map[uint16]time.Duration {
	tb.Helper()
	f, err := os.Open(file)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	// The nanosecond pcap magic, read here: gopacket 1.1.19's
	// Reader.Resolution has the two the wrong way round.
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil || binary.LittleEndian.Uint32(magic[:]) != 0xa1b23c4d {
		tb.Fatalf("capture %s is not a nanosecond pcap (magic %x, %v)", file, magic, err)
	}
	f.Seek(0, io.SeekStart)
	r, err := pcapgo.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	sent := map[uint16]time.Time{}
	rtts := map[uint16]time.Duration{}
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		pk := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.NoCopy)
		icmp, ok := pk.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4)
		if !ok {
			continue
		}
		switch icmp.TypeCode.Type() {
		case layers.ICMPv4TypeEchoRequest:
			sent[icmp.Seq] = ci.Timestamp
		case layers.ICMPv4TypeEchoReply:
			if at, ok := sent[icmp.Seq]; ok {
				if _, dup := rtts[icmp.Seq]; !dup {
					rtts[icmp.Seq] = ci.Timestamp.Sub(at)
				}
			}
		}
	}
	return rtts
}

// pingcraftRTTs runs n probes of mode from the lab's host to its target
// and returns each reply's RTT by seq; user turns a socket's send stamps
// off.
func pingcraftRTTs(tb testing.TB, l *lab.Lab, mode Mode, n int, user bool) map[uint16]time.Duration {
	tb.Helper()
	rtts := map[uint16]time.Duration{}
	err := l.Host.Do(func() error {
		cfg := &Config{Count: n, Interval: truthInterval, Timeout: time.Second, Size: 56}
		f, err := NewFleet(context.Background(), []string{l.Target4.String()}, cfg, truthFleet(mode, user))
		if err != nil {
			return err
		}
		defer f.Close()
		e, err := f.Engine(func(ev *Event) {
			if ev.Kind == EventReply {
				rtts[ev.Seq] = ev.RTT
			}
		})
		if err != nil {
			return err
		}
		return e.Run(context.Background())
	})
	if err != nil {
		tb.Fatal(err)
	}
	return rtts
}

// truthFleet is a Fleet of mode; user turns a socket's send stamps off,
// so that it is timed from the user-space send time.
func truthFleet(mode Mode, user bool) *FleetConfig {
	fc := &FleetConfig{Mode: mode}
	if user {
		fc.open = func(p *resolve.Path, m Mode, oc *OpenConfig) (Conn, Mode, error) {
			c, m, err := Open(p, m, oc)
			if s, ok := c.(*socketConn); ok {
				s.ts = nil
				s.c.SetsockoptInt(unix.SOL_SOCKET, unix.SO_TIMESTAMPING, 0)
			}
			return c, m, err
		}
	}
	return fc
}

var iputilsReply = regexp.MustCompile(`icmp_seq=(\d+) ttl=\d+ time=([0-9.]+) ms`)

// iputilsRTTs runs iputils' ping for n probes from the lab's host to its
// target and returns each reply's RTT by seq, as it prints them (µs).
func iputilsRTTs(tb testing.TB, l *lab.Lab, n int) map[uint16]time.Duration {
	tb.Helper()
	path := labtest.RequireTool(tb, "ping", "iputils-ping")
	out, err := l.Host.Command(context.Background(), path, "-n", "-c", strconv.Itoa(n),
		"-i", fmt.Sprint(truthInterval.Seconds()), l.Target4.String()).Output()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		tb.Fatal(err)
	}
	rtts := map[uint16]time.Duration{}
	for _, m := range iputilsReply.FindAllStringSubmatch(string(out), -1) {
		seq, _ := strconv.Atoi(m[1])
		ms, _ := strconv.ParseFloat(m[2], 64)
		rtts[uint16(seq)] = time.Duration(math.Round(ms * float64(time.Millisecond)))
	}
	return rtts
}

// BenchmarkSocketFlood floods the lab's target in the socket modes, with
// and without kernel send stamps (-user), and reports round trips a
// second: what reading each probe's stamp from the error queue costs.
//
//	lt ./ping -run '^$' -bench SocketFlood -benchtime 1x
func BenchmarkSocketFlood(b *testing.B) {
	l := labtest.NewPrefixed(b, "ts-")
	for _, name := range []string{"raw", "raw-user"} {
		b.Run(name, func(b *testing.B) {
			m, user := strings.CutSuffix(name, "-user")
			mode, _ := ParseMode(m)
			n := 20000 * b.N
			err := l.Host.Do(func() error {
				cfg := &Config{Count: n, Flood: true, Interval: 10 * time.Millisecond, Timeout: time.Second, Size: 56}
				f, err := NewFleet(context.Background(), []string{l.Target4.String()}, cfg, truthFleet(mode, user))
				if err != nil {
					return err
				}
				defer f.Close()
				e, err := f.Engine(nil)
				if err != nil {
					return err
				}
				start := time.Now()
				if err := e.Run(context.Background()); err != nil {
					return err
				}
				b.ReportMetric(float64(e.Stats(0).Received)/time.Since(start).Seconds(), "round-trips/s")
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		})
	}
}
