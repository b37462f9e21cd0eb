//go:build cgo

package capture

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/lab/labtest"
)

// frameStamp is the time tcpdump -tt puts before each frame: the fixtures
// stamp every frame differently, so it names the frame.
var frameStamp = regexp.MustCompile(`^(\d+\.\d{6}) `)

// TestFilterMatchesTcpdump: on every fixture, the user-space filter picks
// exactly the frames tcpdump picks with the same expression, cooked v2
// files included.
func TestFilterMatchesTcpdump(t *testing.T) {
	tcpdump := labtest.RequireTool(t, "tcpdump", "tcpdump")
	files, _ := filepath.Glob("../fixtures/*.pcap")
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, expr := range []string{"icmp", "icmp6", "arp", "vlan and icmp", "ip6 and ip6[6] == 58", "host 198.18.1.2", "icmp[icmptype] == icmp-unreach"} {
		for _, path := range files {
			t.Run(expr+"/"+filepath.Base(path), func(t *testing.T) {
				r, frames := readAll(t, path)
				f, err := NewFilter(craft.LinkTypeOf(r.LinkType()), r.Snaplen(), expr)
				if err != nil {
					// Refused for this link type: so must tcpdump refuse it.
					if out, terr := exec.Command(tcpdump, "-n", "-r", path, expr).CombinedOutput(); terr == nil {
						t.Errorf("pingcraft: %v; tcpdump accepted it:\n%s", err, out)
					}
					return
				}
				var got []string
				for _, fr := range frames {
					if f.Match(fr.Data) {
						got = append(got, fmt.Sprintf("%d.%06d", fr.At.Unix(), fr.At.Nanosecond()/1000))
					}
				}
				out, err := exec.Command(tcpdump, "-tt", "-n", "-q", "-r", path, expr).Output()
				if err != nil {
					t.Fatalf("tcpdump: %v", err)
				}
				var want []string
				for _, line := range strings.Split(string(out), "\n") {
					if m := frameStamp.FindStringSubmatch(line); m != nil {
						want = append(want, m[1])
					}
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("frames matched (-tcpdump +pingcraft):\n%s", diff)
				}
			})
		}
	}
}
