package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/pingcraft/pingcraft/capture"
	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/lab/labtest"
)

// replayFixture writes a capture of another network (198.19.0.2 pinging
// 198.19.1.2 five times, a UDP datagram to a closed port, an ARP request and
// a frame the capture cut short), as a user brings one.
func replayFixture(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "elsewhere.pcap")
	w, err := capture.CreateFile(path, capture.FileOptions{Link: craft.LinkTypeEthernet, Snaplen: 65535})
	if err != nil {
		t.Fatal(err)
	}
	src, dst := netip.MustParseAddr("198.19.0.2"), netip.MustParseAddr("198.19.1.2")
	macA, macB := net.HardwareAddr{2, 0, 0, 0, 0, 1}, net.HardwareAddr{2, 0, 0, 0, 0, 2}
	at := time.Unix(1_800_000_000, 0)
	put := func(b []byte, wire int) {
		at = at.Add(10 * time.Millisecond)
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: at, CaptureLength: len(b), Length: wire}, b); err != nil {
			t.Fatal(err)
		}
	}
	for seq := uint16(1); seq <= 5; seq++ {
		e := &craft.Echo{ID: 4242, Seq: seq, Src: src, Dst: dst, SrcMAC: macA, DstMAC: macB, Payload: []byte("captured elsewhere")}
		buf := gopacket.NewSerializeBuffer()
		if err := e.Serialize(buf, craft.DepthEthernet); err != nil {
			t.Fatal(err)
		}
		put(buf.Bytes(), len(buf.Bytes()))
	}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
	udp := &layers.UDP{SrcPort: 40000, DstPort: 33434}
	udp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		&layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4}, ip, udp, gopacket.Payload("probe"))
	udpFrame := append([]byte(nil), buf.Bytes()...)
	put(udpFrame, len(udpFrame))
	buf = gopacket.NewSerializeBuffer()
	gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true},
		&layers.Ethernet{SrcMAC: macA, DstMAC: layers.EthernetBroadcast, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4, Operation: 1,
			SourceHwAddress: macA, SourceProtAddress: src.AsSlice(), DstHwAddress: make([]byte, 6), DstProtAddress: dst.AsSlice()})
	put(buf.Bytes(), len(buf.Bytes()))
	put(udpFrame[:30], len(udpFrame))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReplay: a capture of another network, its addresses mapped into the
// lab, goes out of the host with the next hop's MAC: every echo is
// answered, the UDP datagram gets port unreachable, the ARP request and the
// frame cut short are skipped and said; on the target tcpdump -vv finds
// every checksum right. With the captured MACs nothing is answered, and
// replay says why.
func TestReplay(t *testing.T) {
	tcpdump := labtest.RequireTool(t, "tcpdump", "tcpdump")
	bin := pingcraftBinary(t)
	l := labtest.New(t)
	file := replayFixture(t)
	args := []string{"replay", "-i", l.HostLink, "--map", "198.19.0.0/16=198.18.0.0/16", "--match", "--json", file}

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var seen strings.Builder
	dump := l.Target.Command(ctx, tcpdump, "-nvv", "-l", "-i", l.TargetLink, "-c", "6", "icmp[icmptype] == icmp-echo or udp")
	dump.Stdout = &seen
	wait := started(t, dump, "listening on")
	out, err := l.Host.Command(ctx, bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("replay: %v\n%s", err, out)
	}
	if stderr, err := wait(); err != nil {
		t.Fatalf("tcpdump on the target: %v\n%s\n%s", err, stderr, seen.String())
	}
	answers := map[string]int{}
	var summary map[string]any
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("not JSON: %q", sc.Text())
		}
		switch {
		case line["event"] == "summary":
			summary = line
		case line["skipped"] != nil:
			answers["skipped"]++
		default:
			answers[line["answer"].(string)]++
			if line["answer"] == "error" && line["from"] != l.Target4.String() {
				t.Errorf("the port unreachable came from %v", line["from"])
			}
		}
	}
	if answers["reply"] != 5 || answers["error"] != 1 || answers["skipped"] != 2 || len(answers) != 3 {
		t.Errorf("answers %v, want 5 replies, 1 error, 2 skipped:\n%s", answers, out)
	}
	if summary["sent"] != 6.0 || summary["answered"] != 6.0 {
		t.Errorf("summary %v", summary)
	}
	text := seen.String()
	if strings.Count(text, "    198.18.0.2") != 6 || strings.Contains(text, "bad cksum") || strings.Contains(text, "wrong") ||
		strings.Contains(text, "incorrect") || !strings.Contains(text, "[udp sum ok]") {
		t.Errorf("tcpdump -vv on the target:\n%s", text)
	}

	// The captured MACs are nobody's in the lab.
	cmd := l.Host.Command(t.Context(), bin, "replay", "-i", l.HostLink, "--map", "198.19.0.0/16=198.18.0.0/16", "--match", "--keep-macs", "--timeout", "300ms", file)
	out, err = cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("--keep-macs: exit %d (%v), want 1\n%s", code, err, out)
	}
	if !strings.Contains(string(out), "frame 1: 198.18.0.2 > 198.18.1.2 ICMP echo request id 4242 seq 1: no answer within 300ms (sent to 02:00:00:00:00:02, the captured MAC; the next hop for 198.18.1.2 is ") ||
		!strings.Contains(string(out), ": drop --keep-macs)") {
		t.Errorf("--keep-macs does not say why nothing came back:\n%s", out)
	}
}

// TestReplayBadInput: what replay cannot send is one line and exit 2.
func TestReplayBadInput(t *testing.T) {
	dir := t.TempDir()
	notPcap := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notPcap, []byte("these are notes, not a capture\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"replay", notPcap}, "pingcraft: replay needs -i IFACE: the interface to send on"},
		{[]string{"replay", "-i", "lo", notPcap}, "pingcraft: -i lo: the kernel drops frames injected on loopback: replay on an Ethernet interface (a lab's h0)"},
		{[]string{"replay", "-i", "pingcraft-none0", notPcap}, "pingcraft: -i pingcraft-none0: no such interface: see 'ip link'"},
		{[]string{"replay", "--map", "198.19.0.0/16=fd00::/16", "-i", "lo", notPcap}, `pingcraft: --map "198.19.0.0/16=fd00::/16": 198.19.0.0/16 and fd00::/16 are of different families`},
		{[]string{"replay", "--loop", "0", "-i", "lo", notPcap}, "pingcraft: --loop 0: give 1 or more"},
		{[]string{"replay"}, "pingcraft: replay takes one FILE.pcap, got 0 arguments"},
	} {
		code, stdout, stderr := runArgs(t, tt.args...)
		if code != 2 || stdout != "" || stderr != tt.want+"\n" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and %q", tt.args, code, stdout, stderr, tt.want)
		}
	}
}

// TestReplayNotACapture: a file that is no capture is refused in one line.
func TestReplayNotACapture(t *testing.T) {
	bin := pingcraftBinary(t)
	l := labtest.New(t)
	notPcap := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(notPcap, []byte("these are notes, not a capture\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := l.Host.Command(t.Context(), bin, "replay", "-i", l.HostLink, notPcap)
	out, _ := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 2 || strings.Count(string(out), "\n") != 1 || !strings.Contains(string(out), "notes.txt: ") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

// TestTimestampQuery: an ICMP timestamp request crafted with craft -w and
// sent with replay gets the lab target's reply, whose receive time is the
// target's clock: within a minute of the originate time (both ms since
// midnight UT, this machine's clock).
func TestTimestampQuery(t *testing.T) {
	bin := pingcraftBinary(t)
	l := labtest.New(t)
	file := filepath.Join(t.TempDir(), "timestamp.pcap")
	if out, err := exec.Command(bin, "craft", "--depth", "ethernet", "-S", l.Host4.String(), "--src-mac", "02:00:00:00:00:01", "--dst-mac", "02:00:00:00:00:02",
		"--icmp-type", "timestamp", "--id", "77", "--seq", "5", "-w", file, l.Target4.String()).CombinedOutput(); err != nil {
		t.Fatalf("craft: %v\n%s", err, out)
	}
	out, err := l.Host.Command(t.Context(), bin, "replay", "-i", l.HostLink, "--match", "--json", file).CombinedOutput()
	if err != nil {
		t.Fatalf("replay: %v\n%s", err, out)
	}
	var line struct{ Answer, From, Text, Summary string }
	if err := json.Unmarshal([]byte(strings.SplitN(string(out), "\n", 2)[0]), &line); err != nil {
		t.Fatal(err)
	}
	var orig, recv, xmit int64
	if _, err := fmt.Sscanf(line.Text, "timestamp reply originate %d receive %d transmit %d", &orig, &recv, &xmit); err != nil || line.Answer != "reply" || line.From != l.Target4.String() {
		t.Fatalf("answer %+v (%v)", line, err)
	}
	const day = 86_400_000
	if d := ((recv-orig)%day + day) % day; d > 60_000 && d < day-60_000 || recv != xmit && xmit-recv > 1000 {
		t.Errorf("originate %d, receive %d, transmit %d: not the times of one moment", orig, recv, xmit)
	}
	if !strings.Contains(line.Summary, "ICMP timestamp request id 77 seq 5") {
		t.Errorf("summary %q", line.Summary)
	}
}

// TestSendFrame: send --frame puts out an IP packet given in hex, its
// lengths and checksums zeroed on purpose, fixed, and prints the target's
// answer; with --raw the kernel drops it as it is and nothing comes back;
// a frame read from a capture file goes out too.
func TestSendFrame(t *testing.T) {
	bin := pingcraftBinary(t)
	l := labtest.New(t)
	e := &craft.Echo{ID: 99, Seq: 1, Src: l.Host4, Dst: l.Target4, Payload: []byte("any frame")}
	buf := gopacket.NewSerializeBuffer()
	if err := e.Serialize(buf, craft.DepthIP); err != nil {
		t.Fatal(err)
	}
	pkt := append([]byte(nil), buf.Bytes()...)
	pkt[2], pkt[3] = 0, 0   // IP total length
	pkt[10], pkt[11] = 0, 0 // IP header checksum
	pkt[22], pkt[23] = 0, 0 // ICMP checksum
	hexPkt := hex.EncodeToString(pkt)

	out, err := l.Host.Command(t.Context(), bin, "send", "--mode", "ip", "-W", "1", "--frame", hexPkt).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "< ") || !strings.Contains(string(out), "echo reply from "+l.Target4.String()) &&
		!strings.Contains(string(out), "ICMP echo reply, id 99, seq 1") {
		t.Errorf("--frame: %v\n%s", err, out)
	}
	cmd := l.Host.Command(t.Context(), bin, "send", "--mode", "ip", "-W", "0.5", "--raw", "--frame", hexPkt)
	out, _ = cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), "no answer within 500ms") {
		t.Errorf("--raw: exit %d\n%s", cmd.ProcessState.ExitCode(), out)
	}
	file := filepath.Join(t.TempDir(), "probe.pcap")
	if out, err := exec.Command(bin, "craft", "--depth", "ip", "-S", l.Host4.String(), "--id", "98", "-w", file, l.Target4.String()).CombinedOutput(); err != nil {
		t.Fatalf("craft: %v\n%s", err, out)
	}
	out, err = l.Host.Command(t.Context(), bin, "send", "-W", "1", "--frame", file+":1").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ICMP echo reply, id 98, seq 1") {
		t.Errorf("--frame FILE:1: %v\n%s", err, out)
	}
	code, _, stderr := runArgs(t, "send", "--frame", file+":2")
	if code != 2 || !strings.Contains(stderr, "the file holds 1 frames, not 2") {
		t.Errorf("--frame FILE:2: exit %d %q", code, stderr)
	}
	code, _, stderr = runArgs(t, "send", "--frame", "zz not hex")
	if code != 2 || !strings.Contains(stderr, "neither a file nor hex bytes") {
		t.Errorf("--frame zz: exit %d %q", code, stderr)
	}
}
