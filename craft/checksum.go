package craft

import "encoding/binary"

// The verifier sums received bytes exactly as they arrived. Re-serialising
// through gopacket would checksum a re-encoding (options normalised, lengths
// fixed) and could hide the very fault being looked for.

// Sum16 adds b to sum as big-endian 16-bit words, the Internet checksum's
// ones'-complement sum before folding (RFC 1071); an odd trailing byte is
// padded with zero. b must start at an even offset of the summed data.
func Sum16(sum uint32, b []byte) uint32 {
	n := len(b) &^ 1
	for i := 0; i < n; i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)&1 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	return sum
}

// Fold folds a Sum16 sum into 16 bits; its complement is the checksum.
func Fold(sum uint32) uint16 {
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return uint16(sum)
}

// pseudoHeader6 is the RFC 8200 section 8.1 pseudo-header sum.
func pseudoHeader6(src, dst []byte, length uint32, next uint8) uint32 {
	var s uint32
	s = Sum16(s, src)
	s = Sum16(s, dst)
	s += length>>16 + length&0xffff
	s += uint32(next)
	return s
}

// verify checks the 16-bit checksum stored at msg[at:at+2]. base is a
// pseudo-header sum (zero for ICMPv4 and the IPv4 header).
func verify(base uint32, msg []byte, at int) Checksum {
	got := binary.BigEndian.Uint16(msg[at:])
	s := Sum16(base, msg[:at])
	s = Sum16(s, msg[at+2:])
	want := ^Fold(s)
	status := ChecksumBad
	// Ones' complement has two zeros; a sum over everything that folds to
	// 0xffff is correct whichever of them the sender wrote.
	if Fold(s+uint32(got)) == 0xffff {
		status = ChecksumGood
	}
	return Checksum{Got: got, Want: want, Status: status}
}

// ChecksumStatus says whether a checksum could be checked and how it fared.
type ChecksumStatus uint8

const (
	_ ChecksumStatus = iota
	// ChecksumGood: the received value is correct.
	ChecksumGood
	// ChecksumBad: the received value differs from the correct one.
	ChecksumBad
	// ChecksumUnverified: the covered bytes are not all present (truncated
	// capture, fragment), so nothing can be said.
	ChecksumUnverified
)

// Checksum is a received checksum with the value it should have had.
type Checksum struct {
	Got    uint16
	Want   uint16
	Status ChecksumStatus
}

var checksumStatusNames = [...]string{ChecksumGood: "good", ChecksumBad: "bad", ChecksumUnverified: "unverified"}

func (s ChecksumStatus) String() string {
	if int(s) < len(checksumStatusNames) && checksumStatusNames[s] != "" {
		return checksumStatusNames[s]
	}
	return "none"
}
