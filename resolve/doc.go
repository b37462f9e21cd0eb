// Package resolve turns a target into a path: the address, the egress
// interface and its index, the source address and MAC, the next hop and its
// hardware address, and the MTU — what a probe built at Ethernet depth needs.
//
// Routes come from the kernel over netlink (the same answer as
// `ip route get`). The next hop's hardware address comes from the kernel
// neighbour table when it holds a usable entry, which costs no traffic; else
// from ARP (RFC 826, github.com/mdlayher/arp) for IPv4 or neighbour
// discovery (RFC 4861, github.com/mdlayher/ndp) for IPv6, with bounded
// retries. Loopback and links without a link-layer address need none.
//
// Everything runs in the network namespace of the calling thread, so a
// caller that switched a locked thread into a namespace resolves there.
package resolve
