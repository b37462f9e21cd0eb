package craft

import (
	"encoding/binary"
	"net/netip"

	"github.com/google/gopacket/layers"
)

// IPv4 options a probe may carry (RFC 791, section 3.1): record route and
// internet timestamp, as ping -R and -T ask for them.

// IPv4 option types.
const (
	ipOptNOP       = 1
	ipOptRR        = 7
	ipOptTimestamp = 68

	// IPOptionRecordRoute and IPOptionTimestamp are IPv4Option.Type's values.
	IPOptionRecordRoute = ipOptRR
	IPOptionTimestamp   = ipOptTimestamp
)

// TimestampFlag is what a timestamp option asks each hop to record.
type TimestampFlag uint8

const (
	TimestampOnly         TimestampFlag = 0 // a timestamp
	TimestampAndAddress   TimestampFlag = 1 // its address and a timestamp
	TimestampPrespecified TimestampFlag = 3 // a timestamp, if its address is listed
)

// MaxIPv4Options is the most option bytes an IPv4 header holds.
const MaxIPv4Options = 40

// RecordRouteOption is a record route option with room for nine addresses,
// behind a NOP that aligns it: 40 bytes, as ping -R sends it.
func RecordRouteOption() []byte {
	b := make([]byte, MaxIPv4Options)
	b[0], b[1], b[2], b[3] = ipOptNOP, ipOptRR, MaxIPv4Options-1, 4
	return b
}

// TimestampOption is a timestamp option of 40 bytes (36 when addresses
// are recorded: 4 pairs), as ping -T sends it. For TimestampPrespecified,
// prespec are the addresses asked to stamp (at most 4; IPv4 ones only),
// and the option is as long as they need.
func TimestampOption(flag TimestampFlag, prespec []netip.Addr) []byte {
	b := make([]byte, MaxIPv4Options)
	b[0], b[2], b[3] = ipOptTimestamp, 5, byte(flag)
	b[1] = MaxIPv4Options
	if flag != TimestampOnly {
		b[1] = 4 + 4*8
	}
	if flag == TimestampPrespecified {
		prespec = prespec[:min(len(prespec), 4)]
		b[1] = byte(4 + 8*len(prespec))
		b = b[:b[1]]
		for i, a := range prespec {
			a4 := a.Unmap().As4()
			copy(b[4+8*i:], a4[:])
		}
	}
	return b
}

// ipv4Options splits option bytes into gopacket's options, for an IPv4 layer
// to serialize.
func ipv4Options(b []byte) []layers.IPv4Option {
	var opts []layers.IPv4Option
	for len(b) > 0 {
		switch b[0] {
		case 0, ipOptNOP:
			opts = append(opts, layers.IPv4Option{OptionType: b[0], OptionLength: 1})
			b = b[1:]
			continue
		}
		if len(b) < 2 || int(b[1]) < 2 || int(b[1]) > len(b) {
			return opts
		}
		n := int(b[1])
		opts = append(opts, layers.IPv4Option{OptionType: b[0], OptionLength: b[1], OptionData: b[2:n]})
		b = b[n:]
	}
	return opts
}

// IPv4Option is a record route or timestamp option as a reply brought it
// back, decoded.
type IPv4Option struct {
	// Type is 7 (record route) or 68 (timestamp).
	Type uint8
	// Flag is a timestamp option's.
	Flag TimestampFlag
	// Addrs are the addresses recorded, in order; Stamps the timestamps
	// (milliseconds since midnight UT), one per address when both are.
	Addrs  []netip.Addr
	Stamps []uint32
	// Overflow counts the hops a full timestamp option could not record.
	Overflow int
}

// ParseIPv4Options finds the record route or timestamp option among the
// option bytes of an IPv4 header and returns what it recorded; ok is false
// when there is none. Lengths are checked before every read.
func ParseIPv4Options(b []byte) (o IPv4Option, ok bool) {
	for len(b) > 0 {
		typ := b[0]
		if typ == 0 {
			return o, false
		}
		if typ == ipOptNOP {
			b = b[1:]
			continue
		}
		if len(b) < 2 || int(b[1]) < 2 || int(b[1]) > len(b) {
			return o, false
		}
		opt := b[:b[1]]
		b = b[b[1]:]
		if len(opt) < 4 || (typ != ipOptRR && typ != ipOptTimestamp) {
			continue
		}
		o.Type = typ
		// The pointer is 1-based and points past what was recorded.
		used := min(int(opt[2])-1, len(opt))
		switch typ {
		case ipOptRR:
			for i := 3; i+4 <= used; i += 4 {
				o.Addrs = append(o.Addrs, netip.AddrFrom4([4]byte(opt[i:i+4])))
			}
		case ipOptTimestamp:
			o.Flag = TimestampFlag(opt[3] & 0x0f)
			o.Overflow = int(opt[3] >> 4)
			step := 4
			if o.Flag != TimestampOnly {
				step = 8
			}
			for i := 4; i+step <= used; i += step {
				if step == 8 {
					o.Addrs = append(o.Addrs, netip.AddrFrom4([4]byte(opt[i:i+4])))
				}
				o.Stamps = append(o.Stamps, binary.BigEndian.Uint32(opt[i+step-4:i+step]))
			}
		}
		return o, true
	}
	return o, false
}
