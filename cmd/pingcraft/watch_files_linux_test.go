package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pingcraft/pingcraft/lab/labtest"
)

// Capture files made here, byte by byte, to hold what real captures rarely
// do; tcpdump -r says how they read.

// echoFrame is an Ethernet IPv4 echo request from the lab (198.18.0.2 to
// 198.18.1.2, id 0x7063), seq and n bytes long (at least 42), zero-padded.
func echoFrame(seq uint16, n int) []byte {
	b := make([]byte, max(n, 42))
	copy(b, []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00})
	ip := b[14:34]
	ip[0], ip[8], ip[9] = 0x45, 64, 1
	binary.BigEndian.PutUint16(ip[2:], uint16(len(b)-14))
	binary.BigEndian.PutUint16(ip[4:], seq)
	copy(ip[12:], []byte{198, 18, 0, 2, 198, 18, 1, 2})
	binary.BigEndian.PutUint16(ip[10:], inetSum(ip))
	icmp := b[34:]
	icmp[0] = 8
	binary.BigEndian.PutUint16(icmp[4:], 0x7063)
	binary.BigEndian.PutUint16(icmp[6:], seq)
	binary.BigEndian.PutUint16(icmp[2:], inetSum(icmp))
	return b
}

func inetSum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

type capFile struct{ b []byte }

func le32(b []byte, v ...uint32) []byte {
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, x)
	}
	return b
}

// pcapOf starts a little-endian pcap 2.4 file.
func pcapOf(snaplen, link uint32) *capFile {
	return &capFile{le32(le32(nil, 0xa1b2c3d4), 0x00040002, 0, 0, snaplen, link)}
}

// rec appends a record of frame's first caplen bytes (the frame repeated
// as needed) claiming length bytes on the wire, stamped 2026-01-01 + usec.
func (f *capFile) rec(usec uint32, frame []byte, caplen, length uint32) *capFile {
	f.b = le32(f.b, 1767225600, usec, caplen, length)
	for caplen > 0 {
		n := min(caplen, uint32(len(frame)))
		f.b = append(f.b, frame[:n]...)
		caplen -= n
	}
	return f
}

func (f *capFile) cut(n int) *capFile { f.b = f.b[:len(f.b)-n]; return f }

func (f *capFile) block(typ uint32, body []byte) *capFile {
	body = append(body, make([]byte, (4-len(body)%4)%4)...)
	f.b = le32(f.b, typ, uint32(12+len(body)))
	f.b = le32(append(f.b, body...), uint32(12+len(body)))
	return f
}

// ngOf starts a pcapng file with one interface, with options opts.
func ngOf(link uint16, snaplen uint32, opts ...byte) *capFile {
	return (&capFile{}).shb(0x1a2b3c4d, 1).block(1, append(le32(nil, uint32(link), snaplen), opts...))
}

// shb appends a section header of byte-order magic bom, major version
// major.
func (f *capFile) shb(bom, major uint32) *capFile {
	return f.block(0x0a0d0d0a, le32(nil, bom, major, 0xffffffff, 0xffffffff))
}

func (f *capFile) epb(usec uint32, frame []byte, caplen, length uint32) *capFile {
	ts := uint64(1767225600)*1e6 + uint64(usec)
	return f.block(6, append(le32(nil, 0, uint32(ts>>32), uint32(ts), caplen, length), frame[:caplen]...))
}

func (f *capFile) raw(v ...uint32) *capFile { f.b = le32(f.b, v...); return f }

// watchCorpus is the files TestWatchFileCorpus reads with both tools.
func watchCorpus() map[string][]byte {
	e98 := echoFrame(1, 98)
	many := pcapOf(100, 1)
	for i := range 245 {
		// Every other frame is longer than the snapshot length: libpcap
		// cuts those and goes on.
		if i%2 == 1 {
			many.rec(uint32(i), echoFrame(uint16(i), 1514), 1514, 1514)
		} else {
			many.rec(uint32(i), echoFrame(uint16(i), 98), 98, 98)
		}
	}
	return map[string][]byte{
		"caplen-over-snaplen.pcap":  many.b,
		"snaplen-0.pcap":            pcapOf(0, 1).rec(0, e98, 98, 98).rec(1, e98, 98, 98).b,
		"snaplen-huge.pcap":         pcapOf(0xffffffff, 1).rec(0, e98, 98, 98).b,
		"caplen-over-max.pcap":      pcapOf(400000, 1).rec(0, e98, 98, 98).rec(1, e98, 300000, 300000).rec(2, e98, 98, 98).b,
		"caplen-invalid.pcap":       pcapOf(65535, 1).rec(0, e98, 98, 98).rec(1, e98, 300000, 300000).b,
		"cut-in-header.pcap":        pcapOf(65535, 1).rec(0, e98, 98, 98).rec(1, e98, 98, 98).cut(98 + 13).b,
		"cut-in-data.pcap":          pcapOf(65535, 1).rec(0, e98, 98, 98).rec(1, e98, 98, 98).cut(58).b,
		"cut-over-snaplen.pcap":     pcapOf(64, 1).rec(0, e98, 98, 98).cut(10).b,
		"cut-file-header.pcap":      pcapOf(65535, 1).cut(14).b,
		"cut-magic.pcap":            {0xd4, 0xc3, 0xb2},
		"empty.pcap":                {},
		"no-capture.pcap":           []byte("this is no capture file at all"),
		"link-369.pcap":             pcapOf(65535, 369).rec(0, e98, 98, 98).b,
		"link-65537.pcap":           pcapOf(65535, 65537).rec(0, e98, 98, 98).b,
		"link-fcs-bits.pcap":        pcapOf(65535, 0x04000001).rec(0, e98, 98, 98).b,
		"ok.pcapng":                 ngOf(1, 65535).epb(0, e98, 98, 98).epb(1, e98, 60, 98).b,
		"ng-snaplen-0.pcapng":       ngOf(1, 0).epb(0, e98, 98, 98).b,
		"ng-over-snaplen.pcapng":    ngOf(1, 64).epb(0, e98, 98, 98).b,
		"ng-small-block.pcapng":     ngOf(1, 65535).epb(0, e98, 98, 98).raw(6, 8, 8).epb(1, e98, 98, 98).b,
		"ng-odd-block.pcapng":       ngOf(1, 65535).epb(0, e98, 98, 98).raw(6, 13, 0, 0, 0).b,
		"ng-short-epb.pcapng":       ngOf(1, 65535).epb(0, e98, 98, 98).block(6, make([]byte, 8)).b,
		"ng-cut.pcapng":             ngOf(1, 65535).epb(0, e98, 98, 98).epb(1, e98, 98, 98).cut(20).b,
		"ng-no-interface.pcapng":    (&capFile{}).block(0x0a0d0d0a, le32(nil, 0x1a2b3c4d, 1, 0xffffffff, 0xffffffff)).b,
		"ng-unknown-iface.pcapng":   ngOf(1, 65535).block(6, append(le32(nil, 1, 0, 0, 98, 98), e98...)).b,
		"ng-link-369.pcapng":        ngOf(369, 65535).epb(0, e98, 98, 98).b,
		"ng-simple-packet.pcapng":   ngOf(1, 64).block(3, append(le32(nil, 98), e98...)).b,
		"ng-packet-block.pcapng":    ngOf(1, 65535).block(2, append(le32(nil, 0, 0x5b8, 0xd5a38000, 98, 98), e98...)).b,
		"ng-nanoseconds.pcapng":     ngOf(1, 65535, 9, 0, 1, 0, 9, 0, 0, 0).epb(0, e98, 98, 98).b,
		"ng-bad-endofopt.pcapng":    ngOf(1, 65535, 0, 0, 1, 0, 'x', 0, 0, 0).epb(0, e98, 98, 98).b,
		"ng-two-sections.pcapng":    ngOf(1, 65535).epb(0, e98, 98, 98).shb(0x1a2b3c4d, 1).block(1, le32(nil, 1, 65535)).epb(1, e98, 98, 98).b,
		"ng-section-swapped.pcapng": ngOf(1, 65535).epb(0, e98, 98, 98).shb(0x4d3c2b1a, 1).epb(1, e98, 98, 98).b,
		"ng-section-v2.pcapng":      ngOf(1, 65535).epb(0, e98, 98, 98).shb(0x1a2b3c4d, 2).epb(1, e98, 98, 98).b,
		"kuznetzov.pcap":            append(le32(le32(nil, 0xa1b2cd34), 0x00040002, 0, 0, 65535, 1, 1767225600, 5, 98, 98, 0, 0), e98...),
		"time-before-1970.pcap":     append(pcapOf(65535, 1).b, append(le32(nil, 0xfffffffb, 999999, 98, 98), e98...)...),
		"usec-out-of-range.pcap":    append(pcapOf(65535, 1).b, append(le32(nil, 1767225600, 1234567, 98, 98), e98...)...),
		"len-under-caplen.pcap":     append(pcapOf(65535, 1).b, append(le32(nil, 1767225600, 0, 98, 60), e98...)...),
		"v2.3-swapped.pcap":         append((&capFile{le32(le32(nil, 0xa1b2c3d4), 0x00030002, 0, 0, 65535, 1)}).b, append(le32(nil, 1767225600, 0, 200, 98), e98...)...),
	}
}

func writeCorpus(t *testing.T) (string, map[string][]byte) {
	t.Helper()
	dir := t.TempDir()
	files := watchCorpus()
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, files
}

// tcpdumpRun runs tcpdump with args and stdin and returns what it printed
// and its exit code.
func tcpdumpRun(t *testing.T, stdin io.Reader, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command("tcpdump", args...)
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("tcpdump: %v", err)
	}
	return out.String(), errb.String(), code
}

// TestWatchFileCorpus: every file read as tcpdump reads it: the same lines,
// the same words on stderr where it stops, the same exit code.
func TestWatchFileCorpus(t *testing.T) {
	labtest.RequireTool(t, "tcpdump", "tcpdump")
	dir, files := writeCorpus(t)
	for name := range files {
		for _, args := range [][]string{{"-n"}, {"-n", "-v", "-c", "1"}, {"-n", "icmp"}, {"-n", "-e", "-x", "-c", "3"}} {
			t.Run(name+" "+strings.Join(args, " "), func(t *testing.T) {
				path := filepath.Join(dir, name)
				args := append([]string{args[0], "-r", path}, args[1:]...)
				likeTcpdump(t, args...)
			})
		}
	}
	// The file: tcpdump prints all 245 frames.
	out, _, _ := tcpdumpRun(t, nil, "-n", "-r", filepath.Join(dir, "caplen-over-snaplen.pcap"))
	if n := strings.Count(out, "\n"); n != 245 {
		t.Errorf("tcpdump prints %d lines of caplen-over-snaplen.pcap, want 245: the file is not what the test means", n)
	}
}

// watchCmd runs the pingcraft binary as tcpdump (argv[0]), as a user does.
func watchCmd(ctx context.Context, t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.CommandContext(ctx, pingcraftBinary(t), args...)
	cmd.Args[0] = "tcpdump"
	return cmd
}

func runCmd(t *testing.T, cmd *exec.Cmd) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v", cmd.Path, err)
	}
	return out.String(), errb.String(), code
}

// TestWatchStdin: -r - reads standard input as tcpdump -r - does, from a
// file and from a pipe.
func TestWatchStdin(t *testing.T) {
	labtest.RequireTool(t, "tcpdump", "tcpdump")
	dir, _ := writeCorpus(t)
	for _, name := range []string{"../../fixtures/echo.pcap", "caplen-over-snaplen.pcap", "cut-in-data.pcap", "ok.pcapng", "ng-small-block.pcapng", "empty.pcap"} {
		path := name
		if !strings.Contains(name, "/") {
			path = filepath.Join(dir, name)
		}
		for _, pipe := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s pipe=%v", filepath.Base(name), pipe), func(t *testing.T) {
				stdin := func() io.Reader {
					f, err := os.Open(path)
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { f.Close() })
					if pipe {
						return io.MultiReader(f) // not an *os.File: exec makes a pipe
					}
					return f
				}
				want, wantErr, wantCode := tcpdumpRun(t, stdin(), "-n", "-r", "-")
				cmd := watchCmd(t.Context(), t, "-n", "-r", "-")
				cmd.Stdin = stdin()
				got, gotErr, code := runCmd(t, cmd)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("stdout (-tcpdump +watch):\n%s", diff)
				}
				if diff := cmp.Diff(wantErr, gotErr); diff != "" {
					t.Errorf("stderr (-tcpdump +watch):\n%s", diff)
				}
				if code != wantCode {
					t.Errorf("exit %d, tcpdump exits %d", code, wantCode)
				}
			})
		}
	}
}

// TestWatchWriteStdout: watch -r FILE -w - | tcpdump -r - prints what
// tcpdump -r FILE prints, link types beyond 8 bits and pcapng included.
func TestWatchWriteStdout(t *testing.T) {
	labtest.RequireTool(t, "tcpdump", "tcpdump")
	dir, _ := writeCorpus(t)
	for _, tc := range []struct {
		file   string
		args   []string
		filter []string
	}{
		{"../../fixtures/echo.pcap", nil, nil},
		{"../../fixtures/echo.pcap", []string{"--pcapng"}, []string{"icmp6"}},
		{"../../fixtures/link-sll2.pcap", nil, []string{"icmp6"}},
		{"../../fixtures/link-raw.pcap", []string{"--pcapng"}, nil},
		{"caplen-over-snaplen.pcap", nil, nil},
		{"link-fcs-bits.pcap", nil, nil},
		{"ok.pcapng", nil, nil},
	} {
		path := tc.file
		if !strings.Contains(path, "/") {
			path = filepath.Join(dir, path)
		}
		t.Run(strings.Join(append(append([]string{filepath.Base(path)}, tc.args...), tc.filter...), " "), func(t *testing.T) {
			want, _, wantCode := tcpdumpRun(t, nil, append([]string{"-n", "-r", path}, tc.filter...)...)
			if wantCode != 0 {
				t.Fatalf("tcpdump -r %s exits %d", path, wantCode)
			}
			watch := watchCmd(t.Context(), t, append(append([]string{"-r", path, "-w", "-"}, tc.args...), tc.filter...)...)
			var watchErr bytes.Buffer
			watch.Stderr = &watchErr
			pipe, err := watch.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := watch.Start(); err != nil {
				t.Fatal(err)
			}
			got, gotErr, code := tcpdumpRun(t, pipe, "-n", "-r", "-")
			if err := watch.Wait(); err != nil {
				t.Fatalf("watch -w -: %v\n%s", err, watchErr.String())
			}
			if code != 0 {
				t.Fatalf("tcpdump -r - exits %d: %s", code, gotErr)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("tcpdump -r - of watch -w - (-tcpdump -r FILE +through watch):\n%s", diff)
			}
		})
	}
	// A link type beyond 8 bits (PROFIBUS_DL, 257: gopacket's 8 bits
	// would make it EN10MB) is written as it was, in pcap and pcapng.
	for _, ng := range []string{"", "--pcapng"} {
		t.Run("link type 257 kept "+ng, func(t *testing.T) {
			tmp := t.TempDir()
			in, out := filepath.Join(tmp, "in.pcap"), filepath.Join(tmp, "copy")
			if err := os.WriteFile(in, pcapOf(65535, 257).rec(0, echoFrame(1, 98), 98, 98).b, 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"-r", in, "-w", out}
			if ng != "" {
				args = append(args, ng)
			}
			if _, stderr, code := runCmd(t, watchCmd(t.Context(), t, args...)); code != 0 {
				t.Fatalf("watch -w: exit %d: %s", code, stderr)
			}
			want, _, _ := tcpdumpRun(t, nil, "-r", in)
			got, stderr, _ := tcpdumpRun(t, nil, "-r", out)
			if first, _, _ := strings.Cut(stderr, "\n"); first != "reading from file "+out+", link-type PROFIBUS_DL (PROFIBUS data link layer), snapshot length 65535" {
				t.Errorf("tcpdump -r of the copy: %q", first)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("tcpdump -r (-original +copy):\n%s", diff)
			}
		})
	}
}

// TestWatchWriteLive: watch -i -w - | tcpdump -r - while iputils pings:
// tcpdump reads from the pipe the lines a tcpdump beside it captures.
func TestWatchWriteLive(t *testing.T) {
	labtest.RequireTool(t, "tcpdump", "tcpdump")
	labtest.RequireTool(t, "ping", "iputils-ping")
	bin := pingcraftBinary(t)
	l := labtest.New(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	filter := []string{"icmp", "and", "host", l.Target4.String()}

	watch := l.Host.Command(ctx, bin, append([]string{"watch", "-i", l.HostLink, "-c", "10", "-U", "-w", "-"}, filter...)...)
	pipe, err := watch.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	waitWatch := started(t, watch, "listening on")
	var fromPipe, dumpOut, readErr strings.Builder
	reader := exec.CommandContext(ctx, "tcpdump", "-n", "-t", "-r", "-")
	reader.Stdin, reader.Stdout, reader.Stderr = pipe, &fromPipe, &readErr
	if err := reader.Start(); err != nil {
		t.Fatal(err)
	}
	dump := l.Host.Command(ctx, "tcpdump", append([]string{"-i", l.HostLink, "-n", "-t", "-c", "10", "-l"}, filter...)...)
	dump.Stdout = &dumpOut
	waitDump := started(t, dump, "listening on")

	if out, err := l.Host.Command(ctx, "ping", "-c", "5", "-i", "0.2", l.Target4.String()).CombinedOutput(); err != nil {
		t.Fatalf("ping: %v\n%s", err, out)
	}
	if stderr, err := waitWatch(); err != nil {
		t.Fatalf("watch: %v\n%s", err, stderr)
	}
	if err := reader.Wait(); err != nil {
		t.Fatalf("tcpdump -r -: %v\n%s", err, readErr.String())
	}
	if stderr, err := waitDump(); err != nil {
		t.Fatalf("tcpdump -i: %v\n%s", err, stderr)
	}
	got, want := fromPipe.String(), dumpOut.String()
	if n := strings.Count(got, "\n"); n != 10 {
		t.Errorf("tcpdump -r - printed %d lines, want 10:\n%s", n, got)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-tcpdump -i +tcpdump -r - of watch -w -):\n%s", diff)
	}
	if first, _, _ := strings.Cut(readErr.String(), "\n"); first != "reading from file -, link-type EN10MB (Ethernet), snapshot length 262144" {
		t.Errorf("tcpdump -r - says %q", first)
	}
}

// TestWatchWriteOverInput: -w naming the file -r reads, however spelled, is
// refused with one line and exit 1, and the file is left as it was.
func TestWatchWriteOverInput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pcap")
	orig, err := os.ReadFile("../../fixtures/echo.pcap")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("in.pcap", filepath.Join(dir, "sym.pcap")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(in, filepath.Join(dir, "hard.pcap")); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{"in.pcap", "./in.pcap", "../" + filepath.Base(dir) + "/in.pcap", in, "sym.pcap", "hard.pcap"} {
		t.Run(out, func(t *testing.T) {
			cmd := watchCmd(t.Context(), t, "-r", "in.pcap", "-w", out)
			cmd.Dir = dir
			_, stderr, code := runCmd(t, cmd)
			if want := "tcpdump: -w " + out + " is the file -r in.pcap reads (the same device and inode): write to another file\n"; code != 1 || !strings.HasSuffix(stderr, want) {
				t.Errorf("exit %d, stderr %q: want exit 1 and %q", code, stderr, want)
			}
			if b, _ := os.ReadFile(in); !bytes.Equal(b, orig) {
				t.Errorf("the input changed: %d bytes, was %d", len(b), len(orig))
			}
		})
	}
}

// TestWatchDiskFull: -w onto a disk that fills leaves a file that ends on
// a whole record (tcpdump reads it to its end without complaint) holding
// as many frames as the error says; a device that takes nothing fails
// with one line. The small disk is a tmpfs in a mount namespace of the
// test's own, gone with it.
func TestWatchDiskFull(t *testing.T) {
	labtest.RequireTool(t, "tcpdump", "tcpdump")
	bin := pingcraftBinary(t)
	dir := t.TempDir()
	in := pcapOf(65535, 1)
	for i := range 3000 {
		in.rec(uint32(i), echoFrame(uint16(i), 1000), 1000, 1000)
	}
	inPath := filepath.Join(dir, "in.pcap")
	if err := os.WriteFile(inPath, in.b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("/dev/full", func(t *testing.T) {
		_, stderr, code := runCmd(t, watchCmd(t.Context(), t, "-r", inPath, "-w", "/dev/full"))
		if code != 1 || !strings.Contains(stderr, "no space left on device") || strings.Count(stderr, "\n") != 2 {
			t.Errorf("exit %d, stderr %q: want exit 1, the first line and one naming ENOSPC", code, stderr)
		}
	})
	for _, format := range []string{"pcap", "pcapng"} {
		t.Run("tmpfs "+format, func(t *testing.T) {
			labtest.RequireRoot(t)
			labtest.RequireTool(t, "unshare", "util-linux")
			mnt := filepath.Join(t.TempDir(), "small")
			if err := os.Mkdir(mnt, 0o755); err != nil {
				t.Fatal(err)
			}
			ng := ""
			if format == "pcapng" {
				ng = "--pcapng"
			}
			// The mount lives in the namespace only: nothing to clean up.
			script := `set -u
mount -t tmpfs -o size=256k wfl-full "$1" || exit 99
"$2" watch -r "$3" -w "$1/out" $4 2>"$1/err"; echo "rc=$?"
cat "$1/err"
tcpdump -n -r "$1/out" 2>/dev/null | wc -l
tcpdump -r "$1/out" 2>&1 >/dev/null | tail -n 1`
			out, err := exec.CommandContext(t.Context(), "unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", mnt, bin, inPath, ng).CombinedOutput()
			if err != nil {
				t.Fatalf("unshare: %v\n%s", err, out)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if len(lines) != 5 {
				t.Fatalf("want rc, two lines of watch, a count and tcpdump's last line; got:\n%s", out)
			}
			if lines[0] != "rc=1" {
				t.Errorf("watch exits with %s, want 1", lines[0])
			}
			m := regexp.MustCompile(`^tcpdump: capture: write .*/out: .*no space left on device: .*/out holds (\d+) frames: free space, or write elsewhere$`).FindStringSubmatch(lines[2])
			if m == nil {
				t.Fatalf("watch's error: %q", lines[2])
			}
			held, _ := strconv.Atoi(m[1])
			read, _ := strconv.Atoi(strings.TrimSpace(lines[3]))
			if held == 0 || held >= 3000 || read != held {
				t.Errorf("watch says the file holds %d frames, tcpdump reads %d: want the same, between 1 and 2999", held, read)
			}
			if !strings.HasPrefix(lines[4], "reading from file") {
				t.Errorf("tcpdump -r of what is left ends with %q, not reading it to its end", lines[4])
			}
		})
	}
}

// interrupted starts cmd, waits until ready says it is where the test
// means it to be, sends SIGINT and returns stderr, the exit code and how
// long the exit took.
func interrupted(t *testing.T, cmd *exec.Cmd, ready func(pid int, stderr *bufio.Reader) bool) (string, int, time.Duration) {
	t.Helper()
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(errPipe)
	deadline := time.Now().Add(10 * time.Second)
	for !ready(cmd.Process.Pid, br) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("the process never got where the test means to interrupt it")
		}
		time.Sleep(10 * time.Millisecond) // polling /proc: no event to wait on
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rest, _ := io.ReadAll(br)
	err = cmd.Wait()
	took := time.Since(start)
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(rest), code, took
}

// lockedBuffer is a strings.Builder a process writes while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitingInOpen reports whether a thread of pid waits in open(2) for a
// FIFO's writer.
func waitingInOpen(pid int) bool {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/wchan", pid))
	for _, p := range tasks {
		if b, _ := os.ReadFile(p); string(b) == "wait_for_partner" {
			return true
		}
	}
	return false
}

// lineSaying returns a ready func that waits for a line on stderr
// containing s.
func lineSaying(s string) func(int, *bufio.Reader) bool {
	return func(_ int, br *bufio.Reader) bool {
		line, err := br.ReadString('\n')
		return err == nil && strings.Contains(line, s)
	}
}

// TestWatchInterrupt: Ctrl-C stops -r on a FIFO nobody writes, on a FIFO
// whose writer went quiet, and a filter libpcap takes long to compile.
func TestWatchInterrupt(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	const bound = 2 * time.Second
	t.Run("FIFO without a writer", func(t *testing.T) {
		stderr, code, took := interrupted(t, watchCmd(t.Context(), t, "-r", fifo), func(pid int, _ *bufio.Reader) bool { return waitingInOpen(pid) })
		if code != 130 || stderr != "" || took > bound {
			t.Errorf("exit %d after %v, stderr %q: want 130 (as killed by SIGINT) within %v, nothing said", code, took, stderr, bound)
		}
	})
	t.Run("FIFO with a quiet writer", func(t *testing.T) {
		cmd := watchCmd(t.Context(), t, "-n", "-r", fifo)
		var stdout lockedBuffer
		cmd.Stdout = &stdout
		quit, writerDone := make(chan struct{}), make(chan error, 1)
		go func() {
			w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
			if err == nil {
				_, err = w.Write(pcapOf(65535, 1).rec(0, echoFrame(1, 98), 98, 98).b)
				<-quit // the FIFO stays open, and quiet
				w.Close()
			}
			writerDone <- err
		}()
		// Interrupted once the frame is printed: watch waits in read(2).
		stderr, code, took := interrupted(t, cmd, func(int, *bufio.Reader) bool { return strings.Contains(stdout.String(), "\n") })
		close(quit)
		if err := <-writerDone; err != nil {
			t.Errorf("writer: %v", err)
		}
		if code != 0 || !strings.HasPrefix(stderr, "reading from file") || strings.Count(stderr, "\n") != 1 || took > bound {
			t.Errorf("exit %d after %v, stderr %q: want 0 within %v, nothing said but the first line", code, took, stderr, bound)
		}
		if n := strings.Count(stdout.String(), "\n"); n != 1 {
			t.Errorf("printed %d lines before the interrupt, want the 1 frame written:\n%s", n, stdout.String())
		}
	})
	t.Run("long filter compile", func(t *testing.T) {
		hosts := make([]string, 500)
		for i := range hosts {
			hosts[i] = fmt.Sprintf("host 10.0.%d.%d", i/250, i%250)
		}
		cmd := watchCmd(t.Context(), t, "-r", "../../fixtures/echo.pcap", strings.Join(hosts, " or "))
		// The first line comes before the compile, as in tcpdump.
		stderr, code, took := interrupted(t, cmd, lineSaying("reading from file"))
		if code != 130 || stderr != "" || took > bound {
			t.Errorf("exit %d after %v, stderr %q: want 130 (as killed by SIGINT) within %v, nothing said", code, took, stderr, bound)
		}
	})
}

// Watch run inside the test binary must not drop the privileges the
// other tests need; the binary's own runs relinquish them.
func init() { watchRelinquish = func(string, string) error { return nil } }

// likeTcpdump runs watch in this process, named tcpdump, and tcpdump with
// the same arguments: the same stdout, stderr and exit code.
func likeTcpdump(t *testing.T, args ...string) {
	t.Helper()
	want, wantErr, wantCode := tcpdumpRun(t, nil, args...)
	var got, gotErr strings.Builder
	code := run(t.Context(), append([]string{"tcpdump"}, args...), &got, &gotErr)
	if diff := cmp.Diff(want, got.String()); diff != "" {
		t.Errorf("stdout (-tcpdump +watch):\n%s", diff)
	}
	if diff := cmp.Diff(wantErr, gotErr.String()); diff != "" {
		t.Errorf("stderr (-tcpdump +watch):\n%s", diff)
	}
	if code != wantCode {
		t.Errorf("exit %d, tcpdump exits %d", code, wantCode)
	}
}
