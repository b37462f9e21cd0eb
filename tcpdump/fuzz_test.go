package tcpdump

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/pingcraft/pingcraft/craft"
)

// fuzzLinks are the link types FuzzPrinter prints a frame as.
var fuzzLinks = []layers.LinkType{
	layers.LinkTypeEthernet, layers.LinkTypeRaw, layers.LinkTypeLinuxSLL,
	layers.LinkType(20), // LINUX_SLL2 as pcapgo reports it
	layers.LinkType(228), layers.LinkType(229),
	layers.LinkType(147), // USER0: the unsupported printer's hex dump
}

// fuzzOptions turns the bits of o into printing flags.
func fuzzOptions(o uint8) *PrintOptions {
	return &PrintOptions{
		Verbose:  int(o & 3),
		Ether:    o&4 != 0,
		Hex:      int(o>>3&3) % 3,
		ASCII:    o&32 != 0,
		Quiet:    o&64 != 0,
		Stamp:    Stamp(1 + o>>5%6),
		Location: time.UTC,
	}
}

// FuzzPrinter prints any bytes as a frame of any link type with any flags:
// it must never panic, and every frame ends its text with a newline.
func FuzzPrinter(f *testing.F) {
	for _, pf := range fixturePcaps(f) {
		for _, data := range pf.frames {
			for li, lt := range fuzzLinks {
				if lt == pf.link || (pf.link == layers.LinkTypeEthernet && li < 2) {
					f.Add(data, uint8(li), uint8(1), uint16(0))
					f.Add(data, uint8(li), uint8(0x0d), uint16(0))
				}
			}
		}
	}
	// Frames no fixture holds: Arista headers, SSH and timed.
	for _, data := range aristaFrames(f) {
		f.Add(data, uint8(0), uint8(1), uint16(0))
	}
	apps, _ := appFrames(f)
	for _, data := range apps {
		f.Add(data, uint8(1), uint8(1), uint16(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, link, opts uint8, extra uint16) {
		var out bytes.Buffer
		lt := craft.LinkTypeOf(fuzzLinks[int(link)%len(fuzzLinks)])
		p, err := NewLinkPrinter(&out, lt, fuzzOptions(opts))
		if err != nil {
			t.Fatal(err)
		}
		p.ifName = noInterfaces
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(1767225600, 0), CaptureLength: len(data), Length: len(data) + int(extra)}
		for i := 0; i < 2; i++ { // the second frame exercises the per-capture state
			if i == 1 { // and a record header, its fields from the input
				ci.AncillaryData = []interface{}{Record{Sec: uint32(extra) << 16, Frac: uint32(extra) * 997, Nano: extra&1 != 0,
					CapLen: uint32(len(data)), Len: uint32(len(data)) + uint32(extra)}}
			}
			out.Reset()
			if err := p.Print(data, ci); err != nil {
				t.Fatal(err)
			}
			if b := out.Bytes(); len(b) == 0 || b[len(b)-1] != '\n' {
				t.Fatalf("output %q does not end a line", b)
			}
		}
	})
}

// BenchmarkPrinter prints one IPv4 echo request as tcpdump -n and -n -v.
func BenchmarkPrinter(b *testing.B) {
	pf := readPcap(b, fixtureDir+"/echo.pcap")
	frame, ci := pf.frames[6], pf.infos[6] // seq 4, 56 data bytes
	for _, bc := range []struct {
		name string
		opts PrintOptions
	}{
		{"n", PrintOptions{}},
		{"n-v", PrintOptions{Verbose: 1}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			bc.opts.Location = time.UTC
			p, err := NewPrinter(io.Discard, pf.link, &bc.opts)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			for b.Loop() {
				if err := p.Print(frame, ci); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
