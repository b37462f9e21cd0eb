package tcpdump

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

func TestNewPrinter(t *testing.T) {
	tests := []struct {
		name    string
		link    layers.LinkType
		opts    *PrintOptions
		wantErr string
	}{
		{"ethernet, nil options", layers.LinkTypeEthernet, nil, ""},
		{"raw", layers.LinkTypeRaw, &PrintOptions{Verbose: 2, Hex: 2, ASCII: true}, ""},
		{"ipv4", layers.LinkType(228), nil, ""},
		{"ipv6", layers.LinkType(229), nil, ""},
		{"linux sll", layers.LinkTypeLinuxSLL, nil, ""},
		{"linux sll2 as pcapgo reports it", layers.LinkType(20), nil, ""},
		{"null", layers.LinkTypeNull, nil, "cannot print link type"},
		{"ieee802.11", layers.LinkTypeIEEE802_11, nil, "cannot print link type"},
		{"stamp out of range", layers.LinkTypeEthernet, &PrintOptions{Stamp: StampSinceFirst + 1}, "time stamp format"},
		{"hex out of range", layers.LinkTypeEthernet, &PrintOptions{Hex: 3}, "hex dump level 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewPrinter(&bytes.Buffer{}, tt.link, tt.opts)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("NewPrinter: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("NewPrinter: error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestPrinterStamps covers what the goldens do not: time going backwards
// (-ttt and -ttttt print a minus), hours in a delta, another time zone.
// The lines are what tcpdump 4.99.3 prints for the same records.
func TestPrinterStamps(t *testing.T) {
	// IPv4, protocol 59 (no next header), 1.2.3.4 > 5.6.7.8.
	frame := []byte{0x45, 0, 0, 20, 0, 1, 0, 0, 64, 59, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	stamps := []time.Time{
		base.Add(500 * time.Millisecond),
		base.Add(100 * time.Millisecond),
		base.Add(time.Hour + time.Minute + 2*time.Second + 250*time.Microsecond + 999*time.Nanosecond), // ns truncated
		base.Add(-time.Microsecond),
	}
	const line = " IP 1.2.3.4 > 5.6.7.8: no next header\n"
	tests := []struct {
		name  string
		opts  PrintOptions
		stamp []string
	}{
		{"default", PrintOptions{Location: time.UTC}, []string{"00:00:00.500000", "00:00:00.100000", "01:01:02.000250", "23:59:59.999999"}},
		{"-t", PrintOptions{Stamp: StampNone}, []string{"", "", "", ""}},
		{"-tt", PrintOptions{Stamp: StampUnix}, []string{"1767225600.500000", "1767225600.100000", "1767229262.000250", "1767225599.999999"}},
		{"-ttt", PrintOptions{Stamp: StampDelta}, []string{" 00:00:00.000000", "-00:00:00.400000", " 01:01:01.900250", "-01:01:02.000251"}},
		{"-tttt", PrintOptions{Stamp: StampDate, Location: time.FixedZone("", 2*3600)}, []string{"2026-01-01 02:00:00.500000", "2026-01-01 02:00:00.100000", "2026-01-01 03:01:02.000250", "2026-01-01 01:59:59.999999"}},
		{"-ttttt", PrintOptions{Stamp: StampSinceFirst}, []string{" 00:00:00.000000", "-00:00:00.400000", " 01:01:01.500250", "-00:00:00.500001"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			p, err := NewPrinter(&out, layers.LinkTypeRaw, &tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var want strings.Builder
			for i, ts := range stamps {
				if err := p.Print(frame, gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(frame), Length: len(frame)}); err != nil {
					t.Fatal(err)
				}
				if tt.stamp[i] == "" {
					want.WriteString(line[1:])
				} else {
					want.WriteString(tt.stamp[i] + line)
				}
			}
			if diff := cmp.Diff(strings.Split(want.String(), "\n"), strings.Split(out.String(), "\n")); diff != "" {
				t.Errorf("-want +got:\n%s", diff)
			}
		})
	}
}

// TestPrinterInterfaceNames: LINUX_SLL2 lines name the interface as this
// host does, or print "?" as tcpdump does for an unknown index.
func TestPrinterInterfaceNames(t *testing.T) {
	pf := readPcap(t, fixtureDir+"/link-sll2.pcap")
	tests := []struct {
		name   string
		ifName func(uint32) (string, bool)
		want   string
	}{
		{"unknown index", noInterfaces, "00:00:00.000000 ?     Out IP 198.18.0.2 > 198.18.1.2: ICMP echo request, id 28771, seq 1, length 64\n"},
		{"short name", func(i uint32) (string, bool) { return "h0", i == 2 }, "00:00:00.000000 h0    Out IP 198.18.0.2 > 198.18.1.2: ICMP echo request, id 28771, seq 1, length 64\n"},
		{"long name", func(uint32) (string, bool) { return "veth-router0", true }, "00:00:00.000000 veth-router0 Out IP 198.18.0.2 > 198.18.1.2: ICMP echo request, id 28771, seq 1, length 64\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			p, err := NewPrinter(&out, pf.link, &PrintOptions{Location: time.UTC})
			if err != nil {
				t.Fatal(err)
			}
			p.ifName = tt.ifName
			if err := p.Print(pf.frames[0], pf.infos[0]); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, out.String()); diff != "" {
				t.Errorf("-want +got:\n%s", diff)
			}
		})
	}
}

func TestLinkTypeText(t *testing.T) {
	tests := []struct {
		name string
		link layers.LinkType
		want string
	}{
		{"ethernet", layers.LinkTypeEthernet, "link-type EN10MB (Ethernet)"},
		{"raw", layers.LinkTypeRaw, "link-type RAW (Raw IP)"},
		{"linux sll", layers.LinkTypeLinuxSLL, "link-type LINUX_SLL (Linux cooked v1)"},
		{"linux sll2 as pcapgo reports it", layers.LinkType(20), "link-type LINUX_SLL2 (Linux cooked v2)"},
		{"ipv4", layers.LinkType(228), "link-type IPV4 (Raw IPv4)"},
		{"ipv6", layers.LinkType(229), "link-type IPV6 (Raw IPv6)"},
		{"other", layers.LinkTypeNull, "link-type 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LinkTypeText(tt.link); got != tt.want {
				t.Errorf("LinkTypeText(%d) = %q, want %q", tt.link, got, tt.want)
			}
		})
	}
}

// recordCases are pcap records whose headers hold what a CaptureInfo
// cannot: sub-second fields out of range, zero and inconsistent lengths,
// seconds past 2038 (negative to libpcap). want is what tcpdump 4.99.3
// prints for them, per time stamp flag.
var recordCases = []Record{
	{Sec: 1767225600, Frac: 500000, CapLen: 20, Len: 20},
	{Sec: 1767225600, Frac: 1234567, CapLen: 20, Len: 20},
	{Sec: 1767225601, Frac: 999999, CapLen: 20, Len: 20},
	{Sec: 1767225600, Frac: 4294967295, CapLen: 20, Len: 20},
	{Sec: 0x80000000, Frac: 5, CapLen: 20, Len: 20},
	{Sec: 1767225700, CapLen: 0, Len: 60},
	{Sec: 1767225700, CapLen: 20, Len: 0},
	{Sec: 1767225700, CapLen: 20, Len: 10},
	{Sec: 1767225700, CapLen: 20, Len: 300000},
	{Sec: 1767312000 + 3600, Frac: 7, CapLen: 20, Len: 20},
}

func TestPrinterRecordHeaders(t *testing.T) {
	frame := []byte{0x45, 0, 0, 20, 0, 1, 0, 0, 64, 59, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}
	invalid := []string{"[Invalid header: caplen==0]", "[Invalid header: len==0]", "[Invalid header: len(10) < caplen(20)]", "[Invalid header: len(300000) > 262144]"}
	stamps := func(before []string, after string) []string {
		return append(append(before, invalid...), after)
	}
	const errTime = "[Error converting time]"
	tests := []struct {
		flag string
		opts PrintOptions
		want []string // the time stamp of each line, or the whole line
	}{
		{"", PrintOptions{}, stamps([]string{"00:00:00.500000", "00:00:00.1234567", "00:00:01.999999", "00:00:00.4294967295", errTime}, "01:00:00.000007")},
		{"-tt", PrintOptions{Stamp: StampUnix}, stamps([]string{"1767225600.500000", "1767225600.1234567", "1767225601.999999", "1767225600.4294967295", errTime}, "1767315600.000007")},
		{"-ttt", PrintOptions{Stamp: StampDelta}, stamps([]string{" 00:00:00.000000", " 00:00:00.734567", " 00:00:00.765432", "-00:00:01.1000000", "-" + errTime}, " "+errTime)},
		{"-tttt", PrintOptions{Stamp: StampDate}, stamps([]string{"2026-01-01 00:00:00.500000", "2026-01-01 00:00:00.1234567", "2026-01-01 00:00:01.999999", "2026-01-01 00:00:00.4294967295", errTime}, "2026-01-02 01:00:00.000007")},
		{"-ttttt", PrintOptions{Stamp: StampSinceFirst}, stamps([]string{" 00:00:00.000000", " 00:00:00.734567", " 00:00:01.499999", "-00:00:00.500001", "-" + errTime}, " 00:59:59.500007")},
	}
	var file bytes.Buffer // the same records as a pcap file, for tcpdump
	hdr := []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 101, 0, 0, 0}
	file.Write(hdr)
	for _, r := range recordCases {
		file.Write(binary.LittleEndian.AppendUint32(nil, r.Sec))
		file.Write(binary.LittleEndian.AppendUint32(nil, r.Frac))
		file.Write(binary.LittleEndian.AppendUint32(nil, r.CapLen))
		file.Write(binary.LittleEndian.AppendUint32(nil, r.Len))
		file.Write(frame[:r.CapLen])
	}
	path := filepath.Join(t.TempDir(), "records.pcap")
	if err := os.WriteFile(path, file.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	tcpdump, _ := exec.LookPath("tcpdump")
	for _, tt := range tests {
		t.Run("tcpdump "+tt.flag, func(t *testing.T) {
			var want strings.Builder
			for _, s := range tt.want {
				if strings.HasPrefix(s, "[Invalid") {
					want.WriteString(s + "\n")
				} else {
					want.WriteString(s + " IP 1.2.3.4 > 5.6.7.8: no next header\n")
				}
			}
			var out bytes.Buffer
			tt.opts.Location = time.UTC
			p, err := NewPrinter(&out, layers.LinkTypeRaw, &tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recordCases {
				// The CaptureInfo says otherwise: the record header wins.
				ci := gopacket.CaptureInfo{Timestamp: time.Unix(1, 0), CaptureLength: 20, Length: 20, AncillaryData: []interface{}{r}}
				if err := p.Print(frame[:r.CapLen], ci); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(want.String(), out.String()); diff != "" {
				t.Errorf("-want +got:\n%s", diff)
			}
			if tcpdump == "" {
				return
			}
			args := []string{"-n", "-r", path}
			if tt.flag != "" {
				args = append(args, tt.flag)
			}
			cmd := exec.Command(tcpdump, args...)
			cmd.Env = append(os.Environ(), "TZ=UTC")
			real, err := cmd.Output()
			if err != nil {
				t.Fatalf("tcpdump %v: %v", args, err)
			}
			if diff := cmp.Diff(string(real), out.String()); diff != "" {
				t.Errorf("installed tcpdump differs (-tcpdump +pingcraft):\n%s", diff)
			}
		})
	}
}

// TestPrinterRecordNano: a nanosecond file's sub-second field is scaled
// to microseconds before it is printed, out of range or not, as libpcap
// reads it for tcpdump.
func TestPrinterRecordNano(t *testing.T) {
	frame := []byte{0x45, 0, 0, 20, 0, 1, 0, 0, 64, 59, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}
	var out bytes.Buffer
	p, err := NewPrinter(&out, layers.LinkTypeRaw, &PrintOptions{Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	for _, frac := range []uint32{1999999999, 999} {
		r := Record{Sec: 1767225600, Frac: frac, Nano: true, CapLen: 20, Len: 20}
		if err := p.Print(frame, gopacket.CaptureInfo{AncillaryData: []interface{}{r}}); err != nil {
			t.Fatal(err)
		}
	}
	want := "00:00:00.1999999 IP 1.2.3.4 > 5.6.7.8: no next header\n00:00:00.000000 IP 1.2.3.4 > 5.6.7.8: no next header\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("-want +got:\n%s", diff)
	}
}
