package main

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pingcraft/pingcraft/resolve"
)

// TestPingArgumentErrors: a value iputils ping 20221126 refuses is refused
// in its words and with its exit status, before anything is resolved or
// sent. The texts are what the installed iputils prints (see
// TestSendArgumentsMatchIputils, which compares the two where iputils is
// at hand).
func TestPingArgumentErrors(t *testing.T) {
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{}, 1, "ping: usage error: Destination address required\n"},
		{[]string{"-c1"}, 1, "ping: usage error: Destination address required\n"},
		{[]string{"-c0", "x"}, 1, "ping: invalid argument: '0': out of range: 1 <= value <= 9223372036854775807\n"},
		{[]string{"-c-1", "x"}, 1, "ping: invalid argument: '-1': out of range: 1 <= value <= 9223372036854775807\n"},
		{[]string{"-cx", "x"}, 1, "ping: invalid argument: 'x'\n"},
		{[]string{"-c1.1", "x"}, 1, "ping: invalid argument: '1.1'\n"},
		{[]string{"-c", "5 ", "x"}, 1, "ping: invalid argument: '5 '\n"},
		{[]string{"-c", "0x10", "x"}, 1, "ping: invalid argument: '0x10'\n"},
		{[]string{"-c", "9223372036854775808", "x"}, 1, "ping: invalid argument: '9223372036854775808': Numerical result out of range\n"},
		{[]string{"-w0.1", "x"}, 1, "ping: invalid argument: '0.1'\n"},
		{[]string{"-w0,1", "x"}, 1, "ping: invalid argument: '0,1'\n"},
		{[]string{"-w-1", "x"}, 1, "ping: invalid argument: '-1': out of range: 0 <= value <= 2147483647\n"},
		{[]string{"-w", "2147483648", "x"}, 1, "ping: invalid argument: '2147483648': out of range: 0 <= value <= 2147483647\n"},
		{[]string{"-W-1", "x"}, 2, "ping: bad linger time: -1\n"},
		{[]string{"-W", "2147484", "x"}, 2, "ping: bad linger time: 2147484\n"},
		{[]string{"-W", "inf", "x"}, 2, "ping: bad linger time: inf: Numerical result out of range\n"},
		{[]string{"-i", "", "x"}, 2, "ping: bad timing interval: \n"},
		{[]string{"-i", "nan", "x"}, 2, "ping: bad timing interval: nan: Numerical result out of range\n"},
		{[]string{"-i", "2147484", "x"}, 2, "ping: bad timing interval: 2147484\n"},
		{[]string{"-s-1", "x"}, 1, "ping: invalid argument: '-1': out of range: 0 <= value <= 2147483647\n"},
		{[]string{"-sx", "x"}, 1, "ping: invalid argument: 'x'\n"},
		{[]string{"-t0", "x"}, 2, "ping: cannot set unicast time-to-live: Invalid argument\n"},
		{[]string{"-t256", "x"}, 1, "ping: invalid argument: '256': out of range: 0 <= value <= 255\n"},
		{[]string{"-l0", "x"}, 1, "ping: invalid argument: '0': out of range: 1 <= value <= 65536\n"},
		{[]string{"-l65537", "x"}, 1, "ping: invalid argument: '65537': out of range: 1 <= value <= 65536\n"},
		{[]string{"-Q256", "x"}, 2, "ping: the decimal value of TOS bits must be in range 0-255: 256\n"},
		{[]string{"-Qx", "x"}, 2, "ping: bad TOS value: x\n"},
		{[]string{"-Q", "0x1g", "x"}, 2, "ping: bad TOS value: 0x1g\n"},
		{[]string{"-pzz", "x"}, 2, "ping: patterns must be specified as hex digits: zz\n"},
		{[]string{"-p", "0g", "x"}, 2, "ping: patterns must be specified as hex digits: g\n"},
		{[]string{"-Mprobe", "x"}, 2, "ping: invalid -M argument: probe\n"},
		{[]string{"-mx", "x"}, 1, "ping: invalid argument: 'x'\n"},
		{[]string{"-m-1", "x"}, 1, "ping: invalid argument: '-1': out of range: 0 <= value <= 4294967295\n"},
		{[]string{"-m", "4294967296", "x"}, 1, "ping: invalid argument: '4294967296': out of range: 0 <= value <= 4294967295\n"},
		{[]string{"-S0", "x"}, 1, "ping: invalid argument: '0': out of range: 1 <= value <= 2147483647\n"},
		{[]string{"-Sx", "x"}, 1, "ping: invalid argument: 'x'\n"},
		{[]string{"-ex", "x"}, 1, "ping: invalid argument: 'x'\n"},
		{[]string{"-e65536", "x"}, 1, "ping: invalid argument: '65536': out of range: 0 <= value <= 65535\n"},
		{[]string{"-Fx", "x"}, 2, "ping: bad value for flowinfo: x\n"},
		{[]string{"-F", "0x100000", "x"}, 2, "ping: flow value is greater than 20 bits: 0x100000\n"},
		{[]string{"-Tx", "x"}, 2, "ping: invalid timestamp type: x\n"},
		{[]string{"-R", "-T", "tsonly", "x"}, 2, "ping: only one of -T or -R may be used\n"},
		{[]string{"-4", "-6", "x"}, 2, "ping: only one -4 or -6 option may be specified\n"},
		{[]string{"-I", "fe80::1%", "-c", "x", "x"}, 1, "ping: invalid argument: 'x'\n"},
		{[]string{"-I", "zz:1", "x"}, 2, "ping: invalid source address: zz:1\n"},

		{[]string{"-N", "name", "x"}, 2, "ping: -N name: ICMPv6 node information queries are not supported by pingcraft\n"},
		// Trailing garbage is warned about and the number used, as iputils
		// 20221126 does; the run then stops at the next refusal.
		{[]string{"-W1x", "-c0", "x"}, 1, "ping: option argument contains garbage: x\nping: this will become fatal error in the future\n" +
			"ping: invalid argument: '0': out of range: 1 <= value <= 9223372036854775807\n"},
		{[]string{"-c0", "-W1x", "x"}, 1, "ping: invalid argument: '0': out of range: 1 <= value <= 9223372036854775807\n"},
		{[]string{"-i0.5x", "-w0.1", "x"}, 1, "ping: option argument contains garbage: x\nping: this will become fatal error in the future\n" +
			"ping: invalid argument: '0.1'\n"},
		// A TTL of 0 is refused by the kernel once every option is read.
		{[]string{"-t0", "-c0", "x"}, 1, "ping: invalid argument: '0': out of range: 1 <= value <= 9223372036854775807\n"},
		{[]string{"-W1x", "-t0", "x"}, 2, "ping: option argument contains garbage: x\nping: this will become fatal error in the future\n" +
			"ping: cannot set unicast time-to-live: Invalid argument\n"},
		{[]string{"-T", "tsonly", "-R", "x"}, 2, "ping: only one of -T or -R may be used\n"},
		{[]string{"-6", "-4", "x"}, 2, "ping: only one -4 or -6 option may be specified\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			for _, argv0 := range []string{"ping", "/usr/local/bin/ping"} {
				code, out, stderr := runArgv(t, append([]string{argv0}, tt.args...)...)
				want := strings.ReplaceAll(tt.stderr, "ping: ", argv0+": ")
				if code != tt.code || out != "" {
					t.Errorf("%s: exit %d, stdout %q: want exit %d, no output", argv0, code, out, tt.code)
				}
				if diff := cmp.Diff(want, stderr); diff != "" {
					t.Errorf("%s: stderr (-want +got):\n%s", argv0, diff)
				}
			}
		})
	}
}

func runArgv(t *testing.T, argv ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb strings.Builder
	code = run(t.Context(), argv, &out, &errb)
	return code, out.String(), errb.String()
}

// TestPingUsageAndVersion: -h is iputils' usage on stderr with exit 2 (so
// is a second operand, a source route send does not send); -V its two
// lines on stdout, naming pingcraft.
func TestPingUsageAndVersion(t *testing.T) {
	for _, args := range [][]string{{"ping", "-h"}, {"ping", "-c1", "-h", "x"}, {"pingcraft", "send", "-h"}, {"ping", "198.18.1.2", "198.18.1.3"}} {
		code, out, stderr := runArgv(t, args...)
		if code != 2 || out != "" || stderr != pingUsage {
			t.Errorf("%q: exit %d, stdout %q, stderr %q: want exit 2 and iputils' usage on stderr", args, code, out, stderr)
		}
	}
	code, out, stderr := runArgv(t, "ping", "-V")
	lines := strings.Split(out, "\n")
	if code != 0 || stderr != "" || len(lines) != 3 || !strings.HasPrefix(lines[0], "ping from pingcraft ") ||
		lines[1] != "libcap: yes, IDN: no, NLS: no, error.h: no, getrandom(): yes, __fpending(): no" {
		t.Errorf("-V: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	if code, out, _ := runArgv(t, "pingcraft", "send", "--help"); code != 0 || !strings.Contains(out, "--mode") {
		t.Errorf("send --help: exit %d, stdout %q: want pingcraft's help", code, out)
	}
}

// TestStrtod: the number strtod(3) reads from the front of a value, and
// what is left, in the C locale.
func TestStrtod(t *testing.T) {
	for _, tt := range []struct {
		in   string
		v    float64
		rest string
	}{
		{"1", 1, ""}, {"0.2", 0.2, ""}, {".5", 0.5, ""}, {"1.", 1, ""}, {" 2", 2, ""}, {"+3", 3, ""}, {"-1", -1, ""},
		{"1e-3", 0.001, ""}, {"1e", 1, "e"}, {"1e+", 1, "e+"}, {"0,1", 0, ",1"}, {"1x", 1, "x"}, {"x", 0, "x"},
		{"0x1", 1, ""}, {"0x1.8", 1.5, ""}, {"0x", 0, "x"}, {"0x1p4", 16, ""}, {"inf", math.Inf(1), ""},
		{"-Infinity", math.Inf(-1), ""}, {"infx", math.Inf(1), "x"}, {"", 0, ""}, {".", 0, "."}, {"-", 0, "-"},
	} {
		v, rest := strtod(tt.in)
		if v != tt.v || rest != tt.rest {
			t.Errorf("strtod(%q) = %v, %q; want %v, %q", tt.in, v, rest, tt.v, tt.rest)
		}
	}
	if v, rest := strtod("nan"); !math.IsNaN(v) || rest != "" {
		t.Errorf("strtod(nan) = %v, %q", v, rest)
	}
}

// TestPingPattern: -p as iputils' fill reads it.
func TestPingPattern(t *testing.T) {
	a := &pingArgs{prog: "ping"}
	for in, want := range map[string][]byte{
		"ff": {0xff}, "abc": {0xab, 0x0c}, "a": {0x0a},
		"0123456789abcdef0123456789abcdef0": {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef},
	} {
		got, err := a.pattern(in)
		if err != nil || !cmp.Equal(got, want) {
			t.Errorf("pattern(%q) = %x, %v; want %x", in, got, err, want)
		}
	}
}

// TestPingFloodNotAFile: ping's -f is a flood, fping's a target file; a
// flood whose target does not resolve keeps iputils' line and says where
// the file reader is, in the same line.
func TestPingFloodNotAFile(t *testing.T) {
	err := fmt.Errorf("resolve: targets.txt: %w", resolve.ErrNoName)
	for _, tt := range []struct {
		flood bool
		want  string
	}{
		{false, "ping: targets.txt: Name or service not known"},
		{true, "ping: targets.txt: Name or service not known (-f floods, as in ping; to read targets from a file: pingcraft fping -f targets.txt)"},
	} {
		got := pingResolveError(&pingArgs{prog: "ping", flood: tt.flood}, "targets.txt", &resolve.Options{}, err)
		if got == nil || got.Error() != tt.want {
			t.Errorf("flood %v: %v, want %q", tt.flood, got, tt.want)
		}
	}
}
