package craft

import (
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// ipv4Layer stops the parser at an IP-in-IP payload: the decoder classifies
// the outermost packet, which a second pass through the same layer struct
// would overwrite.
type ipv4Layer struct {
	layers.IPv4
}

func (ip *ipv4Layer) NextLayerType() gopacket.LayerType {
	if isTunnel(ip.Protocol) {
		return gopacket.LayerTypePayload
	}
	return ip.IPv4.NextLayerType()
}

// ipv6Layer corrects gopacket v1.1.19's IPv6 decoding when a hop-by-hop
// header is present: gopacket cuts the payload Length bytes after the
// hop-by-hop header, but Length already counts that header, so the upper
// layer reached past the packet and complete packets looked truncated.
type ipv6Layer struct {
	layers.IPv6
}

func (ip *ipv6Layer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	var tr truncation
	if err := ip.IPv6.DecodeFromBytes(data, &tr); err != nil {
		if tr {
			df.SetTruncated()
		}
		return err
	}
	hbh := ip.HopByHop
	if hbh == nil || ip.Length == 0 { // no hop-by-hop, or a jumbogram gopacket sized itself
		if tr {
			df.SetTruncated()
		}
		return nil
	}
	start := ipv6HeaderLen + hbh.ActualLength
	end := ipv6HeaderLen + int(ip.Length)
	switch {
	case end < start:
		ip.Payload = data[start:start]
		df.SetTruncated()
	case end > len(data):
		ip.Payload = data[start:]
		df.SetTruncated()
	default:
		ip.Payload = data[start:end]
	}
	return nil
}

func (ip *ipv6Layer) NextLayerType() gopacket.LayerType {
	if isTunnel(nextHeader(&ip.IPv6)) {
		return gopacket.LayerTypePayload
	}
	return ip.IPv6.NextLayerType()
}

func isTunnel(p layers.IPProtocol) bool {
	return p == layers.IPProtocolIPv4 || p == layers.IPProtocolIPv6
}
