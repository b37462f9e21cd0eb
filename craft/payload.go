package craft

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Probe payload layout (all sizes in bytes):
//
//	size >= 16:     cookie(8) | send time(8, Unix ns, big-endian) | fill
//	8 <= size < 16: cookie(8) | fill
//	size < 8:       fill
//
// The cookie is random per run, so replies to another pinger that happens to
// use the same ICMP id are rejected. The send time is there for people reading
// a capture; RTTs come from the sender's own table, never from this field,
// which the peer controls. Fill byte i is Pattern[(i-start) % len(Pattern)],
// or byte(i) without a pattern, as iputils fills its data.
const (
	CookieLen     = 8
	TimestampLen  = 8
	PayloadHeader = CookieLen + TimestampLen
)

// MaxPatternLen is the longest fill pattern, as with ping -p.
const MaxPatternLen = 16

// Cookie tells this run's probes from everyone else's.
type Cookie [CookieLen]byte

// Payload describes the echo data of every probe in a run.
type Payload struct {
	Size    int
	Cookie  Cookie
	Pattern []byte // nil: byte i is i mod 256
}

// HasCookie reports whether payloads of this size carry the cookie.
func (p *Payload) HasCookie() bool { return p.Size >= CookieLen }

// HasTimestamp reports whether payloads of this size carry the send time.
func (p *Payload) HasTimestamp() bool { return p.Size >= PayloadHeader }

func (p *Payload) fillStart() int {
	switch {
	case p.HasTimestamp():
		return PayloadHeader
	case p.HasCookie():
		return CookieLen
	}
	return 0
}

func (p *Payload) fill(i, start int) byte {
	if len(p.Pattern) == 0 {
		return byte(i)
	}
	return p.Pattern[(i-start)%len(p.Pattern)]
}

// Append appends the payload for a probe sent at sent to dst.
func (p *Payload) Append(dst []byte, sent time.Time) []byte {
	n := len(dst)
	dst = slices.Grow(dst, p.Size)[:n+p.Size]
	b := dst[n:]
	if p.HasCookie() {
		copy(b, p.Cookie[:])
	}
	if p.HasTimestamp() {
		binary.BigEndian.PutUint64(b[CookieLen:], uint64(sent.UnixNano()))
	}
	start := p.fillStart()
	for i := start; i < len(b); i++ {
		b[i] = p.fill(i, start)
	}
	return dst
}

// Check compares got with the payload of the probe sent at sent. It returns
// -1 when they are equal, else the offset of the first differing byte
// (len(got) when got is short, p.Size when got is long).
func (p *Payload) Check(got []byte, sent time.Time) int {
	var ts [TimestampLen]byte
	binary.BigEndian.PutUint64(ts[:], uint64(sent.UnixNano()))
	start := p.fillStart()
	for i := 0; i < len(got) && i < p.Size; i++ {
		var want byte
		switch {
		case i < start && i < CookieLen:
			want = p.Cookie[i]
		case i < start:
			want = ts[i-CookieLen]
		default:
			want = p.fill(i, start)
		}
		if got[i] != want {
			return i
		}
	}
	switch {
	case len(got) < p.Size:
		return len(got)
	case len(got) > p.Size:
		return p.Size
	}
	return -1
}

// CookieOf returns the cookie at the start of an echo payload, if it has one.
func CookieOf(b []byte) (Cookie, bool) {
	var c Cookie
	if len(b) < CookieLen {
		return c, false
	}
	copy(c[:], b)
	return c, true
}

// ParsePattern parses a ping -p style pattern: up to 16 bytes in hex, an odd
// digit count meaning a leading zero nibble ("f" is 0x0f).
func ParsePattern(s string) ([]byte, error) {
	t := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if t == "" {
		return nil, fmt.Errorf("craft: pattern %q is empty: give 1 to %d bytes in hex, e.g. -p ff00", s, MaxPatternLen)
	}
	if len(t)%2 == 1 {
		t = "0" + t
	}
	b, err := hex.DecodeString(t)
	if err != nil {
		return nil, fmt.Errorf("craft: pattern %q is not hex: give 1 to %d bytes in hex, e.g. -p ff00", s, MaxPatternLen)
	}
	if len(b) > MaxPatternLen {
		return nil, fmt.Errorf("craft: pattern %q is %d bytes: at most %d are allowed", s, len(b), MaxPatternLen)
	}
	return b, nil
}
