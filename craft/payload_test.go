package craft_test

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pingcraft/pingcraft/craft"
)

func TestPayloadLayout(t *testing.T) {
	sent := time.Unix(1700000000, 123456789)
	cookie := craft.Cookie{0xc0, 0x0c, 0x1e, 0, 1, 2, 3, 4}
	tests := []struct {
		name    string
		p       craft.Payload
		want    []byte
		hasTime bool
	}{
		{"empty", craft.Payload{Size: 0, Cookie: cookie}, []byte{}, false},
		{"fill only", craft.Payload{Size: 4, Cookie: cookie}, []byte{0, 1, 2, 3}, false},
		{"cookie and fill", craft.Payload{Size: 10, Cookie: cookie}, append(cookie[:], 8, 9), false},
		{"pattern after cookie", craft.Payload{Size: 11, Cookie: cookie, Pattern: []byte{0xff, 0}}, append(cookie[:], 0xff, 0, 0xff), false},
		{"cookie, time, fill", craft.Payload{Size: 19, Cookie: cookie}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.p.Append([]byte("prefix"), sent)
			if !bytes.HasPrefix(got, []byte("prefix")) || len(got) != len("prefix")+tt.p.Size {
				t.Fatalf("Append changed the prefix or has the wrong length: %x", got)
			}
			got = got[len("prefix"):]
			if tt.hasTime {
				if ns := binary.BigEndian.Uint64(got[8:16]); ns != uint64(sent.UnixNano()) {
					t.Errorf("timestamp = %d, want %d", ns, sent.UnixNano())
				}
				want := append(append(cookie[:], got[8:16]...), 16, 17, 18)
				tt.want = want
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("payload (-want +got):\n%s", diff)
			}
			if tt.p.HasTimestamp() != tt.hasTime {
				t.Errorf("HasTimestamp = %v", tt.p.HasTimestamp())
			}
			if i := tt.p.Check(got, sent); i != -1 {
				t.Errorf("Check of its own payload = %d, want -1", i)
			}
		})
	}
}

func TestPayloadCheck(t *testing.T) {
	sent := time.Unix(1700000000, 0)
	p := craft.Payload{Size: 56, Cookie: craft.Cookie{1, 2, 3, 4, 5, 6, 7, 8}}
	good := p.Append(nil, sent)
	corrupt := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x80
		return b
	}
	tests := []struct {
		name string
		got  []byte
		sent time.Time
		want int
	}{
		{"equal", good, sent, -1},
		{"foreign cookie", corrupt(0), sent, 0},
		{"other send time", good, sent.Add(time.Nanosecond), 15},
		{"corrupted fill", corrupt(40), sent, 40},
		{"last byte", corrupt(55), sent, 55},
		{"short", good[:30], sent, 30},
		{"long", append(bytes.Clone(good), 0), sent, 56},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Check(tt.got, tt.sent); got != tt.want {
				t.Errorf("Check = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestCookieOf(t *testing.T) {
	if _, ok := craft.CookieOf([]byte{1, 2, 3}); ok {
		t.Error("CookieOf found a cookie in 3 bytes")
	}
	c, ok := craft.CookieOf([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9})
	if !ok || c != (craft.Cookie{1, 2, 3, 4, 5, 6, 7, 8}) {
		t.Errorf("CookieOf = %x, %v", c, ok)
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
	p := craft.Payload{Size: 56}
	buf := make([]byte, 0, 64)
	now := time.Now()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = p.Append(buf[:0], now)
	}
}
