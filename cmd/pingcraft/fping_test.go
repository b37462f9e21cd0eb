package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGenerate(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
		err  string
	}{
		{[]string{"198.18.64.0/30"}, []string{"198.18.64.1", "198.18.64.2"}, ""},
		{[]string{"198.18.64.5/31"}, []string{"198.18.64.4", "198.18.64.5"}, ""},
		{[]string{"198.18.64.9/32"}, []string{"198.18.64.9"}, ""},
		{[]string{"fd00:198:18:64::/126"}, []string{"fd00:198:18:64::", "fd00:198:18:64::1", "fd00:198:18:64::2", "fd00:198:18:64::3"}, ""},
		{[]string{"198.18.64.254", "198.18.65.1"}, []string{"198.18.64.254", "198.18.64.255", "198.18.65.0", "198.18.65.1"}, ""},
		{[]string{"198.18.0.0/15"}, nil, "131072 addresses: at most 65536"},
		{[]string{"fd00::/64"}, nil, "18446744073709551616 addresses"},
		{[]string{"198.18.0.0", "198.19.255.255"}, nil, "more than 65536"},
		{[]string{"198.18.64.9", "198.18.64.1"}, nil, "the first then the last"},
		{[]string{"198.18.64.1", "fd00::1"}, nil, "one family"},
		{[]string{"nonsense"}, nil, "give a CIDR prefix"},
		{[]string{}, nil, "-g takes CIDR or START END"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			got, err := generate(tc.args)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("generate: %v, want an error containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestFpingBadArguments: fping's exit 3 and one line.
func TestFpingBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{"fping", "-g", "198.18.0.0/8"},
		{"fping", "-c", "0", "198.18.1.2", "198.18.1.3"},
		{"fping", "-p", "0", "198.18.1.2", "198.18.1.3"},
		{"fping", "-B", "9", "198.18.1.2", "198.18.1.3"},
		{"fping", "-c", "1", "-C", "1", "198.18.1.2", "198.18.1.3"},
		{"fping", "-f", "-", "198.18.1.2"},
	} {
		var out, stderr strings.Builder
		code := run(t.Context(), append([]string{"pingcraft"}, args...), &out, &stderr)
		if code != fpingBadArgs || strings.Count(stderr.String(), "\n") != 1 || out.String() != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q: want exit 3 and one line", args, code, out.String(), stderr.String())
		}
	}
}
