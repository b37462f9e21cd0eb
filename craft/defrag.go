package craft

import (
	"net/netip"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Limits of a Reassembler, after the kernel's: a datagram is at most 65535
// bytes, waits at most ReassemblyTimeout (net.ipv4.ipfrag_time), and few
// are held at once, so that a flood of fragments costs bounded memory.
const (
	ReassemblyTimeout  = 30 * time.Second
	maxReassembling    = 16
	maxFragments       = 64
	maxDatagramPayload = 65535
)

// Reassembler puts fragmented IPv4 and IPv6 datagrams back together, as the
// IP layer does before any socket sees them: a capture below the IP layer
// (an AF_PACKET ring) sees the fragments. As Linux does, a datagram whose
// fragments overlap is dropped whole (RFC 5722), and so is one that would
// exceed 65535 bytes. Its zero value is ready; it is not safe for
// concurrent use.
type Reassembler struct {
	pending []*datagram
	out     gopacket.SerializeBuffer
}

type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
}

type datagram struct {
	key   fragKey
	since time.Time
	data  []byte
	spans [][2]int // [start, end) of each fragment received
	total int      // payload length, -1 until the last fragment came
	first Packet   // the header fields of the fragment at offset 0
	have0 bool
}

// IsFragment reports whether p is a fragment of a larger datagram.
func (p *Packet) IsFragment() bool {
	return p.IPVersion != 0 && (p.MoreFragments || p.FragOffset > 0)
}

// Add takes the fragment p, decoded at time now, and returns the whole
// datagram (an IP packet: header and payload, in a buffer of r's, valid
// until the next Add) once every fragment of it has come; otherwise nil.
// Datagrams older than ReassemblyTimeout are dropped.
func (r *Reassembler) Add(p *Packet, now time.Time) []byte {
	r.expire(now)
	if !p.IsFragment() || p.Truncated || len(p.FragData) == 0 && p.MoreFragments {
		return nil
	}
	if p.MoreFragments && len(p.FragData)%8 != 0 {
		return nil // every fragment but the last carries a multiple of 8
	}
	key := fragKey{p.Src, p.Dst, p.FragID, p.Protocol}
	d := r.find(key)
	if d == nil {
		if len(r.pending) >= maxReassembling {
			r.pending = r.pending[1:] // the oldest gives way
		}
		d = &datagram{key: key, since: now, total: -1}
		r.pending = append(r.pending, d)
	}
	start, end := p.FragOffset, p.FragOffset+len(p.FragData)
	bad := end > maxDatagramPayload || len(d.spans) >= maxFragments ||
		!p.MoreFragments && d.total >= 0 && d.total != end || d.total >= 0 && end > d.total
	for _, s := range d.spans {
		if start < s[1] && s[0] < end {
			bad = true // overlapping: a datagram no stack would accept
		}
	}
	if bad {
		r.drop(d)
		return nil
	}
	if len(d.data) < end {
		d.data = append(d.data, make([]byte, end-len(d.data))...)
	}
	copy(d.data[start:end], p.FragData)
	d.spans = append(d.spans, [2]int{start, end})
	if !p.MoreFragments {
		d.total = end
		for _, s := range d.spans {
			if s[1] > end {
				r.drop(d)
				return nil
			}
		}
	}
	if start == 0 {
		d.first, d.have0 = *p, true
		d.first.FragData, d.first.Payload, d.first.VLAN, d.first.SrcMAC, d.first.DstMAC, d.first.QuoteData = nil, nil, nil, nil, nil, nil
		d.first.IPOptions = append([]byte(nil), p.IPOptions...)
	}
	if d.total < 0 || !d.have0 {
		return nil
	}
	got := 0
	for _, s := range d.spans {
		got += s[1] - s[0]
	}
	if got != d.total {
		return nil
	}
	r.drop(d)
	return r.build(d)
}

// build writes d's datagram as one IP packet, with the first fragment's
// header fields.
func (r *Reassembler) build(d *datagram) []byte {
	if r.out == nil {
		r.out = gopacket.NewSerializeBuffer()
	}
	f := &d.first
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	var ip gopacket.SerializableLayer
	if f.IPVersion == 4 {
		v4 := &layers.IPv4{Version: 4, TOS: f.TOS, Id: f.IPID, TTL: f.TTL, Protocol: layers.IPProtocol(f.Protocol),
			SrcIP: f.Src.AsSlice(), DstIP: f.Dst.AsSlice()}
		if f.DontFragment {
			v4.Flags = layers.IPv4DontFragment
		}
		if len(f.IPOptions) > 0 {
			v4.Options = ipv4Options(f.IPOptions)
		}
		ip = v4
	} else {
		ip = &layers.IPv6{Version: 6, TrafficClass: f.TOS, HopLimit: f.TTL, NextHeader: layers.IPProtocol(f.Protocol),
			SrcIP: f.Src.AsSlice(), DstIP: f.Dst.AsSlice()}
	}
	if gopacket.SerializeLayers(r.out, opts, ip, gopacket.Payload(d.data)) != nil {
		return nil
	}
	return r.out.Bytes()
}

func (r *Reassembler) find(k fragKey) *datagram {
	for _, d := range r.pending {
		if d.key == k {
			return d
		}
	}
	return nil
}

func (r *Reassembler) drop(d *datagram) {
	for i, x := range r.pending {
		if x == d {
			r.pending = append(r.pending[:i], r.pending[i+1:]...)
			return
		}
	}
}

func (r *Reassembler) expire(now time.Time) {
	i := 0
	for i < len(r.pending) && now.Sub(r.pending[i].since) > ReassemblyTimeout {
		i++
	}
	r.pending = r.pending[i:]
}

// Pending returns how many datagrams wait for fragments.
func (r *Reassembler) Pending() int { return len(r.pending) }

// IPRefusal says why the IP layer of the receiving host would drop p, as
// Linux's ip_rcv and ipv6_rcv check a packet before anything else sees it,
// or "" when it would take it. wire is how many bytes from the IP header
// on the frame had on the wire (not what a capture kept of them).
func (p *Packet) IPRefusal(wire int) string {
	switch p.IPVersion {
	case 4:
		hdr := 20 + len(p.IPOptions)
		switch {
		case p.IPChecksum.Status == ChecksumBad:
			return "bad IPv4 header checksum"
		case p.IPLength > wire:
			return "IPv4 total length beyond the frame"
		case p.IPLength < hdr:
			return "IPv4 total length shorter than its header"
		}
	case 6:
		if p.IPLength > wire {
			return "IPv6 payload length beyond the frame"
		}
	}
	return ""
}
