package tcpdump

import (
	"net"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/pingcraft/pingcraft/lab/labtest"
)

// appFrame is raw IPv4 with a TCP segment (tcp) or UDP datagram between
// port 41000 and port, carrying data, cut to caplen bytes (0: whole).
func appFrame(t testing.TB, tcp bool, port uint16, data string, caplen int) []byte {
	t.Helper()
	ip := &layers.IPv4{Version: 4, TTL: 64, Id: 1, Flags: layers.IPv4DontFragment, SrcIP: net.IP{198, 18, 0, 2}, DstIP: net.IP{198, 18, 1, 2}}
	var l4 gopacket.SerializableLayer
	if tcp {
		ip.Protocol = layers.IPProtocolTCP
		seg := &layers.TCP{SrcPort: 41000, DstPort: layers.TCPPort(port), Seq: 1000, Ack: 5000, ACK: true, PSH: true, Window: 502}
		if err := seg.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		l4 = seg
	} else {
		ip.Protocol = layers.IPProtocolUDP
		dg := &layers.UDP{SrcPort: 41000, DstPort: layers.UDPPort(port)}
		if err := dg.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		l4 = dg
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, l4, gopacket.Payload(data)); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if caplen > 0 {
		b = b[:caplen]
	}
	return b
}

// tsp is a timed(8) message: type, version 1, sequence 7, the 8 bytes of
// time or hop count, and name.
func tsp(typ byte, timeField []byte, name string) string {
	return string(append(append([]byte{typ, 1, 0, 7}, timeField...), name...))
}

var appCases = []struct {
	name  string
	tcp   bool
	port  uint16
	data  string
	cut   int
	want  string // after "00:00:00.00N000 IP 198.18.0.2.41000 > 198.18.1.2.PORT: "
	wantv string // the same line under -v (second line, after the addresses)
}{
	{name: "ssh version, CR LF", tcp: true, port: 22, data: "SSH-2.0-OpenSSH_9.6\r\nkex", want: "Flags [P.], seq 1000:1024, ack 5000, win 502, length 24: SSH: SSH-2.0-OpenSSH_9.6"},
	{name: "ssh version, LF", tcp: true, port: 22, data: "SSH-1.99-x\n", want: "Flags [P.], seq 1000:1011, ack 5000, win 502, length 11: SSH: SSH-1.99-x"},
	{name: "ssh, no line end", tcp: true, port: 22, data: "SSH-2.0-x", want: "Flags [P.], seq 1000:1009, ack 5000, win 502, length 9"},
	{name: "ssh, CR then other", tcp: true, port: 22, data: "SSH-2.0-x\rx", want: "Flags [P.], seq 1000:1011, ack 5000, win 502, length 11"},
	{name: "ssh, binary", tcp: true, port: 22, data: "\x00\x00\x01\x0c\x0a\x14", want: "Flags [P.], seq 1000:1006, ack 5000, win 502, length 6"},
	{name: "ssh, cut", tcp: true, port: 22, data: "SSH-2.0-OpenSSH_9.6\r\n", cut: 45, want: "Flags [P.], seq 1000:1021, ack 5000, win 502, length 21 [|ssh]"},
	{name: "timed loop", port: 525, data: tsp(24, []byte{9, 0, 0, 0, 0, 0, 0, 0}, "host\x00"), want: "TSP_LOOP vers 1 seq 7 hopcnt 9 name host"},
	{name: "timed settime", port: 525, data: tsp(5, []byte{0, 0, 0, 5, 0, 0, 0, 42}, "a\x01\x80\x00"), want: "TSP_SETTIME vers 1 seq 7 time 5.000042 name a^AM-^@"},
	{name: "timed negative time", port: 525, data: tsp(1, []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1}, "\x00"), want: "TSP_ADJTIME vers 1 seq 7 time -0.999999 name "},
	{name: "timed unknown type, name cut", port: 525, data: tsp(0x30, make([]byte, 8), "abc"), want: "(tsp_type 0x30) vers 1 seq 7 name abc [|timed]"},
	{name: "timed cut in the header", port: 525, data: "\x02\x01", want: "TSP_ACK vers 1 [|timed]"},
}

func appFrames(t testing.TB) ([][]byte, []int) {
	var frames [][]byte
	var wire []int
	for _, c := range appCases {
		f := appFrame(t, c.tcp, c.port, c.data, 0)
		wire = append(wire, len(f))
		if c.cut > 0 {
			f = f[:c.cut]
		}
		frames = append(frames, f)
	}
	return frames, wire
}

// TestPrinterApps: the lines tcpdump 4.99.3 prints for appCases.
func TestPrinterApps(t *testing.T) {
	frames, wire := appFrames(t)
	for i, c := range appCases {
		t.Run(c.name, func(t *testing.T) {
			port := "525: "
			if c.tcp {
				port = "22: "
			}
			want := "00:00:00.000000 IP 198.18.0.2.41000 > 198.18.1.2." + port + c.want + "\n"
			got := printFrames(t, 101, PrintOptions{}, frames[i:i+1], wire[i:i+1])
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestPrinterTcpdumpApps compares appCases with the installed tcpdump
// under every flag set.
func TestPrinterTcpdumpApps(t *testing.T) {
	tcpdump := labtest.RequireTool(t, "tcpdump", "tcpdump")
	frames, wire := appFrames(t)
	path := filepath.Join(t.TempDir(), "apps.pcap")
	writePcap(t, path, layers.LinkTypeRaw, frames, wire)
	f := readPcap(t, path)
	for _, fl := range printFlagSets {
		t.Run(fl.name, func(t *testing.T) {
			compareOutput(t, "apps.pcap", fl.name, len(frames), runTcpdump(t, tcpdump, false, fl.args, path), printAll(t, f, fl.opts, nil))
		})
	}
}
