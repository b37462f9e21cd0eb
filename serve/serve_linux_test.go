package serve

// Loopback tests of the Server: retries, reloads of what changed, bursts,
// every address of a name and the file_sd watch. They need root (raw
// sockets) and run under the lab lock with the other privileged tests.

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pingcraft/pingcraft/lab/labtest"
)

// TestRetry: a target whose name does not resolve at start is not a
// refused configuration but a target not probed, with its failures
// counted, and it is probed once its name resolves, without a reload.
// Probes go to loopback only.
func TestRetry(t *testing.T) {
	labtest.RequireRoot(t)
	var known atomic.Bool
	s := New()
	s.RetryMin, s.RetryMax = 20*time.Millisecond, 40*time.Millisecond
	s.Lookup = func(ctx context.Context, network, host string) ([]netip.Addr, error) {
		if host == "late.example" && known.Load() {
			return []netip.Addr{netip.MustParseAddr("127.0.0.3")}, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	cfg := &Config{Buckets: DefaultBuckets, Groups: []Group{{Name: "lo", Interval: 100 * time.Millisecond, Timeout: 100 * time.Millisecond,
		Size: 56, Targets: []string{"127.0.0.2", "late.example"}}}}
	if err := s.Apply(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	scrape := func() string {
		var b bytes.Buffer
		if err := s.WriteMetrics(&b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	if n := s.Targets(); n != 1 {
		t.Fatalf("%d targets probed at start, want 127.0.0.2 alone", n)
	}
	body := scrape()
	for _, want := range []string{`pingcraft_target_probed{group="lo",host="late.example"} 0`,
		`pingcraft_target_probed{group="lo",host="127.0.0.2"} 1`, `pingcraft_target_resolve_errors_total{group="lo",host="late.example"} `} {
		if !strings.Contains(body, want) {
			t.Errorf("at start, no %s in\n%s", want, body)
		}
	}
	known.Store(true)
	deadline := time.Now().Add(10 * time.Second)
	for s.Targets() != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("late.example not probed 10s after its name resolves:\n%s", scrape())
		}
		time.Sleep(10 * time.Millisecond)
	}
	body = scrape()
	for _, want := range []string{`pingcraft_target_probed{group="lo",host="late.example"} 1`,
		`pingcraft_requests_total{group="lo",host="late.example",ip="127.0.0.3",source="127.0.0.1"} `} {
		if !strings.Contains(body, want) {
			t.Errorf("after the retry, no %s in\n%s", want, body)
		}
	}
	if strings.Contains(body, "pingcraft_target_resolve_errors_total") {
		t.Errorf("resolve errors of a target that is probed:\n%s", body)
	}
}

// TestApplyKeeps: a reload that changes one target set resolves and
// restarts that set alone; the others keep their fleets, engines and
// counts. The group's and the file's labels are on the series. Probes go
// to loopback only.
func TestApplyKeeps(t *testing.T) {
	labtest.RequireRoot(t)
	s := New()
	defer s.Close()
	cfg := func(rack string) *Config {
		return &Config{Buckets: DefaultBuckets, Groups: []Group{{Name: "lo", Interval: 100 * time.Millisecond, Timeout: 100 * time.Millisecond,
			Size: 56, Labels: map[string]string{"dc": "ams"}, Targets: []string{"127.0.0.2"},
			FileSets: []TargetSet{{Targets: []string{"127.0.0.3"}, Labels: map[string]string{"rack": rack}}}}}}
	}
	if err := s.Apply(t.Context(), cfg("r1")); err != nil {
		t.Fatal(err)
	}
	fleets := func() map[string]*setRun {
		s.liveMu.Lock()
		defer s.liveMu.Unlock()
		return maps.Clone(s.live)
	}
	before := fleets()
	if len(before) != 2 {
		t.Fatalf("%d sets, want the group's list and the file's entry", len(before))
	}
	if err := s.Apply(t.Context(), cfg("r2")); err != nil {
		t.Fatal(err)
	}
	after := fleets()
	kept := 0
	for key, sr := range after {
		if before[key] == sr {
			kept++
		}
	}
	if kept != 1 || len(after) != 2 {
		t.Errorf("after changing the file's label: %d of %d sets kept, want the group's list alone", kept, len(after))
	}
	var b bytes.Buffer
	if err := s.WriteMetrics(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`pingcraft_requests_total{dc="ams",group="lo",host="127.0.0.2",ip="127.0.0.2",source="127.0.0.1"} `,
		`pingcraft_requests_total{dc="ams",group="lo",host="127.0.0.3",ip="127.0.0.3",rack="r2",source="127.0.0.1"} `} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %s in\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), `rack="r1"`) {
		t.Errorf("the old label's series are still there")
	}
}

// TestBurst: a group with a burst schedule sends each target its burst
// at every interval, and the replies are counted. Probes go to loopback
// only.
func TestBurst(t *testing.T) {
	labtest.RequireRoot(t)
	s := New()
	defer s.Close()
	cfg := &Config{Buckets: DefaultBuckets, Groups: []Group{{Name: "lo", Interval: 200 * time.Millisecond, Timeout: 100 * time.Millisecond,
		Size: 56, Burst: Burst{Count: 3, Gap: 20 * time.Millisecond}, Targets: []string{"127.0.0.2", "127.0.0.3"}}}}
	if err := s.Apply(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	tg := s.targets.load().probed[0]
	deadline := time.Now().Add(10 * time.Second)
	for {
		tg.mu.Lock()
		requests, responses := tg.requests, tg.count
		tg.mu.Unlock()
		if requests >= 6 && responses >= 6 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10s, %d requests and %d responses, want two bursts of 3 answered", requests, responses)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAllAddresses: with addresses: all, every address of a name is a
// target, its host the name; with refresh, a name that comes to resolve
// elsewhere makes its set stale, and the next Apply probes the new
// address. Probes go to loopback only.
func TestAllAddresses(t *testing.T) {
	labtest.RequireRoot(t)
	var moved atomic.Bool
	s := New()
	defer s.Close()
	s.Lookup = func(ctx context.Context, network, host string) ([]netip.Addr, error) {
		if host != "mesh.example" {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		if moved.Load() {
			return []netip.Addr{netip.MustParseAddr("127.0.0.4"), netip.MustParseAddr("::1")}, nil
		}
		return []netip.Addr{netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3"), netip.MustParseAddr("::1")}, nil
	}
	cfg := &Config{Buckets: DefaultBuckets, Groups: []Group{{Name: "lo", Interval: 100 * time.Millisecond, Timeout: 100 * time.Millisecond,
		Size: 56, AllAddresses: true, Refresh: 50 * time.Millisecond, Targets: []string{"mesh.example"}}}}
	if err := s.Apply(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	scrape := func() string {
		var b bytes.Buffer
		if err := s.WriteMetrics(&b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	body := scrape()
	for _, ip := range []string{"127.0.0.2", "127.0.0.3", "::1"} {
		want := `pingcraft_target_probed{group="lo",host="mesh.example",ip="` + ip + `"} 1`
		if !strings.Contains(body, want) {
			t.Errorf("no %s in\n%s", want, body)
		}
	}
	moved.Store(true)
	select {
	case <-s.Stale():
	case <-time.After(10 * time.Second):
		t.Fatal("no stale set 10s after the name moved")
	}
	if err := s.Apply(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	body = scrape()
	if !strings.Contains(body, `ip="127.0.0.4"`) || strings.Contains(body, `ip="127.0.0.2"`) {
		t.Errorf("after the name moved, want 127.0.0.4 probed and 127.0.0.2 gone:\n%s", body)
	}
}

// TestRunWatchesFiles: serve looks at its file_sd files and a change
// starts the targets it adds, without a signal. Probes go to loopback only.
func TestRunWatchesFiles(t *testing.T) {
	labtest.RequireRoot(t)
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("pingcraft.yaml", "groups:\n  - name: lo\n    interval: 100ms\n    files: [sd.json]\n")
	write("sd.json", `[{"targets": ["127.0.0.2"], "labels": {"rack": "r1"}}]`)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // Run listens itself; the port was free a moment ago
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, &Options{ConfigFile: filepath.Join(dir, "pingcraft.yaml"), Listen: addr}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	waitFor := func(want string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		var body string
		for time.Now().Before(deadline) {
			if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if body = string(b); strings.Contains(body, want) {
					return
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("no %s after 15s in\n%s", want, body)
	}
	waitFor(`pingcraft_target_probed{group="lo",host="127.0.0.2"} 1`)
	write("sd.json", `[{"targets": ["127.0.0.2"], "labels": {"rack": "r1"}}, {"targets": ["127.0.0.3"]}]`)
	waitFor(`pingcraft_target_probed{group="lo",host="127.0.0.3"} 1`)
	waitFor(`pingcraft_requests_total{group="lo",host="127.0.0.2",ip="127.0.0.2",rack="r1",source="127.0.0.1"} `)
}

// TestSameAddress: two names of one address in a group are not a refused
// configuration: the first is probed. Probes go to loopback only.
func TestSameAddress(t *testing.T) {
	labtest.RequireRoot(t)
	s := New()
	defer s.Close()
	s.Lookup = func(ctx context.Context, network, host string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("127.0.0.2")}, nil
	}
	cfg := &Config{Buckets: DefaultBuckets, Groups: []Group{{Name: "lo", Interval: 100 * time.Millisecond, Timeout: 100 * time.Millisecond,
		Size: 56, Targets: []string{"127.0.0.2", "again.example"}}}}
	if err := s.Apply(t.Context(), cfg); err != nil {
		t.Fatalf("two names of one address: %v", err)
	}
	if n := s.Targets(); n != 1 {
		t.Errorf("%d targets probed, want 127.0.0.2 once", n)
	}
}
