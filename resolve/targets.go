package resolve

import (
	"bufio"
	"errors"
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
	lines.Buffer(make([]byte, 4096), MaxTargetLine)
	n := 0
	for lines.Scan() {
		n++
		line := strings.TrimSpace(lines.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if len(names) == max {
			return nil, fmt.Errorf("more than %d targets: split the list", max)
		}
		names = append(names, strings.Fields(line)[0])
	}
	if errors.Is(lines.Err(), bufio.ErrTooLong) {
		// No name is that long (DNS names stop at 253 bytes): a binary
		// file, or targets on one line. fping has no words for it.
		return nil, fmt.Errorf("line %d is longer than %d KiB: give one target per line", n+1, MaxTargetLine>>10)
	}
	return names, lines.Err()
}

// MaxTargetLine is the longest line of a target file ReadTargets reads.
const MaxTargetLine = 64 << 10
