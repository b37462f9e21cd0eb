package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// iputils ping reads each option value with one of a few parsers, and
// each parser has its own words and exit code for a value it refuses.
// Scripts match those words, so send reads its values the same way.

// pingArgs reads send's option values, collecting the warnings iputils
// prints for a value with trailing garbage (it goes on with the number).
type pingArgs struct {
	prog     string
	warnings []string
	flood    bool // -f: a name that does not resolve may be a file meant for fping -f
}

// invalid is strtol_or_err's refusal: exit 1.
func (a *pingArgs) invalid(s, why string) error {
	if why != "" {
		why = ": " + why
	}
	return worded{fmt.Sprintf("%s: invalid argument: '%s'%s", a.prog, s, why), 1}
}

// fatal is iputils' error(2, ...): one line, exit 2.
func (a *pingArgs) fatal(format string, v ...any) error {
	return worded{a.prog + ": " + fmt.Sprintf(format, v...), exitError}
}

// integer reads s as strtol(3) in base 10 (leading blanks and a sign
// allowed, nothing after the digits) within [lo, hi], worded as
// strtol_or_err words its refusals.
func (a *pingArgs) integer(s string, lo, hi int64) (int64, error) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	digits := strings.TrimLeft(t, "+-")
	if len(t)-len(digits) > 1 || digits == "" || strings.Trim(digits, "0123456789") != "" {
		return 0, a.invalid(s, "")
	}
	v, err := strconv.ParseInt(strings.TrimPrefix(t, "+"), 10, 64)
	if err != nil {
		return 0, a.invalid(s, "Numerical result out of range")
	}
	if v < lo || v > hi {
		return 0, a.invalid(s, fmt.Sprintf("out of range: %d <= value <= %d", lo, hi))
	}
	return v, nil
}

// float reads s as iputils 20221126's ping_strtod: the longest number
// strtod(3) takes from the front; anything after it draws a warning and
// is ignored; an empty value or one that is not finite is refused with
// what, exit 2.
func (a *pingArgs) float(s, what string) (float64, error) {
	if s == "" {
		return 0, a.fatal("%s: ", what)
	}
	n, rest := strtod(s)
	if rest != "" {
		a.warnings = append(a.warnings,
			fmt.Sprintf("%s: option argument contains garbage: %s", a.prog, rest),
			fmt.Sprintf("%s: this will become fatal error in the future", a.prog))
	}
	if math.IsInf(n, 0) || math.IsNaN(n) {
		return 0, a.fatal("%s: %s: Numerical result out of range", what, s)
	}
	return n, nil
}

// warn prints the warnings collected so far, as iputils prints them while
// it reads the command line.
func (a *pingArgs) warn(w io.Writer) {
	for _, l := range a.warnings {
		fmt.Fprintln(w, l)
	}
	a.warnings = nil
}

// strtod splits s into the number strtod(3) would read from its front (in
// the C locale: decimal, hexadecimal, inf, nan) and what follows it. No
// number reads as 0 with all of s left over, as strtod returns.
func strtod(s string) (float64, string) {
	i := len(s) - len(strings.TrimLeft(s, " \t\n\v\f\r"))
	j := i
	if j < len(s) && (s[j] == '+' || s[j] == '-') {
		j++
	}
	lower := strings.ToLower(s[j:])
	for _, word := range []string{"infinity", "inf", "nan"} {
		if strings.HasPrefix(lower, word) {
			v, _ := strconv.ParseFloat(s[i:j+len(word)], 64)
			return v, s[j+len(word):]
		}
	}
	hexa := strings.HasPrefix(lower, "0x")
	digit := func(c byte) bool {
		return c >= '0' && c <= '9' || hexa && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')
	}
	k := j
	if hexa {
		k += 2
	}
	seen := false
	for k < len(s) && digit(s[k]) {
		k, seen = k+1, true
	}
	if k < len(s) && s[k] == '.' {
		k++
		for k < len(s) && digit(s[k]) {
			k, seen = k+1, true
		}
	}
	if !seen {
		if hexa { // "0x" without digits: strtod reads the 0
			v, _ := strconv.ParseFloat(s[i:j]+"0", 64)
			return v, s[j+1:]
		}
		return 0, s
	}
	mantissa := s[i:k]
	exp := "eE"
	if hexa {
		exp = "pP"
	}
	if k < len(s) && strings.IndexByte(exp, s[k]) >= 0 {
		e := k + 1
		if e < len(s) && (s[e] == '+' || s[e] == '-') {
			e++
		}
		d := e
		for d < len(s) && s[d] >= '0' && s[d] <= '9' {
			d++
		}
		if d > e {
			mantissa, k = s[i:d], d
		}
	}
	if hexa && !strings.ContainsAny(mantissa, "pP") {
		mantissa += "p0" // Go insists on a binary exponent
	}
	v, err := strconv.ParseFloat(mantissa, 64)
	if err != nil && !strings.Contains(err.Error(), "range") {
		return 0, s
	}
	return v, s[k:]
}

// tos reads -Q as iputils' parsetos: decimal or 0x hex, at most 255.
func (a *pingArgs) tos(s string) (uint8, error) {
	v, ok := cInt(s)
	if !ok {
		return 0, a.fatal("bad TOS value: %s", s)
	}
	if v > 255 {
		return 0, a.fatal("the decimal value of TOS bits must be in range 0-255: %d", int32(v))
	}
	return uint8(v), nil // a negative value: the kernel keeps its low bits too
}

// flow reads -F as iputils' parseflow: decimal or 0x hex, 20 bits.
func (a *pingArgs) flow(s string) (uint32, error) {
	v, ok := cInt(s)
	if !ok {
		return 0, a.fatal("bad value for flowinfo: %s", s)
	}
	if uint32(v)&^0xfffff != 0 {
		return 0, a.fatal("flow value is greater than 20 bits: %s", s)
	}
	return uint32(v), nil
}

// cInt reads s as strtol(s, 10) or, after 0x, strtol(s+2, 16), truncated
// to a C int; it fails when characters are left over.
func cInt(s string) (int64, bool) {
	base, t := 10, s
	if len(s) > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		base, t = 16, s[2:]
	}
	t = strings.TrimLeft(t, " \t\n\v\f\r")
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg, t = t[0] == '-', t[1:]
	}
	if t == "" {
		return 0, s == "" || base == 16 // strtol reads "" and "0x" as 0
	}
	u, err := strconv.ParseUint(t, base, 64)
	if err != nil && !strings.Contains(err.Error(), "range") {
		return 0, false
	}
	v := int64(int32(u)) // (int) of the long strtol returned
	if neg {
		v = -v
	}
	return v, true
}

// pattern reads -p as iputils does: hex digits only (it names the first
// that is not), read two at a time, at most 16 bytes.
func (a *pingArgs) pattern(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("0123456789abcdefABCDEF", rune(s[i])) {
			return nil, a.fatal("patterns must be specified as hex digits: %s", s[i:])
		}
	}
	var b []byte
	for i := 0; i < len(s) && len(b) < 16; i += 2 {
		v, _ := strconv.ParseUint(s[i:min(i+2, len(s))], 16, 8)
		b = append(b, byte(v))
	}
	return b, nil
}
