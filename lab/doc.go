// Package lab builds throwaway network namespaces on one machine, host ->
// router -> target joined by veth pairs, for the `pingcraft lab` demo and for
// integration tests. Traffic never leaves the machine. It needs root and
// Linux; on other systems every function returns an error.
//
// The addressing plan is fixed: 198.18.0.0/15 is the benchmarking range (RFC
// 2544) and fd00:198:18::/48 a ULA prefix (RFC 4193), so nothing in the lab can
// be mistaken for a real network.
//
//	namespace            link  IPv4            IPv6                  routes
//	pingcraft-ID-host    h0    198.18.0.2/24   fd00:198:18::2/64     default via 198.18.0.1 / fd00:198:18::1
//	pingcraft-ID-router  r0    198.18.0.1/24   fd00:198:18::1/64     unreachable 198.18.9.0/24, fd00:198:18:9::/64
//	                     r1    198.18.1.1/24   fd00:198:18:1::1/64   198.18.64.0/18, fd00:198:18:64::/64 via the target
//	pingcraft-ID-target  t0    198.18.1.2/24   fd00:198:18:1::2/64   default via 198.18.1.1 / fd00:198:18:1::1
//	                     lo                                          local 198.18.64.0/18, fd00:198:18:64::/64
//
// h0-r0 and r1-t0 are veth pairs. The router forwards IPv4 and IPv6, so the
// target is two hops away (replies arrive with TTL 63), a probe with TTL 1
// draws "time exceeded" from 198.18.0.1 (fd00:198:18::1), and anything sent to
// Lab.Unreachable4 or Lab.Unreachable6 draws "destination unreachable" from
// the router (host unreachable in IPv4, no route in IPv6). The target
// answers on every address of Lab.Many4 and Lab.Many6, for runs with
// thousands of targets.
//
// When New returns, every link is up and running and every IPv6 address,
// link-local ones included, is usable: duplicate address detection is off in
// all three namespaces and New waits for the kernel to finish bringing the
// links up. Nothing has been sent that would fill a neighbour table (no
// router solicitations, no pings): the first probe triggers ARP or NDP, which
// tests can observe. The kernel still sends MLD reports for the multicast
// groups each interface joins.
//
// ICMP error rate limiting is off in every namespace so tests can provoke
// errors back to back, with one exception the kernel does not let a namespace
// change: IPv4 "unreachable" for Unreachable4 is limited by the host-wide
// net.ipv4.route.error_cost and error_burst, by default 5 in a burst and then
// one a second per sender.
//
// Namespaces are named "pingcraft-ID-host", "-router" and "-target" and live
// under /run/netns like those of `ip netns add`, so `ip netns exec` works on
// them. Interface names are the same in every lab; they never collide because
// each veth is created inside its namespaces. Close removes a lab; Down
// removes every lab left behind by a process that was killed.
package lab
