//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/pingcraft/pingcraft/lab"
)

// captureCounts reads the three lines tcpdump and pingcraft watch print on
// exit.
var captureCounts = regexp.MustCompile(`(\d+) packets captured\n(\d+) packets received by filter\n(\d+) packets dropped by kernel`)

// benchWatch floods the target with iputils ping while a capture tool
// writes every ICMP frame on the host link to a file, once for pingcraft
// watch -w and once for tcpdump -w, and reports what each kept and cost.
func benchWatch(ctx context.Context, l *lab.Lab, dir, bin string, count int, timeout time.Duration) error {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		return fmt.Errorf("tcpdump is not on PATH: apt-get install tcpdump")
	}
	fmt.Printf("\ncapture: ping -f -c %d from the lab host while each tool writes every ICMP frame on %s to a file\n", count, l.HostLink)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "command\tframes on the wire\tcaptured\tdropped\tuser s\tsys s\tCPU µs/frame\t")
	for _, tool := range []struct{ name, args string }{
		{bin, "watch -i " + l.HostLink + " -w OUT icmp"},
		{"tcpdump", "-i " + l.HostLink + " -w OUT icmp"},
	} {
		args := strings.Fields(strings.ReplaceAll(tool.args, "OUT", filepath.Join(dir, "capture.pcap")))
		r, err := captureDuring(ctx, l, timeout, tool.name, args, count)
		label := filepath.Base(tool.name) + " " + strings.Join(args[:len(args)-3], " ") + " -w FILE icmp"
		if err != nil {
			fmt.Fprintf(tw, "%s\t%v\t\t\t\t\t\t\n", label, err)
			continue
		}
		cpu := r.user + r.sys
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.3f\t%.3f\t%.2f\t\n", label, r.wire, r.captured, r.dropped,
			r.user.Seconds(), r.sys.Seconds(), float64(cpu.Nanoseconds())/1e3/float64(max(r.captured, 1)))
	}
	return tw.Flush()
}

type captureResult struct {
	wire, captured, received, dropped int
	user, sys                         time.Duration
}

// captureDuring starts the capture tool, waits for it to listen, floods,
// then stops it with SIGINT as a user would.
func captureDuring(ctx context.Context, l *lab.Lab, timeout time.Duration, name string, args []string, count int) (captureResult, error) {
	var res captureResult
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := l.Host.Command(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Stdout = io.Discard
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return res, err
	}
	if err := cmd.Start(); err != nil {
		return res, err
	}
	var errText strings.Builder
	buf := make([]byte, 4096)
	for !strings.Contains(errText.String(), "listening on") {
		n, err := stderr.Read(buf)
		errText.Write(buf[:n])
		if err != nil {
			cmd.Wait()
			return res, fmt.Errorf("%s did not start: %s", name, strings.TrimSpace(errText.String()))
		}
	}
	rest := make(chan struct{})
	go func() {
		defer close(rest)
		io.Copy(&errText, stderr)
	}()

	out, err := l.Host.Command(ctx, "ping", "-f", "-q", "-c", strconv.Itoa(count), l.Target4.String()).CombinedOutput()
	m := counts.FindStringSubmatch(string(out))
	if err != nil || m == nil {
		cmd.Cancel()
		cmd.Wait()
		return res, fmt.Errorf("ping -f: %v: %s", err, strings.TrimSpace(string(out)))
	}
	sent, _ := strconv.Atoi(m[1])
	replies, _ := strconv.Atoi(m[2])
	res.wire = sent + replies
	time.Sleep(200 * time.Millisecond) // the last frames reach the tool
	syscall.Kill(cmd.Process.Pid, syscall.SIGINT)
	<-rest
	cmd.Wait()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.user, res.sys = time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
	}
	c := captureCounts.FindStringSubmatch(errText.String())
	if c == nil {
		return res, fmt.Errorf("%s printed no counts: %s", name, strings.TrimSpace(errText.String()))
	}
	res.captured, _ = strconv.Atoi(c[1])
	res.received, _ = strconv.Atoi(c[2])
	res.dropped, _ = strconv.Atoi(c[3])
	return res, nil
}
