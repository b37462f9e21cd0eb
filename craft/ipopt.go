package craft

import (
	"encoding/binary"
	"net/netip"
	"time"

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

// RecordOwn writes the sending host's own entry into option bytes made by
// RecordRouteOption or TimestampOption, as the kernel writes it into a
// socket's IP_OPTIONS when it sends: src in the first free slot of a record
// route, the time of now (milliseconds since midnight UT) and, where the
// option asks, src into a timestamp option, its pointer moved past them.
// Prespecified timestamps are written only when the next address is src.
// A full timestamp option counts one more unrecorded hop instead. The
// kernel does the same for a packet it receives: with src the receiver's
// address, RecordOwn makes a captured packet read as a socket reads it.
// b is changed in place and returned.
func RecordOwn(b []byte, src netip.Addr, now time.Time) []byte {
	opt := b
	for len(opt) > 0 && opt[0] == ipOptNOP {
		opt = opt[1:]
	}
	if len(opt) < 4 || int(opt[1]) > len(opt) || !src.Is4() && !src.Is4In6() {
		return b
	}
	opt = opt[:opt[1]]
	a4 := src.Unmap().As4()
	ptr := int(opt[2]) // 1-based
	utc := now.UTC()
	midnight := time.Date(utc.Year(), utc.Month(), utc.Day(), 0, 0, 0, 0, time.UTC)
	ms := uint32(utc.Sub(midnight) / time.Millisecond)
	switch opt[0] {
	case ipOptRR:
		if ptr+3 <= len(opt) {
			copy(opt[ptr-1:], a4[:])
			opt[2] += 4
		}
	case ipOptTimestamp:
		step := 8
		if TimestampFlag(opt[3]&0x0f) == TimestampOnly {
			step = 4
		}
		if ptr+step-1 > len(opt) {
			// Full: a hop that would have stamped counts as unrecorded
			// (not for prespecified addresses, which name their hops).
			if overflow := opt[3] >> 4; overflow < 15 && TimestampFlag(opt[3]&0x0f) != TimestampPrespecified {
				opt[3] = opt[3]&0x0f | (overflow+1)<<4
			}
			return b
		}
		switch TimestampFlag(opt[3] & 0x0f) {
		case TimestampOnly:
			if ptr+3 <= len(opt) {
				binary.BigEndian.PutUint32(opt[ptr-1:], ms)
				opt[2] += 4
			}
		case TimestampAndAddress:
			if ptr+7 <= len(opt) {
				copy(opt[ptr-1:], a4[:])
				binary.BigEndian.PutUint32(opt[ptr+3:], ms)
				opt[2] += 8
			}
		case TimestampPrespecified:
			if ptr+7 <= len(opt) && [4]byte(opt[ptr-1:ptr+3]) == a4 {
				binary.BigEndian.PutUint32(opt[ptr+3:], ms)
				opt[2] += 8
			}
		}
	}
	return b
}
