package lab

import (
	"net/netip"
	"strings"
)

const (
	// namePrefix starts the name of every namespace this package creates;
	// Down and Names recognise them by it.
	namePrefix = "pingcraft-"
	bits4      = 24 // prefix length of every IPv4 subnet in the lab
	bits6      = 64
)

// Lab is one host -> router -> target topology. Its fields are the fixed
// addressing plan (see the package documentation) and must not be changed.
type Lab struct {
	ID                   string // short random hex, unique per run
	Host, Router, Target *Node
	HostLink             string // "h0", in Host, peer of RouterHostLink
	RouterHostLink       string // "r0", in Router
	RouterTargetLink     string // "r1", in Router, peer of TargetLink
	TargetLink           string // "t0", in Target
	Host4, Router4       netip.Addr
	RouterFar4, Target4  netip.Addr
	Host6, Router6       netip.Addr
	RouterFar6, Target6  netip.Addr
	Unreachable4         netip.Prefix // the router answers "destination unreachable" for it
	Unreachable6         netip.Prefix
	// Many4 and Many6 are routed to the target, which answers on every
	// address in them (a local route): thousands of targets for one lab.
	Many4, Many6 netip.Prefix
}

// Node is one network namespace of a Lab.
type Node struct {
	Name string // the namespace name, as `ip netns list` shows it
}

// plan returns the lab named id with the fixed addressing plan filled in.
func plan(id string) *Lab {
	name := func(role string) *Node { return &Node{Name: namePrefix + id + "-" + role} }
	return &Lab{
		ID:               id,
		Host:             name("host"),
		Router:           name("router"),
		Target:           name("target"),
		HostLink:         "h0",
		RouterHostLink:   "r0",
		RouterTargetLink: "r1",
		TargetLink:       "t0",
		Host4:            netip.MustParseAddr("198.18.0.2"),
		Router4:          netip.MustParseAddr("198.18.0.1"),
		RouterFar4:       netip.MustParseAddr("198.18.1.1"),
		Target4:          netip.MustParseAddr("198.18.1.2"),
		Host6:            netip.MustParseAddr("fd00:198:18::2"),
		Router6:          netip.MustParseAddr("fd00:198:18::1"),
		RouterFar6:       netip.MustParseAddr("fd00:198:18:1::1"),
		Target6:          netip.MustParseAddr("fd00:198:18:1::2"),
		Unreachable4:     netip.MustParsePrefix("198.18.9.0/24"),
		Unreachable6:     netip.MustParsePrefix("fd00:198:18:9::/64"),
		Many4:            netip.MustParsePrefix("198.18.64.0/18"),
		Many6:            netip.MustParsePrefix("fd00:198:18:64::/64"),
	}
}

// nodes returns the lab's namespaces in build order, skipping missing ones
// so that a partly built Lab can still be closed.
func (l *Lab) nodes() []*Node {
	var ns []*Node
	for _, n := range []*Node{l.Host, l.Router, l.Target} {
		if n != nil && strings.HasPrefix(n.Name, namePrefix) {
			ns = append(ns, n)
		}
	}
	return ns
}

// ofLabs reports whether the namespace name belongs to one of the labs ids,
// or to any lab when ids is empty.
// labID is the ID of a lab namespace's name, pingcraft-ID-ROLE, and
// whether the name is one.
func labID(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, namePrefix)
	if !ok {
		return "", false
	}
	for _, role := range []string{"-host", "-router", "-target"} {
		if id, ok := strings.CutSuffix(rest, role); ok && id != "" {
			return id, true
		}
	}
	return "", false
}

func ofLabs(name string, ids []string) bool {
	if len(ids) == 0 {
		return strings.HasPrefix(name, namePrefix)
	}
	for _, id := range ids {
		if strings.HasPrefix(name, namePrefix+id+"-") {
			return true
		}
	}
	return false
}
