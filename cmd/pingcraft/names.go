package main

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"time"
)

// nameTimeout bounds one reverse lookup: a dead resolver must not hold
// the run up for long (iputils waits on it as long as the resolver does).
const nameTimeout = time.Second

// namer names addresses as iputils does without -n, through the system
// resolver, one lookup per address: the answer, or the lack of one, is
// kept for the run.
type namer struct {
	ctx   context.Context
	names map[netip.Addr]string
	look  func(ctx context.Context, addr string) ([]string, error)
}

func newNamer(ctx context.Context) *namer {
	return &namer{ctx: ctx, names: map[netip.Addr]string{}, look: net.DefaultResolver.LookupAddr}
}

// name is a's name, or "" when it has none. It is called from one
// goroutine at a time (the report's).
func (n *namer) name(a netip.Addr) string {
	if name, ok := n.names[a]; ok {
		return name
	}
	ctx, cancel := context.WithTimeout(n.ctx, nameTimeout)
	defer cancel()
	name := ""
	if names, err := n.look(ctx, a.String()); err == nil && len(names) > 0 {
		name = strings.TrimSuffix(names[0], ".")
	}
	n.names[a] = name
	return name
}
