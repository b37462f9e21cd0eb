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

// aristaFrames are Ethernet frames with an Arista time stamp header
// (ethertype 0xd28b) before an IPv4 echo request: both time formats, a
// VLAN tag after the header, the subtypes and formats tcpdump does not
// know, and headers cut short.
func aristaFrames(t testing.TB) [][]byte {
	t.Helper()
	ip := &layers.IPv4{Version: 4, TTL: 64, Id: 1, Protocol: layers.IPProtocolICMPv4, SrcIP: net.IP{198, 18, 0, 2}, DstIP: net.IP{198, 18, 1, 2}}
	icmp := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 0x7063, Seq: 1}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, icmp, gopacket.Payload("pingcrft")); err != nil {
		t.Fatal(err)
	}
	echo := buf.Bytes()
	macs := []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2}
	frame := func(parts ...[]byte) []byte {
		b := append([]byte{}, macs...)
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	ipv4 := []byte{0x08, 0x00}
	// 2026-01-01 00:00:00 + 1.5 s written as 1 s and 1.5e9 ns: the
	// nanoseconds carry into the seconds.
	ts64 := []byte{0xd2, 0x8b, 0, 1, 0, 0x10, 0x69, 0x55, 0xb9, 0x00, 0x59, 0x68, 0x2f, 0x00}
	ts48 := []byte{0xd2, 0x8b, 0, 1, 1, 0x20, 0xed, 0x95, 0x18, 0x15, 0x24, 0x74}
	vlan := []byte{0x81, 0x00, 0x20, 0x64}
	return [][]byte{
		frame(ts64, ipv4, echo),
		frame(ts48, vlan, ipv4, echo),
		frame([]byte{0xd2, 0x8b, 0, 2, 0, 0x10}, ipv4, echo),       // another subtype
		frame([]byte{0xd2, 0x8b, 0, 1, 7, 0x31, 1, 2}, ipv4, echo), // format 3, R3, timescale 7
		frame(ts64[:9]),   // cut in the time stamp
		frame(ts64[:3]),   // cut in the subtype
		frame(ts64[:2]),   // nothing after the type
		frame(ts48, ipv4), // nothing after the second type
		frame(ts64),       // nothing after the header
	}
}

// TestPrinterArista: the lines tcpdump 4.99.3 prints for aristaFrames
// (the header is printed without -e too).
func TestPrinterArista(t *testing.T) {
	frames := aristaFrames(t)
	const echo = "198.18.0.2 > 198.18.1.2: ICMP echo request, id 28771, seq 1, length 16\n"
	want := []string{
		"ethertype Arista Vendor Specific Protocol (0xd28b), length 64: SubType Timestamp (0x0001), Timescale TAI (0), Format 64-bit (1), HwInfo R/R2 (0), Timestamp 2026-01-01 00:00:01.500000000: IP " + echo,
		"ethertype Arista Vendor Specific Protocol (0xd28b), length 66: SubType Timestamp (0x0001), Timescale UTC (1), Format 48-bit (2), HwInfo R/R2 (0), Timestamp 60821.404038772: IP " + echo,
		"ethertype Arista Vendor Specific Protocol (0xd28b), length 56: SubType Unknown (0x0002), 02:00:00:00:00:02 > 02:00:00:00:00:01, ethertype Arista Vendor Specific Protocol (0xd28b), length 56: \n" +
			"\t0x0000:  0002 0010 0800 4500 0024 0001 0000 4001  ......E..$....@.\n" +
			"\t0x0010:  edaf c612 0002 c612 0102 0800 dee3 7063  ..............pc\n" +
			"\t0x0020:  0001 7069 6e67 6372 6674                 ..pingcrft\n",
		"ethertype Arista Vendor Specific Protocol (0xd28b), length 58: SubType Timestamp (0x0001), Timescale Unknown (7), Format Unknown (3), HwInfo R3 (1), Timestamp 02:00:00:00:00:02 > 02:00:00:00:00:01, ethertype Arista Vendor Specific Protocol (0xd28b), length 58: \n" +
			"\t0x0000:  0001 0731 0102 0800 4500 0024 0001 0000  ...1....E..$....\n" +
			"\t0x0010:  4001 edaf c612 0002 c612 0102 0800 dee3  @...............\n" +
			"\t0x0020:  7063 0001 7069 6e67 6372 6674            pc..pingcrft\n",
		"ethertype Arista Vendor Specific Protocol (0xd28b), length 21: SubType Timestamp (0x0001), Timescale TAI (0), Format 64-bit (1), HwInfo R/R2 (0), Timestamp  [|arista]\n",
		"[|arista]\n",
		"[|arista]\n",
		"ethertype Arista Vendor Specific Protocol (0xd28b), length 26: SubType Timestamp (0x0001), Timescale UTC (1), Format 48-bit (2), HwInfo R/R2 (0), Timestamp 60821.404038772:  [|ip]\n",
		"ethertype Arista Vendor Specific Protocol (0xd28b), length 26: SubType Timestamp (0x0001), Timescale TAI (0), Format 64-bit (1), HwInfo R/R2 (0), Timestamp 2026-01-01 00:00:01.500000000:  [|arista]\n",
	}
	var wantAll string
	for i, w := range want {
		wantAll += "00:00:00.00" + string(rune('0'+i)) + "000 " + w
	}
	wire := make([]int, len(frames))
	for i, f := range frames {
		wire[i] = len(f)
	}
	if diff := cmp.Diff(wantAll, printFrames(t, 1, PrintOptions{}, frames, wire)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestPrinterTcpdumpArista compares aristaFrames with the installed
// tcpdump under every flag set.
func TestPrinterTcpdumpArista(t *testing.T) {
	tcpdump := labtest.RequireTool(t, "tcpdump", "tcpdump")
	frames := aristaFrames(t)
	wire := make([]int, len(frames))
	for i, f := range frames {
		wire[i] = len(f)
	}
	path := filepath.Join(t.TempDir(), "arista.pcap")
	writePcap(t, path, layers.LinkTypeEthernet, frames, wire)
	f := readPcap(t, path)
	for _, fl := range printFlagSets {
		t.Run(fl.name, func(t *testing.T) {
			compareOutput(t, "arista.pcap", fl.name, len(frames), runTcpdump(t, tcpdump, false, fl.args, path), printAll(t, f, fl.opts, nil))
		})
	}
}
