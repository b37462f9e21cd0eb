package tcpdump

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/gopacket"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/lab/labtest"
)

// unsupportedFrames are frames of a link type the printer does not decode:
// 40 bytes counting up (a full line and a short one), one cut by the
// capture, one byte.
func unsupportedFrames() (frames [][]byte, wire []int) {
	count := make([]byte, 40)
	for i := range count {
		count[i] = byte(i)
	}
	return [][]byte{count, []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdef\x00\xff"), {1}}, []int{40, 49, 1}
}

// unsupportedPcap is frames as a pcap file of link type link, whatever
// its width, stamped 2026-01-01 + i ms.
func unsupportedPcap(link craft.LinkType, frames [][]byte, wire []int) []byte {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, 0xa1b2c3d4)
	b = le.AppendUint32(b, 0x00040002)
	b = le.AppendUint32(le.AppendUint32(b, 0), 0)
	b = le.AppendUint32(le.AppendUint32(b, 65535), uint32(link))
	for i, f := range frames {
		b = le.AppendUint32(le.AppendUint32(b, 1767225600), uint32(i*1000))
		b = le.AppendUint32(le.AppendUint32(b, uint32(len(f))), uint32(wire[i]))
		b = append(b, f...)
	}
	return b
}

func printFrames(t *testing.T, link craft.LinkType, o PrintOptions, frames [][]byte, wire []int) string {
	t.Helper()
	var out bytes.Buffer
	o.Location = time.UTC
	p, err := NewLinkPrinter(&out, link, &o)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(1767225600, int64(i)*1e6), CaptureLength: len(f), Length: wire[i]}
		if err := p.Print(f, ci); err != nil {
			t.Fatal(err)
		}
	}
	return out.String()
}

// TestLinkPrinterUnsupported: a link type without a printer is dumped as
// tcpdump 4.99.3 dumps it (these lines are its output for the same file);
// 257 is not cut to 1 (EN10MB).
func TestLinkPrinterUnsupported(t *testing.T) {
	frames, wire := unsupportedFrames()
	const dump0 = "00:00:00.000000 UNSUPPORTED\n" +
		"\t0x0000:  0001 0203 0405 0607 0809 0a0b 0c0d 0e0f  ................\n" +
		"\t0x0010:  1011 1213 1415 1617 1819 1a1b 1c1d 1e1f  ................\n" +
		"\t0x0020:  2021 2223 2425 2627                      .!\"#$%&'\n"
	const dump1 = "00:00:00.001000 UNSUPPORTED\n" +
		"\t0x0000:  4142 4344 4546 4748 494a 4b4c 4d4e 4f50  ABCDEFGHIJKLMNOP\n" +
		"\t0x0010:  5152 5354 5556 5758 595a 3031 3233 3435  QRSTUVWXYZ012345\n" +
		"\t0x0020:  3637 3839 6162 6364 6566 00ff            6789abcdef..\n"
	const dump2 = "00:00:00.002000 UNSUPPORTED\n" +
		"\t0x0000:  01                                       .\n"
	// -x and -xx dump the whole frame again: there is no link header.
	const hex0 = "\t0x0000:  0001 0203 0405 0607 0809 0a0b 0c0d 0e0f\n" +
		"\t0x0010:  1011 1213 1415 1617 1819 1a1b 1c1d 1e1f\n" +
		"\t0x0020:  2021 2223 2425 2627\n"
	tests := []struct {
		name string
		link craft.LinkType
		opts PrintOptions
		want string
	}{
		{"user0", 147, PrintOptions{}, dump0 + dump1 + dump2},
		{"beyond 8 bits", 257, PrintOptions{Ether: true, Verbose: 2}, dump0 + dump1 + dump2},
		{"-x", 147, PrintOptions{Hex: 1}, dump0 + hex0 + dump1[:len(dump1)-1] + "\n" +
			"\t0x0000:  4142 4344 4546 4748 494a 4b4c 4d4e 4f50\n" +
			"\t0x0010:  5152 5354 5556 5758 595a 3031 3233 3435\n" +
			"\t0x0020:  3637 3839 6162 6364 6566 00ff\n" +
			dump2 + "\t0x0000:  01\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, printFrames(t, tt.link, tt.opts, frames, wire)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestLinkPrinterUnsupportedTcpdump compares the dump with the installed
// tcpdump under every flag set, for link types on both sides of 255.
func TestLinkPrinterUnsupportedTcpdump(t *testing.T) {
	tcpdump := labtest.RequireTool(t, "tcpdump", "tcpdump")
	frames, wire := unsupportedFrames()
	for _, link := range []craft.LinkType{147, 257, 264} {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("link-%d.pcap", link))
		if err := os.WriteFile(path, unsupportedPcap(link, frames, wire), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, fl := range printFlagSets {
			t.Run(fmt.Sprintf("%d/%s", link, fl.name), func(t *testing.T) {
				want := runTcpdump(t, tcpdump, false, fl.args, path)
				compareOutput(t, filepath.Base(path), fl.name, len(frames), want, printFrames(t, link, fl.opts, frames, wire))
			})
		}
	}
}
