package craft_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/gopacket/pcapgo"
	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/fixtures"
	"github.com/pingcraft/pingcraft/lab/labtest"
)

var updateGoldens = flag.Bool("update", false, "rewrite fixtures/*.golden from what the decoder says now")

// fixtureDir holds the pcap files made by fixtures/gen (see its README).
var fixtureDir = fixtures.Dir()

// fx is what fixtures/gen put in the frames: the lab's addresses and the
// ICMP id of every probe.
var fx = struct {
	host4, target4, gateway4, host6, target6 netip.Addr
	probeID                                  uint16
}{
	host4:    netip.MustParseAddr("198.18.0.2"),
	target4:  netip.MustParseAddr("198.18.1.2"),
	gateway4: netip.MustParseAddr("198.18.0.254"),
	host6:    netip.MustParseAddr("fd00:198:18::2"),
	target6:  netip.MustParseAddr("fd00:198:18:1::2"),
	probeID:  0x7063,
}

var addrEqual = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

type fixtureFile struct {
	name   string
	link   craft.LinkType
	frames [][]byte
}

func readFixture(path string) (*fixtureFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 24 {
		return nil, fmt.Errorf("%s: %d bytes, shorter than a pcap file header", path, len(b))
	}
	// pcapgo keeps the link type in 8 bits, which cannot hold LINUX_SLL2
	// (276); the file header has all 32.
	var order binary.ByteOrder = binary.LittleEndian
	if b[0] == 0xa1 {
		order = binary.BigEndian
	}
	c := &fixtureFile{name: filepath.Base(path), link: craft.LinkType(order.Uint32(b[20:24]))}
	r, err := pcapgo.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if got := craft.LinkTypeOf(r.LinkType()); got != c.link {
		return nil, fmt.Errorf("%s: craft.LinkTypeOf(%d) = %v, the file header says %v", path, r.LinkType(), got, c.link)
	}
	for {
		data, _, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return c, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s frame %d: %w", path, len(c.frames)+1, err)
		}
		c.frames = append(c.frames, data)
	}
}

func fixtureFiles(tb testing.TB) []*fixtureFile {
	tb.Helper()
	var cs []*fixtureFile
	for _, p := range fixtures.Pcaps(tb) {
		c, err := readFixture(p)
		if err != nil {
			tb.Fatal(err)
		}
		cs = append(cs, c)
	}
	return cs
}

func openFixture(tb testing.TB, name string) *fixtureFile {
	tb.Helper()
	c, err := readFixture(filepath.Join(fixtureDir, name))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// decode decodes frame n (1-based, as tcpdump and Wireshark count) of c.
func (c *fixtureFile) decode(tb testing.TB, n int) *craft.Packet {
	tb.Helper()
	if n < 1 || n > len(c.frames) {
		tb.Fatalf("%s has no frame %d (it has %d)", c.name, n, len(c.frames))
	}
	d, err := craft.NewDecoder(c.link)
	if err != nil {
		tb.Fatal(err)
	}
	var p craft.Packet
	if err := d.Decode(c.frames[n-1], &p); err != nil {
		tb.Fatalf("%s frame %d: %v", c.name, n, err)
	}
	return &p
}

// fixtureSummaries is one line per frame, as the golden files hold them. One
// decoder for the whole file, so that state left by one frame shows up in
// the next.
func fixtureSummaries(c *fixtureFile) ([]string, error) {
	d, err := craft.NewDecoder(c.link)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.name, err)
	}
	lines := make([]string, 0, len(c.frames))
	var p craft.Packet
	for i, data := range c.frames {
		s := ""
		if err := d.Decode(data, &p); err != nil {
			s = "error: " + err.Error()
		} else {
			s = p.String()
		}
		lines = append(lines, fmt.Sprintf("%d: %s", i+1, s))
	}
	return lines, nil
}

func TestFixtureGoldens(t *testing.T) {
	cs := fixtureFiles(t)
	for _, c := range cs {
		t.Run(c.name, func(t *testing.T) {
			got, err := fixtureSummaries(c)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(fixtureDir, strings.TrimSuffix(c.name, ".pcap")+".golden")
			if *updateGoldens {
				if err := os.WriteFile(path, []byte(strings.Join(got, "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test ./craft -run TestFixtureGoldens -update writes it)", err)
			}
			want := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", path, diff)
			}
		})
	}
	t.Run("no orphan goldens", func(t *testing.T) {
		goldens, err := filepath.Glob(filepath.Join(fixtureDir, "*.golden"))
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range goldens {
			pcap := strings.TrimSuffix(g, ".golden") + ".pcap"
			if _, err := os.Stat(pcap); err != nil {
				t.Errorf("%s has no %s", g, pcap)
			}
		}
	})
}

func TestFixtureChecksums(t *testing.T) {
	good := func(v uint16) craft.Checksum { return craft.Checksum{Got: v, Want: v, Status: craft.ChecksumGood} }
	bad := func(got, want uint16) craft.Checksum {
		return craft.Checksum{Got: got, Want: want, Status: craft.ChecksumBad}
	}
	unverified := func(v uint16) craft.Checksum { return craft.Checksum{Got: v, Status: craft.ChecksumUnverified} }
	tests := []struct {
		name     string
		file     string
		frame    int
		ip, icmp craft.Checksum
	}{
		{"known answer", "checksums.pcap", 1, good(0x8592), good(0xf210)},
		{"known answer, ICMP checksum of the header only", "checksums.pcap", 2, good(0x8592), bad(0xf616, 0xf210)},
		{"known answer, IP checksum fault", "checksums.pcap", 3, bad(0xd0c7, 0x8592), good(0xf210)},
		{"ICMPv6 checksum of the header only", "checksums.pcap", 4, craft.Checksum{}, bad(0x11ef, 0x6a6c)},
		{"0xffff where 0x0000 was computed", "checksums.pcap", 5, good(0x0f7e), craft.Checksum{Got: 0xffff, Want: 0x0000, Status: craft.ChecksumGood}},
		{"ICMPv6 good", "checksums.pcap", 6, craft.Checksum{}, good(0xe5cb)},
		{"snaplen cut inside the data", "truncated.pcap", 1, good(0xad7f), unverified(0xa73e)},
		{"odd-length ICMP message", "truncated.pcap", 7, good(0xad78), good(0xe15c)},
		{"odd-length ICMPv6 message", "truncated.pcap", 8, craft.Checksum{}, good(0x282a)},
		{"frame without Ethernet padding", "truncated.pcap", 9, good(0xadae), good(0x8793)},
		{"IP total length longer than the frame", "truncated.pcap", 10, good(0xae76), unverified(0x5a6c)},
		{"first IPv4 fragment", "fragments.pcap", 1, good(0x88f7), unverified(0x8e63)},
		{"first IPv6 fragment", "fragments.pcap", 4, craft.Checksum{}, unverified(0x3e13)},
		{"IPv4 reply and Ethernet trailer", "ipv6-ext.pcap", 6, good(0xae7a), good(0x63ad)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := openFixture(t, tt.file).decode(t, tt.frame)
			if diff := cmp.Diff(tt.ip, p.IPChecksum); diff != "" {
				t.Errorf("%s frame %d: IP checksum (-want +got):\n%s", tt.file, tt.frame, diff)
			}
			if diff := cmp.Diff(tt.icmp, p.ICMPChecksum); diff != "" {
				t.Errorf("%s frame %d: ICMP checksum (-want +got):\n%s", tt.file, tt.frame, diff)
			}
		})
	}
}

// TestFixtureErrorQuotes: in the error files, frame N quotes our echo
// request with seq N.
func TestFixtureErrorQuotes(t *testing.T) {
	for _, name := range []string{"icmp4-errors.pcap", "icmp6-errors.pcap"} {
		c := openFixture(t, name)
		src, dst := fx.host4, fx.target4
		if strings.HasPrefix(name, "icmp6") {
			src, dst = fx.host6, fx.target6
		}
		for n := 1; n <= len(c.frames); n++ {
			p := c.decode(t, n)
			q := p.Error.Quote
			if p.Class != craft.ClassError || !q.Present || !q.Echo || q.ID != fx.probeID || q.Seq != uint16(n) || q.Src != src || q.Dst != dst {
				t.Errorf("%s frame %d: class %v, quote %+v; want an error quoting echo id %d seq %d %v>%v", name, n, p.Class, q, fx.probeID, n, src, dst)
			}
			if p.ICMPChecksum.Status != craft.ChecksumGood {
				t.Errorf("%s frame %d: ICMP checksum %+v, want good", name, n, p.ICMPChecksum)
			}
		}
	}

	quote := func(six bool, seq uint16, ttl uint8, truncated bool) craft.Quote {
		q := craft.Quote{Present: true, Src: fx.host4, Dst: fx.target4, Protocol: 1, TTL: ttl, Echo: true, ID: fx.probeID, Seq: seq, Truncated: truncated}
		if six {
			q.Src, q.Dst, q.Protocol = fx.host6, fx.target6, 58
		}
		return q
	}
	tests := []struct {
		name  string
		file  string
		frame int
		want  craft.ICMPError
	}{
		{"net unreachable", "icmp4-errors.pcap", 1,
			craft.ICMPError{Kind: craft.ErrUnreachable, Type: 3, Code: 0, Quote: quote(false, 1, 64, true)}},
		{"port unreachable", "icmp4-errors.pcap", 4,
			craft.ICMPError{Kind: craft.ErrUnreachable, Type: 3, Code: 3, Quote: quote(false, 4, 64, true)}},
		{"frag needed, MTU 1400", "icmp4-errors.pcap", 5,
			craft.ICMPError{Kind: craft.ErrUnreachable, Type: 3, Code: 4, MTU: 1400, Quote: quote(false, 5, 64, true)}},
		{"precedence cutoff", "icmp4-errors.pcap", 16,
			craft.ICMPError{Kind: craft.ErrUnreachable, Type: 3, Code: 15, Quote: quote(false, 16, 64, true)}},
		{"TTL exceeded", "icmp4-errors.pcap", 17,
			craft.ICMPError{Kind: craft.ErrTimeExceeded, Type: 11, Code: 0, Quote: quote(false, 17, 1, true)}},
		{"TTL exceeded, whole probe quoted", "icmp4-errors.pcap", 18,
			craft.ICMPError{Kind: craft.ErrTimeExceeded, Type: 11, Code: 0, Quote: quote(false, 18, 1, false)}},
		{"reassembly time exceeded", "icmp4-errors.pcap", 19,
			craft.ICMPError{Kind: craft.ErrTimeExceeded, Type: 11, Code: 1, Quote: quote(false, 19, 64, true)}},
		{"redirect network", "icmp4-errors.pcap", 20,
			craft.ICMPError{Kind: craft.ErrRedirect, Type: 5, Code: 0, Gateway: fx.gateway4, Quote: quote(false, 20, 64, true)}},
		{"redirect host", "icmp4-errors.pcap", 21,
			craft.ICMPError{Kind: craft.ErrRedirect, Type: 5, Code: 1, Gateway: fx.gateway4, Quote: quote(false, 21, 64, true)}},
		{"parameter problem", "icmp4-errors.pcap", 22,
			craft.ICMPError{Kind: craft.ErrParameterProblem, Type: 12, Code: 0, Pointer: 1, Quote: quote(false, 22, 64, true)}},
		{"source quench", "icmp4-errors.pcap", 23,
			craft.ICMPError{Kind: craft.ErrSourceQuench, Type: 4, Code: 0, Quote: quote(false, 23, 64, true)}},
		{"v6 no route", "icmp6-errors.pcap", 1,
			craft.ICMPError{Kind: craft.ErrUnreachable, Six: true, Type: 1, Code: 0, Quote: quote(true, 1, 64, false)}},
		{"v6 reject route", "icmp6-errors.pcap", 7,
			craft.ICMPError{Kind: craft.ErrUnreachable, Six: true, Type: 1, Code: 6, Quote: quote(true, 7, 64, false)}},
		{"v6 packet too big", "icmp6-errors.pcap", 8,
			craft.ICMPError{Kind: craft.ErrPacketTooBig, Six: true, Type: 2, MTU: 1280, Quote: quote(true, 8, 64, true)}},
		{"v6 hop limit exceeded", "icmp6-errors.pcap", 9,
			craft.ICMPError{Kind: craft.ErrTimeExceeded, Six: true, Type: 3, Code: 0, Quote: quote(true, 9, 1, false)}},
		{"v6 parameter problem, header field", "icmp6-errors.pcap", 11,
			craft.ICMPError{Kind: craft.ErrParameterProblem, Six: true, Type: 4, Code: 0, Pointer: 4, Quote: quote(true, 11, 64, false)}},
		{"v6 parameter problem, next header", "icmp6-errors.pcap", 12,
			craft.ICMPError{Kind: craft.ErrParameterProblem, Six: true, Type: 4, Code: 1, Pointer: 6, Quote: quote(true, 12, 64, false)}},
		{"v6 parameter problem, option", "icmp6-errors.pcap", 13,
			craft.ICMPError{Kind: craft.ErrParameterProblem, Six: true, Type: 4, Code: 2, Pointer: 42, Quote: quote(true, 13, 64, false)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := openFixture(t, tt.file).decode(t, tt.frame)
			if diff := cmp.Diff(tt.want, p.Error, addrEqual); diff != "" {
				t.Errorf("%s frame %d (-want +got):\n%s", tt.file, tt.frame, diff)
			}
		})
	}
}

// TestFixtureQuotedFragment6: an ICMPv6 reassembly timeout quotes the first
// fragment with its fragment header (RFC 8200 section 4.5); the quote
// follows that header to the probe's id and seq, so the error can be matched.
func TestFixtureQuotedFragment6(t *testing.T) {
	p := openFixture(t, "icmp6-errors.pcap").decode(t, 10)
	want := craft.ICMPError{Kind: craft.ErrTimeExceeded, Six: true, Type: 3, Code: 1,
		Quote: craft.Quote{Present: true, Src: fx.host6, Dst: fx.target6, Protocol: 58, TTL: 64, Echo: true, ID: fx.probeID, Seq: 10, Truncated: true}}
	if diff := cmp.Diff(want, p.Error, addrEqual); diff != "" {
		t.Errorf("icmp6-errors.pcap frame 10 (-want +got):\n%s", diff)
	}
}

// TestFixtureExtensionHeaders: an echo behind IPv6 extension headers, or
// followed by trailer bytes, decodes as if they were not there.
func TestFixtureExtensionHeaders(t *testing.T) {
	c := openFixture(t, "ipv6-ext.pcap")
	for n := 1; n <= len(c.frames); n++ {
		p := c.decode(t, n)
		if p.Class != craft.ClassEchoRequest && p.Class != craft.ClassEchoReply || p.Truncated ||
			p.ICMPChecksum.Status != craft.ChecksumGood || len(p.Payload) != 56 || p.ID != fx.probeID {
			t.Errorf("ipv6-ext.pcap frame %d: %s\nwant a complete echo, id %d, good checksum, 56 data bytes", n, p, fx.probeID)
		}
	}
}

// TestFixtureHostileQuotes: lying quotes are reported as absent or
// truncated, never read past.
func TestFixtureHostileQuotes(t *testing.T) {
	type result struct {
		Class     craft.Class
		Kind      craft.ErrorKind
		Present   bool
		Echo      bool
		Seq       uint16
		QuoteCut  bool // Quote.Truncated
		Truncated bool // Packet.Truncated
	}
	absent := func(k craft.ErrorKind) result { return result{Class: craft.ClassError, Kind: k} }
	cut := func(k craft.ErrorKind, seq uint16) result {
		return result{Class: craft.ClassError, Kind: k, Present: true, Echo: true, Seq: seq, QuoteCut: true}
	}
	tests := []struct {
		name  string
		frame int
		want  result
	}{
		{"quoted IHL beyond the quote", 1, absent(craft.ErrUnreachable)},
		{"quoted total length 65535", 2, cut(craft.ErrUnreachable, 2)},
		{"10-byte quote", 3, absent(craft.ErrUnreachable)},
		{"echo reply with 40 bytes of options", 4, result{Class: craft.ClassEchoReply}},
		{"options in outer and quoted header", 5, cut(craft.ErrTimeExceeded, 5)},
		{"quoted IHL 4", 6, absent(craft.ErrUnreachable)},
		{"quoted total length 8", 7, absent(craft.ErrUnreachable)},
		{"quoted option running past the header", 8, absent(craft.ErrUnreachable)},
		{"no quote", 9, absent(craft.ErrUnreachable)},
		{"ICMPv4 quoting IPv6", 10, absent(craft.ErrUnreachable)},
		{"ICMPv6 24-byte quote", 11, absent(craft.ErrUnreachable)},
		{"ICMPv6 quoted payload length 65535", 12, cut(craft.ErrUnreachable, 12)},
		{"ICMPv6 error body of 2 bytes", 13, result{Class: craft.ClassOther, Truncated: true}},
		{"ICMPv6 quoting IPv4", 14, absent(craft.ErrTimeExceeded)},
	}
	c := openFixture(t, "hostile-quotes.pcap")
	if len(c.frames) != len(tests) {
		t.Errorf("hostile-quotes.pcap has %d frames, the table %d: keep them in step", len(c.frames), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := c.decode(t, tt.frame)
			q := p.Error.Quote
			got := result{p.Class, p.Error.Kind, q.Present, q.Echo, q.Seq, q.Truncated, p.Truncated}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("frame %d (-want +got):\n%s", tt.frame, diff)
			}
			if p.ICMPChecksum.Status != craft.ChecksumGood {
				t.Errorf("frame %d: ICMP checksum %+v, want good: the lie is in the quote, not the checksum", tt.frame, p.ICMPChecksum)
			}
			if q.Echo && q.ID != fx.probeID {
				t.Errorf("frame %d: quoted echo id %d, want %d", tt.frame, q.ID, fx.probeID)
			}
		})
	}
}

// The frames that tcpdump and tshark must flag for a checksum, each with a
// piece of what the tool says, and no others. They are the deliberately bad
// frames of checksums.pcap; tshark also sums the ICMP message of
// truncated.pcap frame 10 over the bytes present, though the IP header
// claims more, and calls it bad; tcpdump does not check what it lacks.
var (
	tcpdumpComplaints = map[string]map[int]string{
		"checksums.pcap": {
			2: "wrong icmp cksum f616 (->f210)!",
			3: "bad cksum d0c7 (->8592)!",
			4: "[bad icmp6 cksum 0x11ef -> 0x6a6c!]",
		},
	}
	tsharkComplaints = map[string]map[int]string{
		"checksums.pcap": {
			2: "Bad checksum [should be 0xf210]",
			3: "Bad checksum [should be 0x8592]",
			4: "Bad checksum [should be 0x6a6c]",
		},
		"truncated.pcap": {
			10: "Bad checksum [should be 0x092e]",
		},
	}
)

func runTool(t *testing.T, path string, args ...string) string {
	t.Helper()
	cmd := exec.Command(path, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", path, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

var (
	// tcpdump -# starts each frame's first line with its number and time.
	tcpdumpFrame = regexp.MustCompile(`^ *(\d+)  \d\d:\d\d:\d\d\.\d{6} `)
	// "wrong icmp cksum", "bad cksum" (IPv4 header), "bad icmp6 cksum",
	// "bad udp cksum" and the like.
	tcpdumpBad = regexp.MustCompile(`(?i)\b(bad|wrong)( \w+)? cksum\b`)
)

func TestFixturesTcpdump(t *testing.T) {
	tcpdump := labtest.RequireTool(t, "tcpdump", "tcpdump")
	for _, c := range fixtureFiles(t) {
		t.Run(c.name, func(t *testing.T) {
			out := runTool(t, tcpdump, "-#", "-n", "-v", "-r", filepath.Join(fixtureDir, c.name))
			text := map[int]string{}
			n := 0
			for _, line := range strings.Split(out, "\n") {
				if m := tcpdumpFrame.FindStringSubmatch(line); m != nil {
					n, _ = strconv.Atoi(m[1])
				}
				text[n] += line + "\n"
			}
			if n != len(c.frames) {
				t.Errorf("tcpdump printed %d frames, the file has %d", n, len(c.frames))
			}
			checkComplaints(t, "tcpdump", len(c.frames), tcpdumpComplaints[c.name], func(n int) (string, bool) {
				return text[n], tcpdumpBad.MatchString(text[n])
			})
		})
	}
}

func TestFixturesTshark(t *testing.T) {
	tshark := labtest.RequireTool(t, "tshark", "tshark")
	for _, c := range fixtureFiles(t) {
		t.Run(c.name, func(t *testing.T) {
			// checksum.status: 0 bad, 1 good, 2 unverified; one value per
			// occurrence (quoted headers too), comma-separated.
			out := runTool(t, tshark, "-r", filepath.Join(fixtureDir, c.name), "-o", "ip.check_checksum:TRUE",
				"-T", "fields", "-E", "separator=/t", "-E", "occurrence=a",
				"-e", "frame.number", "-e", "ip.checksum.status", "-e", "icmp.checksum.status",
				"-e", "icmpv6.checksum.status", "-e", "_ws.expert.message")
			type row struct {
				line string
				bad  bool
			}
			rows := map[int]row{}
			for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
				f := strings.Split(line, "\t")
				if len(f) != 5 {
					t.Fatalf("tshark line %q: %d fields, want 5", line, len(f))
				}
				n, err := strconv.Atoi(f[0])
				if err != nil {
					t.Fatalf("tshark line %q: %v", line, err)
				}
				bad := false
				for _, status := range f[1:4] {
					bad = bad || slices.Contains(strings.Split(status, ","), "0")
				}
				rows[n] = row{line, bad}
			}
			if len(rows) != len(c.frames) {
				t.Errorf("tshark printed %d frames, the file has %d", len(rows), len(c.frames))
			}
			checkComplaints(t, "tshark", len(c.frames), tsharkComplaints[c.name], func(n int) (string, bool) {
				return rows[n].line, rows[n].bad
			})
		})
	}
}

// checkComplaints: the tool flags exactly the frames in want, saying the
// text given there.
func checkComplaints(t *testing.T, tool string, frames int, want map[int]string, said func(n int) (string, bool)) {
	t.Helper()
	for n := 1; n <= frames; n++ {
		text, bad := said(n)
		w, deliberate := want[n]
		switch {
		case bad && !deliberate:
			t.Errorf("frame %d: %s complains of a checksum on a frame meant to be good:\n%s", n, tool, text)
		case !bad && deliberate:
			t.Errorf("frame %d: %s finds no bad checksum on a frame meant to have one (%q):\n%s", n, tool, w, text)
		case deliberate && !strings.Contains(text, w):
			t.Errorf("frame %d: %s does not say %q:\n%s", n, tool, w, text)
		}
	}
}

// fuzzLinks are the link types the decoder accepts; the fuzzer picks one
// by index so that every input reaches a decoder.
var fuzzLinks = []craft.LinkType{craft.LinkTypeEthernet, craft.LinkTypeRaw, craft.LinkTypeLinuxSLL, craft.LinkTypeLinuxSLL2, craft.LinkTypeIPv4, craft.LinkTypeIPv6}

// FuzzDecode starts from every fixture frame under every link type: what
// is a good frame for one is hostile input for the others.
func FuzzDecode(f *testing.F) {
	for _, c := range fixtureFiles(f) {
		for _, data := range c.frames {
			for i := range fuzzLinks {
				f.Add(uint8(i), data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, link uint8, data []byte) {
		lt := fuzzLinks[int(link)%len(fuzzLinks)]
		d, err := craft.NewDecoder(lt)
		if err != nil {
			t.Fatal(err)
		}
		// A full slice expression, so that nothing can append into or
		// read past the input through its capacity.
		data = data[:len(data):len(data)]
		var p craft.Packet
		err = d.Decode(data, &p)
		checkDecoded(t, lt, data, &p, err)
		first := p.String()

		// A reused decoder must not carry anything from one frame into the
		// next: decode something else, then data again.
		var q craft.Packet
		_ = d.Decode(data[:len(data)/2], &q)
		err2 := d.Decode(data, &q)
		if (err == nil) != (err2 == nil) || q.String() != first {
			t.Errorf("decoding twice with one decoder differs:\n first: %v %s\nsecond: %v %s", err, first, err2, q.String())
		}
	})
}

// linkHeaderLen is the least a frame of each link type needs for Decode to
// return no error.
var linkHeaderLen = map[craft.LinkType]int{
	craft.LinkTypeEthernet: 14, craft.LinkTypeLinuxSLL: 16, craft.LinkTypeLinuxSLL2: craft.LinuxSLL2Len,
	craft.LinkTypeRaw: 1, craft.LinkTypeIPv4: 1, craft.LinkTypeIPv6: 1,
}

// checkPacket asserts what holds for every decoded packet, whatever the input.
func checkDecoded(t *testing.T, link craft.LinkType, data []byte, p *craft.Packet, err error) {
	t.Helper()
	if (err != nil) != (len(data) < linkHeaderLen[link]) {
		t.Errorf("%v frame of %d bytes: Decode error %v; want an error only below %d bytes", link, len(data), err, linkHeaderLen[link])
	}
	switch p.Class {
	case craft.ClassOther, craft.ClassEchoRequest, craft.ClassEchoReply, craft.ClassError:
	case craft.ClassQuery:
		if p.IPVersion != 4 || p.Protocol != 1 || p.Query > craft.QueryInfo || p.Query == craft.QueryEcho {
			t.Errorf("query %v in IPv%d protocol %d", p.Query, p.IPVersion, p.Protocol)
		}
	default:
		t.Errorf("class %v is none of the five", p.Class)
	}
	for name, b := range map[string][]byte{"Payload": p.Payload, "SrcMAC": p.SrcMAC, "DstMAC": p.DstMAC} {
		if len(b) > 0 && !bytes.Contains(data, b) {
			t.Errorf("%s %x is not part of the %d-byte input", name, b, len(data))
		}
	}
	if len(p.VLAN) > 4 {
		t.Errorf("%d VLAN ids recorded, want at most 4", len(p.VLAN))
	}
	switch p.IPVersion {
	case 0:
		if p.Class != craft.ClassOther || p.ICMPChecksum.Status != 0 {
			t.Errorf("no IP layer, yet class %v and ICMP checksum %+v", p.Class, p.ICMPChecksum)
		}
	case 4:
		if !p.Src.Is4() || !p.Dst.Is4() {
			t.Errorf("IPv4 packet with addresses %v > %v", p.Src, p.Dst)
		}
	case 6:
		if !p.Src.Is6() || !p.Dst.Is6() || p.IPChecksum.Status != 0 {
			t.Errorf("IPv6 packet with addresses %v > %v and IP checksum %+v", p.Src, p.Dst, p.IPChecksum)
		}
	default:
		t.Errorf("IP version %d", p.IPVersion)
	}
	if p.FragOffset < 0 || p.FragOffset%8 != 0 || p.FragOffset > 0xffff {
		t.Errorf("fragment offset %d", p.FragOffset)
	}
	for name, c := range map[string]craft.Checksum{"IP": p.IPChecksum, "ICMP": p.ICMPChecksum} {
		switch c.Status {
		case 0, craft.ChecksumUnverified:
		case craft.ChecksumGood:
			if c.Got != c.Want && c.Got^c.Want != 0xffff {
				t.Errorf("%s checksum %+v: good, yet neither equal nor the two zeros", name, c)
			}
		case craft.ChecksumBad:
			if c.Got == c.Want {
				t.Errorf("%s checksum %+v: bad, yet equal", name, c)
			}
		default:
			t.Errorf("%s checksum status %d", name, c.Status)
		}
	}
	// Unverified means bytes are missing (craft.ChecksumUnverified): a
	// whole, unfragmented packet has its checksum checked.
	if p.ICMPChecksum.Status == craft.ChecksumUnverified && !p.Truncated && !p.MoreFragments && p.FragOffset == 0 {
		t.Errorf("ICMP checksum %+v unverified in a complete, unfragmented packet", p.ICMPChecksum)
	}
	e := &p.Error
	switch p.Class {
	case craft.ClassEchoRequest, craft.ClassEchoReply:
		if p.ICMPChecksum.Status == 0 || *e != (craft.ICMPError{}) {
			t.Errorf("echo with ICMP checksum %+v and error %+v", p.ICMPChecksum, *e)
		}
		want := map[bool][2]uint8{false: {0, 8}, true: {129, 128}}[p.IPVersion == 6]
		if p.ICMPType != want[0] && p.ICMPType != want[1] {
			t.Errorf("echo class %v from ICMP type %d over IPv%d", p.Class, p.ICMPType, p.IPVersion)
		}
	case craft.ClassError:
		if e.Kind == 0 || e.Type != p.ICMPType || e.Code != p.ICMPCode || e.Six != (p.IPVersion == 6) {
			t.Errorf("error %+v from ICMP type %d code %d over IPv%d", *e, p.ICMPType, p.ICMPCode, p.IPVersion)
		}
		if p.Payload != nil {
			t.Errorf("error with an echo payload of %d bytes", len(p.Payload))
		}
		if !e.Quote.Present && e.Quote != (craft.Quote{}) {
			t.Errorf("absent quote with fields set: %+v", e.Quote)
		}
		if e.Quote.Echo && !e.Quote.Present {
			t.Errorf("quoted echo in an absent quote: %+v", e.Quote)
		}
	default:
		if p.Payload != nil || *e != (craft.ICMPError{}) {
			t.Errorf("class %v with payload %d bytes and error %+v", p.Class, len(p.Payload), *e)
		}
	}
	if s := p.String(); strings.ContainsAny(s, "\n\r") {
		t.Errorf("String() spans lines: %q", s)
	}
}
