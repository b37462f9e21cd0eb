package ping

import (
	"math"
	"time"
)

// Stats counts one target's probes. At every moment
// Transmitted == Received + TimedOut + Outstanding, where TimedOut counts
// every probe that ended without a reply: its timeout passed or an ICMP
// error answered it.
type Stats struct {
	Transmitted int
	Received    int
	TimedOut    int
	Outstanding int
	Duplicates  int
	Late        int
	Corrupted   int
	// BadChecksums counts replies with a wrong ICMP checksum, which iputils
	// prints with "(BAD CHECKSUM!)" and counts as corrupted.
	BadChecksums int
	Errors       int // ICMP errors received, and local errors (EventLocalError)
	SendErrors   int
	// RTTs of replies and duplicates, as iputils sums them (microseconds).
	rttN               int64
	rttSum, rttSum2    int64
	rttMinUS, rttMaxUS int64
	ewma8              int64 // smoothed RTT in µs, times 8, as iputils keeps it
	// firstSent and lastSent are when the first and the latest probe went.
	firstSent, lastSent time.Time
}

// sent records a probe sent at t.
func (s *Stats) sent(t time.Time) {
	if s.firstSent.IsZero() {
		s.firstSent = t
	}
	s.lastSent = t
}

// Span is the time from the first probe sent to the latest: what iputils
// prints as the run's "time" (not counting the wait for the last reply).
func (s *Stats) Span() time.Duration {
	if s.firstSent.IsZero() {
		return 0
	}
	return s.lastSent.Sub(s.firstSent)
}

func (s *Stats) addRTT(d time.Duration) {
	us := d.Microseconds()
	if s.rttN == 0 || us < s.rttMinUS {
		s.rttMinUS = us
	}
	if us > s.rttMaxUS {
		s.rttMaxUS = us
	}
	if s.ewma8 == 0 {
		s.ewma8 = us * 8
	} else {
		s.ewma8 += us - s.ewma8/8
	}
	s.rttN++
	s.rttSum += us
	s.rttSum2 += us * us
}

// RTT returns min, avg, max and mdev (population standard deviation), with
// iputils' integer-microsecond arithmetic so the printed figures agree.
func (s *Stats) RTT() (min, avg, max, mdev time.Duration, ok bool) {
	if s.rttN == 0 {
		return 0, 0, 0, 0, false
	}
	mean := s.rttSum / s.rttN
	mean2 := s.rttSum2 / s.rttN
	dev := int64(math.Sqrt(float64(mean2 - mean*mean)))
	us := time.Microsecond
	return time.Duration(s.rttMinUS) * us, time.Duration(mean) * us, time.Duration(s.rttMaxUS) * us, time.Duration(dev) * us, true
}

// Loss is the percentage of transmitted probes without a reply.
func (s *Stats) Loss() float64 {
	if s.Transmitted == 0 {
		return 0
	}
	return float64(s.Transmitted-s.Received) * 100 / float64(s.Transmitted)
}

// EWMA is the smoothed round-trip time iputils prints after a flood and on
// SIGQUIT: each reply moves it an eighth of the way.
func (s *Stats) EWMA() time.Duration {
	return time.Duration(s.ewma8/8) * time.Microsecond
}
