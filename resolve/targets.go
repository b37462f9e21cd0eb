package resolve

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

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
