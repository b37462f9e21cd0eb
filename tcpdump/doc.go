// Package tcpdump prints frames as tcpdump 4.99 does (-n always on), and
// writes pingcraft watch's per-frame JSON. It reads frames, never captures
// them: capture and capture/libpcap hand it bytes and a gopacket.CaptureInfo.
//
// The printer follows tcpdump's netdissect printers function by function, so
// that a short or lying packet prints as tcpdump prints it; fixtures/tcpdump
// holds tcpdump's own output for every fixture, which the tests compare with
// byte for byte.
package tcpdump
