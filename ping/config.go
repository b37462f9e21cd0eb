package ping

import (
	"crypto/rand"
	"fmt"
	"math"
	"net/netip"
	"time"
	"unsafe"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/resolve"
)

// Config is what every probe of a run shares. A nil *Config means defaults.
type Config struct {
	// Count probes per target; 0 sends until the context ends or Deadline.
	// With Deadline set, the run also ends once Count replies arrived.
	Count int
	// Interval between two probes to one target (default 1s). In flood
	// mode it is the longest wait when no reply comes (default 10ms).
	Interval time.Duration
	// Timeout is how long a probe waits for its reply (default 10s, the
	// time iputils lingers for the last one).
	Timeout time.Duration
	// Deadline ends the run this long after it starts, whatever else.
	Deadline time.Duration
	// Size of the echo data (default 56).
	Size     int
	TTL, TOS uint8
	// PMTUDisc is ping -M: 0 means PMTUDiscWant, iputils' default.
	PMTUDisc PMTUDisc
	// Oversize makes echo data beyond what IPv4 carries a local error of
	// each probe (mtu 65535), as iputils reports the kernel's EMSGSIZE,
	// instead of a refusal of the run.
	Oversize bool
	// Broadcast allows broadcast targets (ping -b). Without it a probe to
	// one fails with EACCES at every depth, as the kernel fails a socket
	// without SO_BROADCAST.
	Broadcast bool
	Pattern   []byte
	// Preload probes are sent at once when the run starts; in flood mode
	// as many are kept in flight.
	Preload int
	// Flood sends the next probe as soon as a reply comes back; FloodGap,
	// when set, no sooner than that after the one before (iputils' 2ms
	// for adaptive runs of users other than root).
	Flood    bool
	FloodGap time.Duration
	Faults   craft.Faults
	// Key is the run's secret, which keys every probe's authenticator
	// (see craft.Payload): only replies that carry it count, so neither
	// another pinger nor a host that saw some probes can answer others.
	// Zero picks a random one, as a run should.
	Key craft.Key

	// Mark is SO_MARK on every socket that sends the probes (ping -m,
	// fping -k), for policy routing and netfilter; 0 sets none. It needs
	// CAP_NET_ADMIN.
	Mark uint32
	// SendBuffer is SO_SNDBUF in bytes (ping -S); 0 keeps the kernel's.
	SendBuffer int
	// DontRoute sends only to hosts on an attached network (SO_DONTROUTE,
	// ping -r); Debug sets SO_DEBUG (ping -d); NoMulticastLoop keeps
	// multicast probes from looping back to this host (ping -L).
	DontRoute, Debug, NoMulticastLoop bool
	// FlowLabel is the IPv6 flow label of the probes (ping -F), 20 bits.
	FlowLabel uint32
	// IPOption asks for an IPv4 option in every probe (ping -R, -T), which
	// the raw socket carries (IP_OPTIONS); Prespec are the addresses that
	// IPOptionTimestampPrespec asks to stamp, at most 4.
	IPOption IPOption
	Prespec  []netip.Addr

	ipOpts []byte // IPOption's bytes, made once

	// Gap is the least time between any two probes of the run, whatever
	// their targets (fping -i); Rate, when set, caps the probes per second
	// of the whole run the same way. Below 2ms, what a sleep cannot hit,
	// the gap is kept on average instead. A run with more than one target, a
	// Gap, a Rate or UntilReply is paced: each target keeps its own
	// Interval (fping -p), the targets taking turns.
	Gap  time.Duration
	Rate float64
	// UntilReply ends each target's probing at its first reply, after at
	// most 1+Retries probes, each sent when the one before timed out and
	// waiting Backoff times longer (fping without -c); a target whose send
	// fails is not tried again, as fping does not.
	UntilReply bool
	Retries    int
	Backoff    float64
}

// Defaults.
const (
	DefaultInterval      = time.Second
	DefaultFloodInterval = 10 * time.Millisecond
	DefaultTimeout       = 10 * time.Second
	DefaultSize          = 56
)

// withDefaults returns cfg with its zero fields set and checked for a run
// over n targets.
func withDefaults(cfg *Config, n int) (Config, error) {
	c := Config{Size: DefaultSize}
	if cfg != nil {
		c = *cfg
	}
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
		if c.Flood {
			c.Interval = DefaultFloodInterval
		}
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Count < 0 || c.Preload < 0 || c.Size < 0 || c.Gap < 0 || c.Rate < 0 || c.Retries < 0 || c.Backoff < 0 {
		return c, &refusal{"ping: count, preload, size, gap, rate, retries and backoff must not be negative"}
	}
	if c.PMTUDisc == 0 {
		c.PMTUDisc = PMTUDiscWant
	}
	if c.PMTUDisc > PMTUDiscDont {
		return c, &refusal{fmt.Sprintf("ping: %v: use want, do or dont", c.PMTUDisc)}
	}
	if c.FlowLabel > 0xfffff {
		return c, &refusal{fmt.Sprintf("ping: flow label %#x: it has 20 bits", c.FlowLabel)}
	}
	if len(c.Prespec) > 4 || len(c.Prespec) > 0 && c.IPOption != IPOptionTimestampPrespec {
		return c, &refusal{"ping: at most 4 prespecified addresses, with IPOptionTimestampPrespec only"}
	}
	c.ipOpts = c.ipOption()
	if c.Backoff == 0 {
		c.Backoff = 1
	}
	if c.paced(n) && (c.Flood || c.Preload > 0) {
		return c, &refusal{"ping: flood and preload take one target, without a gap, a rate or until-reply"}
	}
	if err := c.checkWindows(n); err != nil {
		return c, err
	}
	if c.Key == (craft.Key{}) {
		if _, err := rand.Read(c.Key[:]); err != nil {
			return c, fmt.Errorf("ping: key: %w", err)
		}
	}
	return c, nil
}

// paced reports whether a run of n targets is paced (see Config.Gap).
func (c *Config) paced(n int) bool {
	return n > 1 || c.Gap > 0 || c.Rate > 0 || c.UntilReply
}

// gap is the least time between two probes of a paced run.
func (c *Config) gap() time.Duration {
	g := c.Gap
	if c.Rate > 0 {
		g = max(g, time.Duration(float64(time.Second)/c.Rate))
	}
	return g
}

// wait is the longest a probe may wait for its reply: Timeout, or for an
// until-reply run the last retry's, grown by Backoff each time.
func (c *Config) wait() time.Duration {
	if !c.UntilReply {
		return c.Timeout
	}
	return c.timeoutOf(uint64(c.Retries) + 1)
}

// timeoutOf is how long probe n (1-based) of a target waits for its reply:
// Timeout, grown by Backoff for each retry of an until-reply run.
func (c *Config) timeoutOf(n uint64) time.Duration {
	if !c.UntilReply || c.Backoff == 1 || n <= 1 {
		return c.Timeout
	}
	return time.Duration(float64(c.Timeout) * math.Pow(c.Backoff, float64(n-1)))
}

// inFlight is the most probes a run over n targets may have in flight at
// once: each target's (see outstanding), times the targets. Receive buffers
// are sized for it.
func (c *Config) inFlight(n int) int {
	return n * c.outstanding(n)
}

// outstanding is the most probes one target of a run over n targets can
// have waiting for their replies at once: what is sent while one probe
// waits (its timeout over the target's spacing, which a run's rate or gap
// may lengthen), and never more than the target sends in all (Count, the
// tries of an until-reply run, what fits before Deadline). A flood sends on
// replies, faster than its interval, so only Count bounds it beyond that;
// a flood's window that fills up gives up its oldest probe (see send).
func (c *Config) outstanding(n int) int {
	spacing, catchUp := c.spacing(n)
	perWait := satInt(c.wait()/spacing) + 1 + catchUp
	if c.paced(n) && c.Interval > 0 {
		// A paced target's next probe is due an Interval after its last
		// went, however the run's gap catches up: the catch-up lets
		// probes of different targets go back to back, never two of one
		// target closer than its Interval. Counting it for every target
		// (1,000 probes at a 10µs gap) made fping -c 20 -i 0.01 keep
		// windows of 32 probes a target instead of 4.
		perWait = min(perWait, satInt(c.wait()/c.Interval)+1)
	}
	perWait += c.Preload
	if sends, ok := c.sends(spacing, catchUp); ok {
		return max(min(perWait, sends), 1)
	}
	return perWait
}

// spacing is the least time between two probes of one target of a run over
// n targets, and how many probes a gap kept on average (below gapStrict)
// may send back to back to catch up.
func (c *Config) spacing(n int) (spacing time.Duration, catchUp int) {
	spacing = c.Interval
	if spacing <= 0 {
		spacing = DefaultInterval
	}
	if c.paced(n) {
		if g := c.gap(); g > spacing {
			spacing = g
		}
		if g := c.gap(); g > 0 && g < gapStrict {
			// A gap kept on average lets a late scheduler catch up.
			catchUp = int(gapCatchUp / g)
		}
	}
	return spacing, catchUp
}

// sends is how many probes one target sends in all, when something bounds
// it: the tries of an until-reply run, Count (without Deadline, which keeps
// a run going until Count replies came), or what fits before Deadline at
// one probe every spacing. A flood sends on replies, so only Count bounds
// its sends.
func (c *Config) sends(spacing time.Duration, catchUp int) (int, bool) {
	switch {
	case c.UntilReply:
		return c.Retries + 1, true
	case c.Count > 0 && c.Deadline <= 0:
		return c.Count, true
	case c.Deadline > 0 && !c.Flood:
		return satInt(c.Deadline/spacing) + 1 + c.Preload + catchUp, true
	}
	return 0, false
}

// satInt is d as an int, saturated: a timeout of years over a nanosecond
// interval must not wrap around.
func satInt(d time.Duration) int {
	if d > 1<<30 {
		return 1 << 30
	}
	return int(d)
}

// Window limits. A target remembers at most maxWindow probes: seqs are 16
// bits, so an older probe's seq already names a newer one. The windows of
// a run hold at most maxWindowBytes in all; a run that would need more is
// refused rather than left to exhaust memory.
const (
	maxWindow      = 1 << 16
	maxWindowBytes = 1 << 30
)

// windowSize is how many recent probes a target of a run over n targets
// remembers, a power of two for cheap indexing: twice what can be
// outstanding, so that late replies and duplicates are still told apart,
// but never more than the target sends in all.
func windowSize(c *Config, n int) int {
	want := 2 * c.outstanding(n)
	if sends, ok := c.sends(c.spacing(n)); ok {
		want = min(want, sends)
	}
	return pow2(want)
}

// pow2 is the least power of two of at least n, at most maxWindow.
func pow2(n int) int {
	size := 1
	for size < n && size < maxWindow {
		size <<= 1
	}
	return size
}

// checkWindows refuses a run over n targets whose windows would hold more
// than maxWindowBytes, naming the limit and what sets the size.
func (c *Config) checkWindows(n int) error {
	size := windowSize(c, n)
	per := uint64(size) * uint64(unsafe.Sizeof(probe{}))
	if total := uint64(n) * per; total > maxWindowBytes {
		return &refusal{fmt.Sprintf("ping: %d targets remembering %d probes each (timeout %v, a probe every %v) would need %s, "+
			"beyond the limit of %s for probe windows: shorten the timeout, lower the count or lengthen the interval",
			n, size, c.wait(), c.Interval, bytesText(total), bytesText(maxWindowBytes))}
	}
	return nil
}

// bytesText is b in the largest binary unit it fills.
func bytesText(b uint64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", b>>10)
}

// PMTUDisc is a path MTU discovery strategy, as ping -M and the sockets'
// IP_MTU_DISCOVER name them.
type PMTUDisc uint8

const (
	_ PMTUDisc = iota
	// PMTUDiscWant sets DF when the packet fits the path MTU, and lets a
	// larger one be fragmented: the kernel's default for iputils' sockets.
	PMTUDiscWant
	// PMTUDiscDo always sets DF; a probe beyond the path MTU is not sent
	// but answered by a local error (EventLocalError), as iputils reports
	// the kernel's EMSGSIZE.
	PMTUDiscDo
	// PMTUDiscDont never sets DF.
	PMTUDiscDont
)

var pmtuDiscNames = [...]string{PMTUDiscWant: "want", PMTUDiscDo: "do", PMTUDiscDont: "dont"}

func (d PMTUDisc) String() string {
	if int(d) < len(pmtuDiscNames) && pmtuDiscNames[d] != "" {
		return pmtuDiscNames[d]
	}
	return fmt.Sprintf("PMTUDisc(%d)", uint8(d))
}

// ParsePMTUDisc parses ping -M's argument: do, dont or want. Like iputils
// 20221126 it knows no "probe"; its error reads as iputils' does.
func ParsePMTUDisc(s string) (PMTUDisc, error) {
	for d, n := range pmtuDiscNames {
		if n != "" && n == s {
			return PMTUDisc(d), nil
		}
	}
	return 0, fmt.Errorf("invalid -M argument: %s", s)
}

// dontFragment says whether a probe of size data bytes to p carries DF.
func (c *Config) dontFragment(p *resolve.Path, size int) bool {
	switch c.PMTUDisc {
	case PMTUDiscDont:
		return false
	case PMTUDiscDo:
		return true
	}
	return !c.tooBig(p, size)
}

// tooBig says whether a probe of size data bytes exceeds p's MTU.
func (c *Config) tooBig(p *resolve.Path, size int) bool {
	six := p.Target.Is6() && !p.Target.Is4In6()
	return p.MTU > 0 && size+icmpHeader+ipHeader(six) > p.MTU
}

// IPOption is an IPv4 option every probe carries (ping -R, -T).
type IPOption uint8

const (
	// IPOptionNone: no option (the zero value).
	IPOptionNone IPOption = iota
	// IPOptionRecordRoute: every router on the way (and the target) adds
	// its address, nine at most (RFC 791).
	IPOptionRecordRoute
	// IPOptionTimestamp: each hop adds a timestamp (ping -T tsonly).
	IPOptionTimestamp
	// IPOptionTimestampAddr: each hop adds its address and a timestamp
	// (ping -T tsandaddr).
	IPOptionTimestampAddr
	// IPOptionTimestampPrespec: the hops of Config.Prespec add a
	// timestamp (ping -T tsprespec).
	IPOptionTimestampPrespec
)

// ipOption is the option bytes the probes carry, padded to a multiple of
// four, or nil.
func (c *Config) ipOption() []byte {
	switch c.IPOption {
	case IPOptionRecordRoute:
		return craft.RecordRouteOption()
	case IPOptionTimestamp:
		return craft.TimestampOption(craft.TimestampOnly, nil)
	case IPOptionTimestampAddr:
		return craft.TimestampOption(craft.TimestampAndAddress, nil)
	case IPOptionTimestampPrespec:
		return craft.TimestampOption(craft.TimestampPrespecified, c.Prespec)
	}
	return nil
}

// socketOptions is what every socket that sends the run's probes is set to.
func (c *Config) socketOptions() SocketOptions {
	return SocketOptions{Mark: c.Mark, SendBuffer: c.SendBuffer, DontRoute: c.DontRoute, Debug: c.Debug,
		NoMulticastLoop: c.NoMulticastLoop, IPOptions: c.ipOption(), FlowLabel: c.FlowLabel, Broadcast: c.Broadcast}
}
