package main

import (
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// fpingOptions is an fping command line as fping 5.1 reads it.
type fpingOptions struct {
	family                           int // 0, 4 or 6
	alive, unreach, elapsed, quiet   bool
	addr, rdns, name, all            bool
	stats, timestamp, outage, random bool
	loop, netdata, dontfrag          bool
	printTTL                         bool
	generate                         bool
	tsFormat                         string
	count                            int // probes with -c/-C; 0 without
	columns                          bool
	minReachable                     int
	fastReachable                    bool
	size                             uint32
	backoff                          float64
	retry                            uint32
	ttl                              uint32
	tos                              int
	tosSet                           bool
	fwmark                           uint32
	timeout, interval, period        time.Duration
	timeoutSet                       bool
	intervalSet                      bool // -i was given
	squiet                           time.Duration
	source                           netip.Addr
	iface, file                      string
	fileSet                          bool
	mode                             string
	json                             bool
	rate                             float64
}

// fping's defaults and limits (fping.c, options.h).
const (
	fpingMaxData     = 65536 - 40 - 8 // MAX_PING_DATA
	fpingMaxGenerate = 100000
	fpingMinInterval = time.Millisecond      // for users other than root
	fpingMinPeriod   = 10 * time.Millisecond // likewise
	fpingAutoTimeout = 2 * time.Second       // -t's cap with -l, -c and -C
)

// fpingLongNames maps fping's long options to its letters; pingcraft's own
// long options stay as they are.
var fpingLongNames = map[string]string{
	"ipv4": "4", "ipv6": "6", "alive": "a", "addr": "A", "size": "b", "backoff": "B", "count": "c", "vcount": "C",
	"rdns": "d", "timestamp": "D", "elapsed": "e", "file": "f", "generate": "g", "fping-help": "h", "ttl": "H",
	"interval": "i", "iface": "I", "loop": "l", "all": "m", "dontfrag": "M", "name": "n", "netdata": "N",
	"outage": "o", "tos": "O", "period": "p", "quiet": "q", "squiet": "Q", "retry": "r", "random": "R",
	"stats": "s", "src": "S", "source": "S", "timeout": "t", "unreach": "u", "version": "v", "reachable": "x",
	"fast-reachable": "X", "fwmark": "k",
}

// fpingDone ends a command line that is answered without probing (-h, -v).
type fpingDone struct{}

func (fpingDone) Error() string { return "" }

// fpingRefusal is a command line fping refuses, in its words and with its
// exit code; usage adds the usage text.
func fpingRefusal(code int, format string, a ...any) error {
	return worded{fmt.Sprintf(format, a...), code}
}

// parseFping reads opts, the options as getopt rewrote them (-name or
// -name=value, in the order given), in fping's order: each option as it
// comes, then the checks fping makes once all are read.
func parseFping(prog string, opts []string, stdout, stderr func(string)) (*fpingOptions, error) {
	o := &fpingOptions{size: 56, backoff: 1.5, retry: 3, timeout: 500 * time.Millisecond,
		interval: 10 * time.Millisecond, period: time.Second, mode: "auto"}
	usage := worded{strings.TrimSuffix(fpingUsage(prog), "\n"), fpingUsageExit}
	// fping's readers: a value they cannot read is its usage. msec reads
	// milliseconds (sscanf %f, not negative); keep reads %u into *dst,
	// where an empty value keeps what was there, as 5.1 does; nonzero
	// reads atoi's value, 0 refused.
	msec := func(v string) (time.Duration, error) {
		f, n := scanFloat(v)
		if n <= 0 || f < 0 {
			return 0, usage
		}
		return time.Duration(math.Min(f, 1e12) * float64(time.Millisecond)), nil
	}
	keep := func(v string, dst *uint32) error {
		u, n := scanUint(v)
		if n == 0 {
			return usage
		}
		if n > 0 {
			*dst = u
		}
		return nil
	}
	nonzero := func(v string) (int, error) {
		if n := atoi(v); n != 0 {
			return n, nil
		}
		return 0, usage
	}
	for _, opt := range opts {
		if opt == "--" {
			break
		}
		name, v, _ := strings.Cut(strings.TrimPrefix(opt, "-"), "=")
		if short, ok := fpingLongNames[name]; ok {
			name = short
		}
		switch name {
		case "4", "6":
			f := int(name[0] - '0')
			if o.family != 0 && o.family != f {
				return nil, fpingRefusal(1, "%s: can't specify both -4 and -6", prog)
			}
			o.family = f
		case "M":
			o.dontfrag = true
		case "t":
			d, err := msec(v)
			if err != nil {
				return nil, err
			}
			o.timeout, o.timeoutSet = d, true
		case "r":
			if err := keep(v, &o.retry); err != nil {
				return nil, err
			}
		case "i":
			d, err := msec(v)
			if err != nil {
				return nil, err
			}
			o.interval, o.intervalSet = d, true
		case "p":
			d, err := msec(v)
			if err != nil {
				return nil, err
			}
			o.period = d
		case "c", "C":
			n, err := nonzero(v)
			if err != nil {
				return nil, err
			}
			if n < 0 {
				// fping reads the count as unsigned and cannot allocate
				// four billion probes' times.
				return nil, fpingRefusal(fpingSysError, "%s: can't allocate resp_times array", prog)
			}
			o.count, o.columns = n, name == "C"
		case "b":
			if err := keep(v, &o.size); err != nil {
				return nil, err
			}
		case "h":
			stdout(fpingUsage(prog))
			return nil, fpingDone{}
		case "q":
			o.quiet = true
		case "Q":
			f, n := scanFloat(v)
			if n <= 0 || f < 0 {
				return nil, usage
			}
			o.quiet, o.squiet = true, time.Duration(math.Min(f, 1e9)*float64(time.Second))
		case "e":
			o.elapsed = true
		case "m":
			o.all = true
		case "N":
			o.netdata = true
		case "n", "d":
			if o.rdns || o.name {
				return nil, fpingRefusal(1, "%s: use either one of -d or -n", prog)
			}
			o.name, o.rdns = name == "n", name == "d"
		case "A":
			o.addr = true
		case "B":
			f, _ := scanFloat(v) // atof: 0 when nothing reads as a number
			if f == 0 {
				return nil, usage
			}
			o.backoff = f
		case "s":
			o.stats = true
		case "D":
			o.timestamp = true
		case "timestamp-format":
			switch v {
			case "ctime", "iso", "rfc3339":
				o.tsFormat = v
			default:
				return nil, usage
			}
		case "R":
			o.random = true
		case "l":
			o.loop = true
		case "u":
			o.unreach = true
		case "a":
			o.alive = true
		case "H":
			n, err := nonzero(v)
			if err != nil {
				return nil, err
			}
			o.ttl = uint32(n)
		case "v":
			stdout(fmt.Sprintf("%s: Version pingcraft-%s\n", prog, buildVersion()))
			return nil, fpingDone{}
		case "x", "X":
			n, err := nonzero(v)
			if err != nil {
				return nil, err
			}
			o.minReachable, o.fastReachable = n, o.fastReachable || name == "X"
		case "f":
			o.file, o.fileSet = v, true
		case "g":
			o.generate = true
		case "S":
			a, err := netip.ParseAddr(v)
			if err != nil {
				return nil, fpingRefusal(1, "%s: can't parse source address: %s", prog, v)
			}
			o.source = a
		case "I":
			if _, err := net.InterfaceByName(v); err != nil {
				return nil, fpingRefusal(1, "binding to specific interface (SO_BINTODEVICE): No such device")
			}
			o.iface = v
		case "T":
			// fping ignores -T: its select timeout means nothing any more.
		case "k":
			// fping 5.2's -k: sscanf %u, a value it cannot read its usage.
			u, n := scanUint(v)
			if n != 1 {
				return nil, usage
			}
			o.fwmark = u
		case "O":
			n, ok := scanInt(v)
			if !ok {
				return nil, usage
			}
			o.tos, o.tosSet = n, true
		case "o":
			o.outage = true
		case "print-ttl":
			o.printTTL = true
		case "mode":
			o.mode = v
		case "json":
			o.json = true
		case "rate":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f != f {
				return nil, fpingRefusal(1, "%s: --rate %s: give probes a second, 0 or more", prog, v)
			}
			o.rate = f
		}
	}
	// The checks fping makes once every option is read, in its order.
	switch {
	case o.ttl > 255:
		return nil, fpingRefusal(1, "%s: ttl %d out of range", prog, o.ttl)
	case o.unreach && o.alive:
		return nil, fpingRefusal(1, "%s: specify only one of a, u", prog)
	case o.count > 0 && o.loop:
		return nil, fpingRefusal(1, "%s: specify only one of c, l", prog)
	case (o.interval < fpingMinInterval || o.period < fpingMinPeriod) && os.Getuid() != 0:
		return nil, fpingRefusal(1, "%s: these options are too risky for mere mortals.\n%s: You need -i >= 1 and -p >= 10", prog, prog)
	case o.size > fpingMaxData:
		return nil, fpingRefusal(1, "%s: data size %d not valid, must be lower than %d", prog, o.size, fpingMaxData)
	case o.backoff > 5 || o.backoff < 1:
		return nil, fpingRefusal(1, "%s: backoff factor %.1f not valid, must be between 1.0 and 5.0", prog, o.backoff)
	}
	if (o.loop || o.count > 0) && !o.timeoutSet {
		o.timeout = min(o.period, fpingAutoTimeout)
	}
	if o.rate > 0 && !o.intervalSet {
		// --rate without -i sets the pace alone: fping's 10ms default
		// would hold any rate to 100 a second. Users other than root keep
		// fping's least -i.
		o.interval = 0
		if os.Getuid() != 0 {
			o.interval = fpingMinInterval
		}
	}
	return o, nil
}

// atoi reads a number as C's atoi does: leading blanks, a sign, digits,
// and whatever follows ignored; 0 when no digit comes.
func atoi(s string) int {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	n := 0
	for i := 0; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		n = min(n*10+int(s[i]-'0'), math.MaxInt32)
	}
	if neg {
		return -n
	}
	return n
}

// scanUint is sscanf's %u: the value (a negative one wraps, as C's does)
// and 1, 0 when no number comes, -1 for an empty string.
func scanUint(s string) (uint32, int) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	if t == "" {
		return 0, -1
	}
	d := strings.TrimLeft(t, "+-")
	if d == "" || d[0] < '0' || d[0] > '9' || len(t)-len(d) > 1 {
		return 0, 0
	}
	n := atoi(t)
	return uint32(int64(n)), 1
}

// scanFloat is sscanf's %f (and atof's value): the longest prefix that is
// a number, and 1, 0 when none is, -1 for an empty string.
func scanFloat(s string) (float64, int) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	if t == "" {
		return 0, -1
	}
	for end := len(t); end > 0; end-- {
		if f, err := strconv.ParseFloat(t[:end], 64); err == nil || isRange(err) {
			if strings.ContainsAny(t[:end], "xX_") {
				continue // Go reads hex floats and digit separators; C's %f does not here
			}
			return f, 1
		}
	}
	return 0, 0
}

func isRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// scanInt is sscanf's %i: decimal, 0x hex or 0 octal, what follows ignored.
func scanInt(s string) (int, bool) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	for end := len(t); end > 0; end-- {
		if n, err := strconv.ParseInt(t[:end], 0, 32); err == nil && !strings.Contains(t[:end], "_") &&
			!strings.HasPrefix(strings.TrimLeft(t[:end], "+-"), "0b") && !strings.HasPrefix(strings.TrimLeft(t[:end], "+-"), "0o") {
			return int(n), true
		}
	}
	return 0, false
}

// fpingUsage is fping 5.1's usage text, under the name it was started as.
func fpingUsage(prog string) string {
	return fmt.Sprintf(`Usage: %[1]s [options] [targets...]

Probing options:
   -4, --ipv4         only ping IPv4 addresses
   -6, --ipv6         only ping IPv6 addresses
   -b, --size=BYTES   amount of ping data to send, in bytes (default: 56)
   -B, --backoff=N    set exponential backoff factor to N (default: 1.5)
   -c, --count=N      count mode: send N pings to each target
   -f, --file=FILE    read list of targets from a file ( - means stdin)
   -g, --generate     generate target list (only if no -f specified)
                      (give start and end IP in the target list, or a CIDR address)
                      (ex. %[1]s -g 192.168.1.0 192.168.1.255 or %[1]s -g 192.168.1.0/24)
   -H, --ttl=N        set the IP TTL value (Time To Live hops)
   -I, --iface=IFACE  bind to a particular interface
   -l, --loop         loop mode: send pings forever
   -m, --all          use all IPs of provided hostnames (e.g. IPv4 and IPv6), use with -A
   -M, --dontfrag     set the Don't Fragment flag
   -O, --tos=N        set the type of service (tos) flag on the ICMP packets
   -p, --period=MSEC  interval between ping packets to one target (in ms)
                      (in loop and count modes, default: 1000 ms)
   -r, --retry=N      number of retries (default: 3)
   -R, --random       random packet data (to foil link data compression)
   -S, --src=IP       set source address
   -t, --timeout=MSEC individual target initial timeout (default: 500 ms,
                      except with -l/-c/-C, where it's the -p period up to 2000 ms)

Output options:
   -a, --alive        show targets that are alive
   -A, --addr         show targets by address
   -C, --vcount=N     same as -c, report results in verbose format
   -d, --rdns         show targets by name (force reverse-DNS lookup)
   -D, --timestamp    print timestamp before each output line
   -e, --elapsed      show elapsed time on return packets
   -i, --interval=MSEC  interval between sending ping packets (default: 10 ms)
   -n, --name         show targets by name (reverse-DNS lookup for target IPs)
   -N, --netdata      output compatible for netdata (-l -Q are required)
   -o, --outage       show the accumulated outage time (lost packets * packet interval)
   -q, --quiet        quiet (don't show per-target/per-ping results)
   -Q, --squiet=SECS  same as -q, but add interval summary every SECS seconds
   -s, --stats        print final stats
   -u, --unreach      show targets that are unreachable
   -v, --version      show version
   -x, --reachable=N  shows if >=N hosts are reachable or not
`, prog)
}

// fpingExtraUsage lists what pingcraft adds to fping's options.
const fpingExtraUsage = `
pingcraft adds:
   -X, --fast-reachable=N  as -x, and end the run once N hosts answered
       --timestamp-format=ctime|iso|rfc3339  how -D prints the time
       --print-ttl    show the TTL of replies
       --mode=MODE    auto, ethernet, ip, raw or dgram
       --rate=N       at most N probes a second over all targets (without -i, the pace)
       --json         one JSON object per event, then a summary per target
`
