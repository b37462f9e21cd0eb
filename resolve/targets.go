package resolve

import (
	"bufio"
	"fmt"
	"io"
	"math/big"
	"net/netip"
	"strings"
)

// Prefix lists the addresses of p, as fping -g does: an IPv4 prefix shorter
// than /31 leaves out its network and broadcast addresses. More than max
// addresses is an error that says how many p holds.
func Prefix(p netip.Prefix, max int) ([]string, error) {
	p = p.Masked()
	first := p.Addr()
	bits := first.BitLen() - p.Bits()
	if n := new(big.Int).Lsh(big.NewInt(1), uint(bits)); n.Cmp(big.NewInt(int64(max))) > 0 {
		return nil, fmt.Errorf("%s addresses: at most %d in one run", n, max)
	}
	last := first
	for range (1 << bits) - 1 {
		last = last.Next()
	}
	if first.Is4() && bits > 1 {
		first, last = first.Next(), last.Prev()
	}
	return Range(first, last, max)
}

// Range lists the addresses from first to last, both included: at most max.
func Range(first, last netip.Addr, max int) ([]string, error) {
	if first.Is4() != last.Is4() || last.Less(first) {
		return nil, fmt.Errorf("give the first then the last address, of one family")
	}
	var names []string
	for a := first; ; a = a.Next() {
		if len(names) == max {
			return nil, fmt.Errorf("more than %d addresses: narrow the range", max)
		}
		names = append(names, a.String())
		if a == last {
			return names, nil
		}
	}
}

// ReadTargets reads targets from r as fping -f does: the first word of each
// line, blank lines and lines starting with # left out. More than max is an
// error.
func ReadTargets(r io.Reader, max int) ([]string, error) {
	var names []string
	lines := bufio.NewScanner(r)
	for lines.Scan() {
		line := strings.TrimSpace(lines.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if len(names) == max {
			return nil, fmt.Errorf("more than %d targets: split the list", max)
		}
		names = append(names, strings.Fields(line)[0])
	}
	return names, lines.Err()
}
