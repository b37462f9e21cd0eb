package tcpdump

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/pingcraft/pingcraft/craft"
)

// JSONVersion is the version of pingcraft's JSON scheme that JSONWriter
// writes: every object carries it as "v".
const JSONVersion = 1

// timeLayout is RFC 3339 with nanoseconds, always nine digits.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// JSONWriter writes one JSON object per frame, a line each, from craft's
// decoding: pingcraft watch --json. A field that does not apply to a frame
// is left out; a field that applies is there even when zero; booleans are
// there only when true. It is not safe for concurrent use.
type JSONWriter struct {
	enc *json.Encoder
	dec *craft.Decoder // nil: craft decodes no frame of this link type
	p   craft.Packet
}

// NewJSONWriter returns a JSONWriter for frames of the given link type as
// gopacket's 8 bits hold it (LINUX_SLL2 may come as 20), writing to w.
// NewLinkJSONWriter takes the whole link type.
func NewJSONWriter(w io.Writer, link layers.LinkType) *JSONWriter {
	return NewLinkJSONWriter(w, craft.LinkTypeOf(link))
}

// NewLinkJSONWriter returns a JSONWriter for frames of link type link, the
// whole LINKTYPE_ value, writing to w. Frames of a link type craft does not
// decode are written with class "undecoded", their lengths and, in "hex",
// the bytes captured: what tcpdump's dump of them holds.
func NewLinkJSONWriter(w io.Writer, link craft.LinkType) *JSONWriter {
	j := &JSONWriter{enc: json.NewEncoder(w)}
	if dec, err := craft.NewDecoder(link); err == nil {
		j.dec = dec
	}
	return j
}

// frameJSON is one line of watch --json. Pointers and omitempty leave out
// what does not apply, so that a zero that applies is still written.
type frameJSON struct {
	V             int      `json:"v"`
	Event         string   `json:"event"`
	Time          string   `json:"time"`
	Bytes         int      `json:"bytes"`
	CapturedBytes int      `json:"captured_bytes"`
	Class         string   `json:"class"`
	Src           string   `json:"src,omitempty"`
	Dst           string   `json:"dst,omitempty"`
	TTL           *uint8   `json:"ttl,omitempty"`
	ID            *uint16  `json:"id,omitempty"`
	Seq           *uint16  `json:"seq,omitempty"`
	Query         string   `json:"query,omitempty"` // class query: e.g. timestamp-reply
	Times         []uint32 `json:"times,omitempty"` // timestamp: originate, receive, transmit
	IPChecksum    *sumJSON `json:"ip_checksum,omitempty"`
	ICMPChecksum  *sumJSON `json:"icmp_checksum,omitempty"`
	Error         string   `json:"error,omitempty"`
	Malformed     string   `json:"malformed,omitempty"`
	Truncated     bool     `json:"truncated,omitempty"`
	Hex           string   `json:"hex,omitempty"` // undecoded link types only
}

// sumJSON is a checksum as received, as it should be, and the verdict.
type sumJSON struct {
	Got    string `json:"got"`
	Want   string `json:"want,omitempty"`
	Status string `json:"status"`
}

// sumOf is nil for a checksum that was not there to check. An unverified
// one (its data cut by the capture, say) has no want.
func sumOf(c craft.Checksum) *sumJSON {
	if c.Status == 0 {
		return nil
	}
	s := &sumJSON{Got: fmt.Sprintf("0x%04x", c.Got), Status: c.Status.String()}
	if c.Status != craft.ChecksumUnverified {
		s.Want = fmt.Sprintf("0x%04x", c.Want)
	}
	return s
}

// Print writes the object of one frame: data as captured, ci.Length its
// length on the wire (0 means len(data)). It does not keep data. The only
// errors are the writer's.
func (j *JSONWriter) Print(data []byte, ci gopacket.CaptureInfo) error {
	o := frameJSON{
		V: JSONVersion, Event: "frame", Time: ci.Timestamp.UTC().Format(timeLayout),
		Bytes: max(ci.Length, len(data)), CapturedBytes: len(data), Class: "undecoded",
	}
	if j.dec == nil {
		o.Hex = hex.EncodeToString(data)
	} else {
		p := &j.p
		err := j.dec.Decode(data, p)
		o.Class = p.Class.String()
		if p.Src.IsValid() {
			ttl := p.TTL
			o.Src, o.Dst, o.TTL = p.Src.String(), p.Dst.String(), &ttl
		}
		switch p.Class {
		case craft.ClassEchoRequest, craft.ClassEchoReply:
			id, seq := p.ID, p.Seq
			o.ID, o.Seq = &id, &seq
		case craft.ClassQuery:
			id, seq := p.ID, p.Seq
			o.ID, o.Seq = &id, &seq
			o.Query = p.Query.String() + map[bool]string{true: "-reply", false: "-request"}[p.QueryReply]
			if p.Query == craft.QueryTimestamp {
				o.Times = p.Times[:]
			}
		case craft.ClassError:
			o.Error = p.Error.String()
		}
		o.IPChecksum, o.ICMPChecksum = sumOf(p.IPChecksum), sumOf(p.ICMPChecksum)
		o.Truncated, o.Malformed = p.Truncated, p.Malformed
		if err != nil && o.Malformed == "" {
			o.Malformed = err.Error()
		}
	}
	return j.enc.Encode(&o)
}
