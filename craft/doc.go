// Package craft builds ICMP echo probes at every depth of the stack and decodes
// any captured frame into a classified result. It is pure: no sockets, no
// syscalls, and it builds on every GOOS.
//
// Building goes through gopacket.SerializeLayers with ComputeChecksums and
// FixLengths, so checksums cover header and payload (RFC 792 for ICMPv4,
// RFC 4443 section 2.3 with the RFC 8200 pseudo-header for ICMPv6, RFC 791 for
// the IPv4 header). Who computes each checksum on the wire depends on the
// transport: for DepthEthernet and DepthIP every checksum in the frame is ours;
// for DepthICMP over a raw IPv4 socket the ICMP checksum is ours and the kernel
// writes the IP header; over a raw ICMPv6 socket or a ping socket the kernel
// rewrites the ICMP(v6) checksum (and, on a ping socket, the identifier).
//
// Decoding uses gopacket's DecodingLayerParser with preallocated layers; only
// what gopacket lacks (Linux cooked capture v2, IPv6 fragment headers, the
// quoted packet inside ICMP errors) is parsed here, with a length check before
// every index.
package craft
