package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCompletionAsked runs the binary as the completion scripts do: urfave
// reads os.Args for completions, so run cannot stand in for it.
func TestCompletionAsked(t *testing.T) {
	bin := pingcraftBinary(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"send", "-", "--generate-bash-completion"}, "--mode"},
		{[]string{"fping", "-", "--generate-bash-completion"}, "--vcount"},
		{[]string{"--generate-bash-completion"}, "fping"},
	} {
		out, err := exec.Command(bin, tc.args...).Output()
		if err != nil || !strings.Contains(string(out), tc.want+"\n") {
			t.Errorf("%q: %v, output lacks %q:\n%s", tc.args, err, tc.want, out)
		}
	}
}
