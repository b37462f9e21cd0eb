package tcpdump

import (
	"net"
	"path/filepath"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/pingcraft/pingcraft/lab/labtest"
)

// tcpUDPFrames is a TCP conversation (handshake with options, data, FIN,
// RST, URG) and two UDP datagrams, one with a bad checksum, as raw IPv4.
// The ports are ones tcpdump runs no dissector on.
func tcpUDPFrames(t *testing.T) [][]byte {
	t.Helper()
	host, target := net.IP{198, 18, 0, 2}, net.IP{198, 18, 1, 2}
	synOpts := []layers.TCPOption{
		{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0xb4}},
		{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2},
		{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: []byte{0, 0, 0x30, 0x39, 0, 0, 0, 0}},
		{OptionType: layers.TCPOptionKindNop},
		{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{7}},
	}
	type seg struct {
		back     bool
		seq, ack uint32
		flags    string
		opts     []layers.TCPOption
		data     string
	}
	segs := []seg{
		{seq: 1000, flags: "S", opts: synOpts},
		{back: true, seq: 5000, ack: 1001, flags: "SA", opts: synOpts},
		{seq: 1001, ack: 5001, flags: "A"},
		{seq: 1001, ack: 5001, flags: "PA", data: "hello world\n"},
		{back: true, seq: 5001, ack: 1013, flags: "A"},
		{seq: 1013, ack: 5001, flags: "FA"},
		{seq: 1013, ack: 5001, flags: "R"},
		{seq: 1013, ack: 5001, flags: "FPU", data: "x"},
	}
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	var frames [][]byte
	for _, s := range segs {
		ip := &layers.IPv4{Version: 4, TTL: 64, Id: 1, Flags: layers.IPv4DontFragment, Protocol: layers.IPProtocolTCP, SrcIP: host, DstIP: target}
		tcp := &layers.TCP{SrcPort: 41000, DstPort: 23456, Seq: s.seq, Ack: s.ack, Window: 64240, Options: s.opts}
		if s.back {
			ip.SrcIP, ip.DstIP = target, host
			tcp.SrcPort, tcp.DstPort = 23456, 41000
		}
		for _, f := range s.flags {
			switch f {
			case 'S':
				tcp.SYN = true
			case 'A':
				tcp.ACK = true
			case 'P':
				tcp.PSH = true
			case 'F':
				tcp.FIN = true
			case 'R':
				tcp.RST = true
			case 'U':
				tcp.URG = true
			}
		}
		if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, opts, ip, tcp, gopacket.Payload(s.data)); err != nil {
			t.Fatal(err)
		}
		frames = append(frames, buf.Bytes())
	}
	for i, data := range []string{"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", "abcdefgh"} {
		ip := &layers.IPv4{Version: 4, TTL: 64, Id: 1, Flags: layers.IPv4DontFragment, Protocol: layers.IPProtocolUDP, SrcIP: host, DstIP: target}
		udp := &layers.UDP{SrcPort: 41000, DstPort: layers.UDPPort(33434 + i)}
		if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, opts, ip, udp, gopacket.Payload(data)); err != nil {
			t.Fatal(err)
		}
		b := buf.Bytes()
		if i == 1 {
			b[26] ^= 0xff // the UDP checksum
		}
		frames = append(frames, b)
	}
	return frames
}

// TestPrinterTcpdumpTCPUDP compares the TCP and UDP summaries with the
// installed tcpdump: the fixtures hold no TCP or UDP.
func TestPrinterTcpdumpTCPUDP(t *testing.T) {
	tcpdump := labtest.RequireTool(t, "tcpdump", "tcpdump")
	frames := tcpUDPFrames(t)
	wire := make([]int, len(frames))
	for i, f := range frames {
		wire[i] = len(f)
	}
	path := filepath.Join(t.TempDir(), "tcp-udp.pcap")
	writePcap(t, path, layers.LinkTypeRaw, frames, wire)
	f := readPcap(t, path)
	for _, fl := range printFlagSets {
		if fl.only != "" {
			continue
		}
		t.Run(fl.name, func(t *testing.T) {
			compareOutput(t, "tcp-udp.pcap", fl.name, len(frames), runTcpdump(t, tcpdump, false, fl.args, path), printAll(t, f, fl.opts, nil))
		})
	}
}
