// Package tcpdump prints frames as tcpdump 4.99 does (-n always on), and
// writes pingcraft watch's per-frame JSON. It reads frames, never captures
// them: capture and capture/libpcap hand it bytes and a gopacket.CaptureInfo
// (and, from a file, the raw record header as a RecordHeader, for what a
// time.Time cannot hold).
//
// The printer follows tcpdump's netdissect printers function by function, so
// that a short or lying packet prints as tcpdump prints it; fixtures/tcpdump
// holds tcpdump's own output for every fixture, which the tests compare with
// byte for byte. The files follow tcpdump's: link.go (Ethernet, cooked
// headers, ARP), ip.go (IPv4, its options, ICMP and its extensions), ip6.go
// (IPv6, its extension headers, ICMPv6 and neighbour discovery),
// icmp6info.go (MLDv2, node information, router renumbering, RPL),
// ipsec.go (AH, ESP, IPComp, mobility), l4.go and mptcp.go (TCP, UDP),
// dns.go and names.go (DNS and domain names).
package tcpdump
