package craft_test

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pingcraft/pingcraft/craft"
)

var (
	testKey  = craft.Key{1, 2, 3, 4, 5, 6, 7, 8}
	testDst  = netip.MustParseAddr("198.18.1.2")
	testSent = time.Unix(1700000000, 123456789)
)

func TestPayloadLayout(t *testing.T) {
	auth := craft.NewAuthenticator(testKey)
	pr := &craft.Probe{ID: 0x1234, N: 7, Dst: testDst, Sent: testSent}
	tests := []struct {
		name    string
		p       craft.Payload
		fill    []byte // what follows the authenticator and send time
		hasAuth bool
		hasTime bool
	}{
		{"empty", craft.Payload{Size: 0, Auth: auth}, []byte{}, false, false},
		{"fill only", craft.Payload{Size: 4, Auth: auth}, []byte{0, 1, 2, 3}, false, false},
		{"seven bytes, no room", craft.Payload{Size: 7, Auth: auth}, []byte{0, 1, 2, 3, 4, 5, 6}, false, false},
		{"authenticator alone", craft.Payload{Size: 8, Auth: auth}, []byte{}, true, false},
		{"authenticator and fill", craft.Payload{Size: 10, Auth: auth}, []byte{8, 9}, true, false},
		{"pattern after authenticator", craft.Payload{Size: 11, Auth: auth, Pattern: []byte{0xff, 0}}, []byte{0xff, 0, 0xff}, true, false},
		{"authenticator, time, fill", craft.Payload{Size: 19, Auth: auth}, []byte{16, 17, 18}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.p.Append([]byte("prefix"), pr)
			if !bytes.HasPrefix(got, []byte("prefix")) || len(got) != len("prefix")+tt.p.Size {
				t.Fatalf("Append changed the prefix or has the wrong length: %x", got)
			}
			got = got[len("prefix"):]
			fill := got
			if tt.hasAuth {
				if bytes.Equal(got[:craft.AuthLen], make([]byte, craft.AuthLen)) {
					t.Errorf("authenticator is zero: %x", got)
				}
				fill = got[craft.AuthLen:]
			}
			if tt.hasTime {
				if ns := binary.BigEndian.Uint64(got[8:16]); ns != uint64(testSent.UnixNano()) {
					t.Errorf("timestamp = %d, want %d", ns, testSent.UnixNano())
				}
				fill = got[craft.PayloadHeader:]
			}
			if diff := cmp.Diff(tt.fill, fill); diff != "" {
				t.Errorf("fill (-want +got):\n%s", diff)
			}
			if tt.p.HasAuth() != tt.hasAuth || tt.p.HasTimestamp() != tt.hasTime {
				t.Errorf("HasAuth, HasTimestamp = %v, %v", tt.p.HasAuth(), tt.p.HasTimestamp())
			}
			if i := tt.p.Check(got, pr); i != -1 {
				t.Errorf("Check of its own payload = %d, want -1", i)
			}
			if !tt.p.Authentic(got, pr) {
				t.Error("Authentic is false for its own payload")
			}
		})
	}
}

// TestAuthenticator: the authenticator binds every field of the probe, the
// data size and the key, so that what a forger copies from one probe fits
// no other.
func TestAuthenticator(t *testing.T) {
	auth := craft.NewAuthenticator(testKey)
	base := craft.Probe{ID: 0x1234, N: 7, Dst: testDst, Sent: testSent}
	for _, size := range []int{8, 12, 16, 56} {
		p := craft.Payload{Size: size, Auth: auth}
		body := p.Append(nil, &base)
		others := map[string]craft.Probe{
			"other seq":           {ID: base.ID, N: 8, Dst: base.Dst, Sent: base.Sent},
			"same seq, next wrap": {ID: base.ID, N: base.N + 65536, Dst: base.Dst, Sent: base.Sent},
			"other id":            {ID: 0x1235, N: base.N, Dst: base.Dst, Sent: base.Sent},
			"other destination":   {ID: base.ID, N: base.N, Dst: netip.MustParseAddr("198.18.1.3"), Sent: base.Sent},
		}
		if p.HasTimestamp() {
			others["other send time"] = craft.Probe{ID: base.ID, N: base.N, Dst: base.Dst, Sent: base.Sent.Add(time.Nanosecond)}
		}
		for name, o := range others {
			if p.Authentic(body, &o) {
				t.Errorf("size %d: %s: a copied body is taken as authentic", size, name)
			}
		}
		otherKey := craft.Payload{Size: size, Auth: craft.NewAuthenticator(craft.Key{9})}
		if otherKey.Authentic(body, &base) {
			t.Errorf("size %d: another run's key accepts the body", size)
		}
		longer := craft.Payload{Size: size + 1, Auth: auth}
		if longer.Authentic(append(body, 0), &base) {
			t.Errorf("size %d: the body with a byte added is authentic for size %d", size, size+1)
		}
		if !p.Authentic(body[:craft.AuthLen], &base) {
			t.Errorf("size %d: the authenticator alone (an ICMP error's quote) is not authentic", size)
		}
		if p.Authentic(body[:craft.AuthLen-1], &base) {
			t.Errorf("size %d: 7 bytes taken as an authenticator", size)
		}
	}
	short := craft.Payload{Size: 7, Auth: auth}
	if !short.Authentic(nil, &base) {
		t.Error("a payload too short for an authenticator must not be refused for lacking one")
	}
}

func TestPayloadCheck(t *testing.T) {
	pr := &craft.Probe{ID: 1, N: 1, Dst: testDst, Sent: time.Unix(1700000000, 0)}
	p := craft.Payload{Size: 56, Auth: craft.NewAuthenticator(testKey)}
	good := p.Append(nil, pr)
	corrupt := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x80
		return b
	}
	later := *pr
	later.Sent = later.Sent.Add(time.Nanosecond)
	tests := []struct {
		name string
		got  []byte
		pr   *craft.Probe
		want int
	}{
		{"equal", good, pr, -1},
		{"foreign authenticator", corrupt(0), pr, 0},
		{"other send time", good, &later, 0},
		{"corrupted fill", corrupt(40), pr, 40},
		{"last byte", corrupt(55), pr, 55},
		{"short", good[:30], pr, 30},
		{"long", append(bytes.Clone(good), 0), pr, 56},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Check(tt.got, tt.pr); got != tt.want {
				t.Errorf("Check = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestParsePattern(t *testing.T) {
	tests := []struct {
		in      string
		want    []byte
		wantErr string
	}{
		{"ff", []byte{0xff}, ""},
		{"f", []byte{0x0f}, ""},
		{"0xDEADbeef", []byte{0xde, 0xad, 0xbe, 0xef}, ""},
		{"00112233445566778899aabbccddeeff", []byte{0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}, ""},
		{"", nil, "is empty"},
		{"zz", nil, "not hex"},
		{"00112233445566778899aabbccddeeff00", nil, "at most 16"},
	}
	for _, tt := range tests {
		got, err := craft.ParsePattern(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParsePattern(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParsePattern(%q): %v", tt.in, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParsePattern(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func BenchmarkPayloadAppend(b *testing.B) {
	p := craft.Payload{Size: 56, Auth: craft.NewAuthenticator(testKey)}
	buf := make([]byte, 0, 64)
	pr := &craft.Probe{ID: 1, Dst: testDst, Sent: time.Now()}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		pr.N = uint64(i)
		buf = p.Append(buf[:0], pr)
	}
}
