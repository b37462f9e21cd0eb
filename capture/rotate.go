package capture

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/google/gopacket"
	"github.com/lestrrat-go/strftime"
)

// ErrFileLimit is returned by Rotator.WritePacket once time rotation alone
// (Seconds and Files, no Size) has made its Files files: tcpdump -G -W
// stops there, as a normal end. The frame handed in is not written.
var ErrFileLimit = errors.New("capture: maximum file limit reached")

// RotateOptions say when a Rotator moves on to its next file: tcpdump's
// -C, -G and -W.
type RotateOptions struct {
	// Size, if not 0, moves on before a frame when the current file is
	// already larger than Size bytes, buffered frames counted (tcpdump -C
	// N is N × 1,000,000 bytes). The frame that crosses it still goes
	// into the current file, so files end a little over Size.
	Size int64
	// Seconds, if not 0, moves on before the first frame that comes at
	// least Seconds after the current file was begun, by the clock (not
	// the frames' stamps), read to the second as tcpdump reads time(2)
	// (-G). Names then go through strftime at the second the file was
	// begun, in the clock's time zone.
	Seconds int
	// Files, if not 0, is tcpdump's -W: with Size, a ring of Files names
	// used over and over; with Seconds alone, the run stops with
	// ErrFileLimit instead of beginning file Files+1.
	Files int
	// Now is the clock; nil means time.Now. Its location is the time zone
	// of strftime's conversions.
	Now func() time.Time
	// Stdout is where a file named "-" goes; nil means os.Stdout.
	Stdout io.Writer
}

// Rotator writes frames to a run of capture files, named as tcpdump names
// them (MakeFilename in tcpdump.c):
//
//   - Size alone: NAME, then NAME1, NAME2 and upward;
//   - Size and Files: NAME0 to NAME(Files-1), the number padded with
//     zeros to the digits of Files-1 (none when Files is 1: always NAME),
//     the oldest file overwritten when the ring comes round;
//   - Seconds: strftime(NAME) at each file's beginning; with Size too,
//     followed by the number as above, from 0 again at each new second
//     boundary crossed.
//
// Every file is made by CreateFile with the same FileOptions: the format,
// -U packet buffering and the file not to overwrite (Keep, refused with
// ErrSameFile even when the ring comes round to its name).
type Rotator struct {
	name  string
	ro    RotateOptions
	fo    FileOptions
	names *strftime.Strftime // nil without Seconds
	// digits pads the number after the name: tcpdump's WflagChars when
	// Size is set, else 0 (names then carry no number).
	digits int

	cur     *FileWriter
	path    string    // cur's name
	begun   time.Time // when the current time period began, to the second
	periods int       // time periods begun after the first (Gflag_count)
	count   int       // the number in the current name (Cflag_count)
	frames  int       // whole frames in files closed before cur
	err     error     // the run has stopped: ErrFileLimit or a write error
}

// pathMax is Linux's PATH_MAX: tcpdump refuses a name longer than that.
const pathMax = 4096

// NewRotator checks ro, creates the run's first file and writes its
// header, as tcpdump does before the first frame comes.
func NewRotator(name string, ro RotateOptions, fo FileOptions) (*Rotator, error) {
	switch {
	case ro.Size < 0 || ro.Seconds < 0 || ro.Files < 0:
		return nil, fmt.Errorf("capture: rotate %s: size %d, seconds %d and files %d must not be negative", name, ro.Size, ro.Seconds, ro.Files)
	case ro.Size == 0 && ro.Seconds == 0:
		return nil, fmt.Errorf("capture: rotate %s: give a size or seconds to rotate on", name)
	}
	if ro.Now == nil {
		ro.Now = time.Now
	}
	r := &Rotator{name: name, ro: ro, fo: fo}
	if ro.Seconds > 0 {
		f, err := newStrftime(name)
		if err != nil {
			return nil, fmt.Errorf("capture: rotate %s: %w", name, err)
		}
		r.names = f
	}
	if ro.Size > 0 {
		r.digits = digitsOf(ro.Files - 1)
	}
	r.begun = r.second()
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

// digitsOf is how many decimal digits n has; 0 for n <= 0, so that -W 1
// names carry no number (tcpdump's getWflagChars).
func digitsOf(n int) int {
	d := 0
	for ; n > 0; n /= 10 {
		d++
	}
	return d
}

// second reads the clock to the second, as time(2) does.
func (r *Rotator) second() time.Time {
	now := r.ro.Now()
	return time.Unix(now.Unix(), 0).In(now.Location())
}

// fileName is the name of file number count begun at r.begun.
func (r *Rotator) fileName(count int) (string, error) {
	base := r.name
	if r.names != nil {
		base = r.names.FormatString(r.begun)
	}
	if count == 0 && r.digits == 0 {
		return base, nil
	}
	s := base + fmt.Sprintf("%0*d", r.digits, count)
	if len(s) > pathMax {
		return "", fmt.Errorf("capture: rotate %s: too many output files or filename is too long (> %d)", r.name, pathMax)
	}
	return s, nil
}

// open begins file number r.count.
func (r *Rotator) open() error {
	path, err := r.fileName(r.count)
	if err != nil {
		return err
	}
	var w *FileWriter
	if path == "-" {
		out := r.ro.Stdout
		if out == nil {
			out = os.Stdout
		}
		w, err = NewFileWriter(out, "standard output", r.fo)
	} else {
		w, err = CreateFile(path, r.fo)
	}
	if err != nil {
		return err
	}
	r.cur, r.path = w, path
	return nil
}

// next closes the current file and begins file number count.
func (r *Rotator) next(count int) error {
	if err := r.closeCurrent(); err != nil {
		return err
	}
	r.count = count
	return r.open()
}

func (r *Rotator) closeCurrent() error {
	if r.cur == nil {
		return nil
	}
	err := r.cur.Close()
	r.frames += r.cur.Frames()
	r.cur = nil
	return err
}

// WritePacket writes one frame, to a new file first when the time period
// or the size says so, in tcpdump's order: time first, then size (so a
// new period's file is never also cut for size).
func (r *Rotator) WritePacket(ci gopacket.CaptureInfo, data []byte) error {
	if r.err != nil {
		return r.err
	}
	if err := r.rotate(); err != nil {
		r.err = err
		return err
	}
	return r.cur.WritePacket(ci, data)
}

func (r *Rotator) rotate() error {
	if r.ro.Seconds > 0 {
		if now := r.second(); now.Unix()-r.begun.Unix() >= int64(r.ro.Seconds) {
			r.begun = now
			r.periods++
			if r.ro.Size == 0 && r.ro.Files > 0 && r.periods >= r.ro.Files {
				if err := r.closeCurrent(); err != nil {
					return err
				}
				return fmt.Errorf("%w: %d files", ErrFileLimit, r.ro.Files)
			}
			if err := r.next(0); err != nil {
				return err
			}
		}
	}
	if r.ro.Size > 0 && r.cur.size() > r.ro.Size {
		count := r.count + 1
		if r.ro.Files > 0 && count >= r.ro.Files {
			count = 0
		}
		return r.next(count)
	}
	return nil
}

// size is how long the file is with what is buffered written out, as
// ftell on tcpdump's stdio stream says.
func (w *FileWriter) size() int64 { return w.whole + int64(len(w.buf)) }

// Name is the file frames go to now.
func (r *Rotator) Name() string { return r.path }

// Frames is how many frames the run's files took, whole, files since
// overwritten by the ring included.
func (r *Rotator) Frames() int {
	if r.cur == nil {
		return r.frames
	}
	return r.frames + r.cur.Frames()
}

// Close flushes and closes the current file. It is idempotent.
func (r *Rotator) Close() error {
	err := r.closeCurrent()
	if r.err == nil {
		r.err = errors.New("capture: rotate " + r.name + ": closed")
	}
	return err
}

// strftime's conversions as glibc's strftime in the C locale makes them:
// the library's own, plus %s and %P. What glibc does not know it copies
// as it is (%v, %Q, a lone % at the end), where the library would refuse
// the pattern; E and O modifiers, which change nothing in the C locale,
// are dropped. Of glibc's flags only '-' (no padding) is kept; '_', '0',
// '^', '#' and field widths are copied as they are.
const (
	strftimeKnown = "AaBbCcDdeFGgHhIjklMmnpRrSTtUuVWwXxYyZz%sP"
	strftimeE     = "cCxXyY"
	strftimeO     = "deHImMSuUVwWy"
)

func newStrftime(pattern string) (*strftime.Strftime, error) {
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		flag := j < len(pattern) && pattern[j] == '-'
		if flag {
			j++
		}
		if j+1 < len(pattern) && (pattern[j] == 'E' && strings.IndexByte(strftimeE, pattern[j+1]) >= 0 ||
			pattern[j] == 'O' && strings.IndexByte(strftimeO, pattern[j+1]) >= 0) {
			j++
		}
		if j < len(pattern) && strings.IndexByte(strftimeKnown, pattern[j]) >= 0 && !(flag && pattern[j] == '%') {
			b.WriteByte('%')
			if flag {
				b.WriteByte('-')
			}
			b.WriteByte(pattern[j])
			i = j
			continue
		}
		// Unknown to glibc: the '%' is copied, and what follows is read
		// again as plain text.
		b.WriteString("%%")
	}
	return strftime.New(b.String(),
		strftime.WithUnixSeconds('s'),
		strftime.WithSpecification('P', strftime.AppendFunc(func(b []byte, t time.Time) []byte {
			if t.Hour() < 12 {
				return append(b, "am"...)
			}
			return append(b, "pm"...)
		})))
}
