package resolve

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadTargets(t *testing.T) {
	long := strings.Repeat("a", MaxTargetLine+1)
	for _, tt := range []struct {
		name, in string
		want     []string
		err      string
	}{
		{"words, comments, blanks", "198.18.1.2 first word only\n\n# comment\n  fd00::1\n", []string{"198.18.1.2", "fd00::1"}, ""},
		{"a line over 64 KiB", "198.18.1.2\n" + long + "\n", nil, "line 2 is longer than 64 KiB: give one target per line"},
		{"a line of 64 KiB less its newline", strings.Repeat("b", MaxTargetLine-1) + "\n", []string{strings.Repeat("b", MaxTargetLine-1)}, ""},
		{"too many", "a\nb\nc\n", nil, "more than 2 targets: split the list"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadTargets(strings.NewReader(tt.in), 2)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("targets (-want +got):\n%s", diff)
			}
		})
	}
}
