package main

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"

	"github.com/pingcraft/pingcraft/resolve"
)

// fpingHosts turns the names given into fping's hosts. Without -A, -m, -n
// and -d a name is resolved by the Fleet, as given; with them it is looked
// up here, as fping's add_name does: -m keeps every address, -A shows the
// address, -d (and -n, for addresses given) the reverse name. It returns
// the hosts and how many names did not resolve, each warned of.
func fpingHosts(ctx context.Context, names []string, o *fpingOptions, warn func(string, ...any)) ([]fpingHost, int) {
	hosts := make([]fpingHost, 0, len(names))
	if !o.addr && !o.all && !o.name && !o.rdns {
		for _, n := range names {
			hosts = append(hosts, fpingHost{target: n, shown: n, chart: n})
		}
		return hosts, 0
	}
	unknown := 0
	for _, name := range names {
		addrs, err := fpingLookup(ctx, name, o.family)
		if err != nil {
			if ctx.Err() != nil {
				return nil, unknown
			}
			unknown++
			warn("%s: %s\n", name, err)
			continue
		}
		_, literal := netip.ParseAddr(name)
		for _, a := range addrs {
			shown := name
			if o.rdns || o.name && literal == nil {
				if rn := reverseName(ctx, a); rn != "" {
					shown = rn
				}
			}
			if o.addr {
				if o.rdns || o.name {
					shown += " (" + a.String() + ")"
				} else {
					shown = a.String()
				}
			}
			hosts = append(hosts, fpingHost{target: a.String(), shown: shown, chart: name})
			if !o.all {
				break
			}
		}
	}
	return hosts, unknown
}

// fpingLookupError is getaddrinfo's text for a name that did not resolve.
type fpingLookupError string

func (e fpingLookupError) Error() string { return string(e) }

// fpingLookup resolves name to its addresses of the family (0: both),
// bounded by resolve.LookupTimeout.
func fpingLookup(ctx context.Context, name string, family int) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(name); err == nil {
		a = a.Unmap()
		if family == 4 && !a.Is4() || family == 6 && !a.Is6() {
			return nil, fpingLookupError("Address family for hostname not supported")
		}
		return []netip.Addr{a}, nil
	}
	network := map[int]string{0: "ip", 4: "ip4", 6: "ip6"}[family]
	lctx, cancel := context.WithTimeout(ctx, resolve.LookupTimeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(lctx, network, name)
	var dns *net.DNSError
	switch {
	case err != nil && errors.As(err, &dns) && dns.IsNotFound, err == nil && len(addrs) == 0:
		return nil, fpingLookupError("Name or service not known")
	case err != nil:
		return nil, fpingLookupError("Temporary failure in name resolution")
	}
	for i := range addrs {
		addrs[i] = addrs[i].Unmap()
	}
	return addrs, nil
}

// reverseName is a's name by reverse lookup, "" when it has none in time.
func reverseName(ctx context.Context, a netip.Addr) string {
	lctx, cancel := context.WithTimeout(ctx, resolve.LookupTimeout)
	defer cancel()
	names, err := net.DefaultResolver.LookupAddr(lctx, a.String())
	if err != nil || len(names) == 0 {
		return ""
	}
	return strings.TrimSuffix(names[0], ".")
}
