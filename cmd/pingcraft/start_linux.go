package main

import (
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// clockTicks is USER_HZ, the unit of /proc's start times: 100 on every
// Linux architecture.
const clockTicks = 100

// processStarted is when the kernel started this process (to 10 ms),
// else now: the Go runtime and our packages' initialisation take tens of
// milliseconds, which fping's schedule (-Q) should not lag by.
func processStarted() time.Time {
	now := time.Now()
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return now
	}
	// The fields after the command name, which may hold spaces.
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 {
		return now
	}
	f := strings.Fields(string(stat[i+1:]))
	const startField = 22 - 3 // starttime is field 22; f starts at field 3
	if len(f) <= startField {
		return now
	}
	ticks, err := strconv.ParseInt(f[startField], 10, 64)
	var ts unix.Timespec
	if err != nil || unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts) != nil {
		return now
	}
	age := time.Duration(ts.Nano()) - time.Duration(ticks)*time.Second/clockTicks
	if age < 0 || age > time.Minute {
		return now
	}
	return now.Add(-age)
}
