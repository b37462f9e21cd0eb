package main

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pingcraft/pingcraft/capture"
)

// rotateFlags are tcpdump's -C, -G and -W, which cut -w FILE into a run of
// files. tcpdump gives them no long names. Their values are read as
// tcpdump reads them (readRotation), so they are strings here.
func rotateFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "C", Usage: "with -w, begin a new file before a frame once the current one is over `MILLION` bytes (1,000,000 each): FILE, FILE1, FILE2..."},
		&cli.StringFlag{Name: "G", Usage: "with -w, begin a new file at the first frame `SECONDS` after the current one began; FILE goes through strftime(3)"},
		&cli.StringFlag{Name: "W", Usage: "with -C, a ring of `N` files, FILE0 to FILE(N-1); with -G alone, stop after N files"},
	}
}

// megabyte is tcpdump's unit of -C: a million bytes, not 2^20.
const megabyte = 1_000_000

// readRotation reads -C, -G and -W, refusing what tcpdump refuses in its
// words and with its exit code; name is the program's. tcpdump checks
// them while it reads its options, before it does anything else, -w or
// not, so watch reads them first too. Options rotating nothing (-W alone,
// -G 0) leave Size and Seconds 0.
func readRotation(c *cli.Context, name string) (capture.RotateOptions, error) {
	var ro capture.RotateOptions
	// The first bad option given is the one tcpdump names.
	order := []string{"C", "G", "W"}
	if given, ok := c.App.Metadata["options"].([]string); ok {
		var o []string
		for _, n := range given {
			if slices.Contains(order, n) && !slices.Contains(o, n) {
				o = append(o, n)
			}
		}
		order = o
	}
	for _, opt := range order {
		if !c.IsSet(opt) {
			continue
		}
		v := c.String(opt)
		switch opt {
		case "C":
			n, ok := strtoll(v)
			if !ok || n <= 0 {
				return ro, worded{fmt.Sprintf("%s: invalid file size %s", name, v), exitTcpdumpError}
			}
			if n > math.MaxInt64/megabyte {
				return ro, worded{fmt.Sprintf("%s: file size %s is too large", name, v), exitTcpdumpError}
			}
			ro.Size = n * megabyte
		case "G":
			if ro.Seconds = atoi(v); ro.Seconds < 0 {
				return ro, worded{fmt.Sprintf("%s: invalid number of seconds %s", name, v), exitTcpdumpError}
			}
		case "W":
			if ro.Files = atoi(v); ro.Files <= 0 {
				return ro, worded{fmt.Sprintf("%s: invalid number of output files %s", name, v), exitTcpdumpError}
			}
		}
	}
	return ro, nil
}

// cSpace is what C's isspace skips before a number.
const cSpace = " \t\n\v\f\r"

// strtoll reads s as strtoll(s, &end, 10) with *end == '\0' and no ERANGE:
// spaces, a sign, then digits to the end.
func strtoll(s string) (int64, bool) {
	s = strings.TrimLeft(s, cSpace)
	digits := strings.TrimLeft(s, "+-")
	if len(s)-len(digits) > 1 || digits == "" || strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// newRotation opens the run of files -w path names under -C, -G and -W,
// with o for each file. It returns a nil writer when those options rotate
// nothing: then -w writes one file as it does alone. close flushes and
// closes the current file. name is the program's, for errors.
func newRotation(c *cli.Context, name, path string, o capture.FileOptions) (w capture.PacketWriter, close func() error, err error) {
	return openRotation(c, name, path, o, time.Now)
}

// openRotation is newRotation on the clock now.
func openRotation(c *cli.Context, name, path string, o capture.FileOptions, now func() time.Time) (capture.PacketWriter, func() error, error) {
	ro, err := readRotation(c, name)
	if err != nil {
		return nil, nil, err
	}
	if ro.Size == 0 && ro.Seconds == 0 {
		return nil, nil, nil
	}
	ro.Now, ro.Stdout = now, c.App.Writer
	r, err := capture.NewRotator(path, ro, o)
	if errors.Is(err, capture.ErrSameFile) {
		return nil, nil, sameFileError(name, path, c.String("read"))
	}
	if err != nil {
		return nil, nil, watchError(c, name, err, false)
	}
	// A later file of the run that cannot be made stops the loop with
	// its error, which watch words as it words the loop's.
	return r, r.Close, nil
}

// sameFileError refuses to write over the file -r reads, in the words
// watch has for -w alone.
func sameFileError(name, out, in string) error {
	return worded{fmt.Sprintf("%s: -w %s is the file -r %s reads (the same device and inode): write to another file", name, out, in), exitTcpdumpError}
}

// rotationStop turns the end of -G -W's files, err from capture.Loop, into
// tcpdump's normal stop: its line on stderr, then the counts. A file has
// no counts: tcpdump says so where a live capture's go. Other errors are
// returned as they are.
func rotationStop(c *cli.Context, err error, live bool) error {
	if !errors.Is(err, capture.ErrFileLimit) {
		return err
	}
	ro, _ := readRotation(c, prog(c))
	fmt.Fprintf(c.App.ErrWriter, "Maximum file limit reached: %d\n", ro.Files)
	if !live {
		fmt.Fprintln(c.App.ErrWriter, "pcap_stats: Statistics aren't available from savefiles")
	}
	return nil
}
