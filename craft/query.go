package craft

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Query is the ICMPv4 query an Echo is: echo (the default), timestamp,
// address mask or information. ICMPv6 has echo only.
type Query uint8

const (
	QueryEcho Query = iota
	QueryTimestamp
	QueryMask
	QueryInfo
)

var queryNames = [...]string{"echo", "timestamp", "mask", "info"}

func (q Query) String() string {
	if int(q) < len(queryNames) {
		return queryNames[q]
	}
	return fmt.Sprintf("Query(%d)", uint8(q))
}

// ParseQuery reads --icmp-type's words.
func ParseQuery(s string) (Query, error) {
	for i, n := range queryNames {
		if n == s {
			return Query(i), nil
		}
	}
	return 0, fmt.Errorf("--icmp-type %q: use echo, timestamp, mask or info", s)
}

// ICMPv4 types of the queries (RFC 792, RFC 950): request, reply.
var queryTypes = [...][2]uint8{QueryEcho: {8, 0}, QueryTimestamp: {13, 14}, QueryMask: {17, 18}, QueryInfo: {15, 16}}

// queryOf is the query and direction of an ICMPv4 type.
func queryOf(typ uint8) (q Query, reply, ok bool) {
	for i, t := range queryTypes {
		switch typ {
		case t[0]:
			return Query(i), false, true
		case t[1]:
			return Query(i), true, true
		}
	}
	return 0, false, false
}

// queryBody is what follows the identifier and sequence number: the
// originate, receive and transmit times of a timestamp message, the mask
// of an address mask one, nothing for information.
func (e *Echo) queryBody() []byte {
	switch e.Query {
	case QueryTimestamp:
		b := make([]byte, 12)
		binary.BigEndian.PutUint32(b, e.Times[0])
		binary.BigEndian.PutUint32(b[4:], e.Times[1])
		binary.BigEndian.PutUint32(b[8:], e.Times[2])
		return b
	case QueryMask:
		return binary.BigEndian.AppendUint32(nil, e.Mask)
	}
	return nil
}

// MillisecondsToday is an ICMP timestamp: milliseconds since midnight UT
// (RFC 792).
func MillisecondsToday(t time.Time) uint32 {
	t = t.UTC()
	return uint32(t.Sub(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)) / time.Millisecond)
}
