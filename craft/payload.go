package craft

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Probe payload layout (all sizes in bytes):
//
//	size >= 16:     authenticator(8) | send time(8, Unix ns, big-endian) | fill
//	8 <= size < 16: authenticator(8) | fill
//	size < 8:       fill
//
// The authenticator is HMAC-SHA256, keyed with the run's secret Key, of the
// probe's ICMP id, its number in the run (whose low 16 bits are its seq),
// its destination, the data size and, when the data carries it, the send
// time; the first 8 bytes of the MAC are written. Only the run can compute
// it, so a host that saw one probe cannot answer another it never got, nor
// replay a probe's body under another seq (the seq, the probe number and
// the send time are all under the MAC). Below 8 bytes there is no room for
// it and a reply cannot be told from a forgery.
//
// The send time is there for people reading a capture; RTTs come from the
// sender's own table, never from this field, which the peer controls. Fill
// byte i is Pattern[(i-start) % len(Pattern)], or byte(i) without a
// pattern, as iputils fills its data.
const (
	AuthLen       = 8
	TimestampLen  = 8
	PayloadHeader = AuthLen + TimestampLen
)

// KeyLen is the length of a run's secret key.
const KeyLen = 32

// Key is a run's secret: it keys the authenticator of every probe.
type Key [KeyLen]byte

// MaxPatternLen is the longest fill pattern, as with ping -p.
const MaxPatternLen = 16

// Probe is what a probe's authenticator binds: which probe of the run it
// is, where it went and when it was sent.
type Probe struct {
	ID uint16
	// N is the probe's number in its target's run, 1 first; its seq is
	// uint16(N). A number rather than the seq, so that a probe seen before
	// the seq wrapped cannot answer the one 65536 probes later.
	N    uint64
	Dst  netip.Addr
	Sent time.Time // written into data of PayloadHeader bytes or more
}

// Payload describes the echo data of every probe in a run.
type Payload struct {
	Size    int
	Pattern []byte // nil: byte i is i mod 256
	// Auth computes the authenticators; nil leaves the field zero (a
	// one-off packet, a fixture), which no run accepts.
	Auth *Authenticator
}

// HasAuth reports whether payloads of this size carry an authenticator:
// below AuthLen bytes a reply cannot be told from a forgery.
func (p *Payload) HasAuth() bool { return p.Size >= AuthLen }

// HasTimestamp reports whether payloads of this size carry the send time.
func (p *Payload) HasTimestamp() bool { return p.Size >= PayloadHeader }

func (p *Payload) fillStart() int {
	switch {
	case p.HasTimestamp():
		return PayloadHeader
	case p.HasAuth():
		return AuthLen
	}
	return 0
}

func (p *Payload) fill(i, start int) byte {
	if len(p.Pattern) == 0 {
		return byte(i)
	}
	return p.Pattern[(i-start)%len(p.Pattern)]
}

// header writes what precedes the fill of pr's payload into b, which holds
// at least p.fillStart() bytes.
func (p *Payload) header(b []byte, pr *Probe) {
	if p.HasTimestamp() {
		binary.BigEndian.PutUint64(b[AuthLen:], uint64(pr.Sent.UnixNano()))
	}
	if p.HasAuth() {
		clear(b[:AuthLen])
		if p.Auth != nil {
			p.Auth.tag(b[:AuthLen], p, pr)
		}
	}
}

// Append appends the payload of probe pr to dst.
func (p *Payload) Append(dst []byte, pr *Probe) []byte {
	n := len(dst)
	dst = slices.Grow(dst, p.Size)[:n+p.Size]
	b := dst[n:]
	p.header(b, pr)
	start := p.fillStart()
	for i := start; i < len(b); i++ {
		b[i] = p.fill(i, start)
	}
	return dst
}

// Authentic reports whether got, echo data or the part of it an ICMP error
// quotes, starts with probe pr's authenticator. It is true for payloads too
// short to carry one (see HasAuth), false when got is shorter than the
// authenticator.
func (p *Payload) Authentic(got []byte, pr *Probe) bool {
	if !p.HasAuth() {
		return true
	}
	if len(got) < AuthLen {
		return false
	}
	var want [AuthLen]byte
	if p.Auth != nil {
		p.Auth.tag(want[:], p, pr)
	}
	return subtle.ConstantTimeCompare(want[:], got[:AuthLen]) == 1
}

// Check compares got with the payload of probe pr. It returns -1 when they
// are equal, else the offset of the first differing byte (len(got) when got
// is short, p.Size when got is long).
func (p *Payload) Check(got []byte, pr *Probe) int {
	var hdr [PayloadHeader]byte
	start := p.fillStart()
	p.header(hdr[:], pr)
	for i := 0; i < len(got) && i < p.Size; i++ {
		want := hdr[min(i, PayloadHeader-1)]
		if i >= start {
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

// Authenticator computes probe authenticators with one key. It is not safe
// for concurrent use.
type Authenticator struct {
	mac hash.Hash
	in  [2 + 8 + 16 + 2 + TimestampLen]byte
	sum []byte
}

// NewAuthenticator returns an Authenticator keyed with k.
func NewAuthenticator(k Key) *Authenticator {
	return &Authenticator{mac: hmac.New(sha256.New, k[:]), sum: make([]byte, 0, sha256.Size)}
}

// tag writes pr's authenticator for data of p's size into dst.
func (a *Authenticator) tag(dst []byte, p *Payload, pr *Probe) {
	in := a.in[:]
	binary.BigEndian.PutUint16(in, pr.ID)
	binary.BigEndian.PutUint64(in[2:], pr.N)
	d := pr.Dst.Unmap().As16()
	copy(in[10:26], d[:])
	binary.BigEndian.PutUint16(in[26:], uint16(p.Size))
	n := 28
	if p.HasTimestamp() {
		binary.BigEndian.PutUint64(in[28:], uint64(pr.Sent.UnixNano()))
		n += TimestampLen
	}
	a.mac.Reset()
	a.mac.Write(in[:n])
	a.sum = a.mac.Sum(a.sum[:0])
	copy(dst, a.sum[:AuthLen])
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
