package serve

import (
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pingcraft/pingcraft/ping"
)

func TestParse(t *testing.T) {
	good := `
buckets: [0.001, 0.01, 0.1]
groups:
  - name: lab
    interval: 500ms
    targets: [198.18.1.2, 198.18.9.1]
  - name: core
    mode: raw
    size: 100
    tos: 16
    timeout: 2s
    source: 198.18.0.2
    interface: h0
    targets:
      - fd00:198:18:1::2
modules:
  quick:
    count: 5
    interval: 50ms
    timeout: 500ms
    mode: dgram
    size: 1000
    tos: 8
    source: 198.18.0.2
    interface: h0
`
	want := &Config{Buckets: []float64{0.001, 0.01, 0.1}, Groups: []Group{
		{Name: "lab", Interval: 500 * time.Millisecond, Timeout: 500 * time.Millisecond, Mode: ping.ModeAuto, Size: 56,
			Targets: []string{"198.18.1.2", "198.18.9.1"}},
		{Name: "core", Interval: time.Second, Timeout: 2 * time.Second, Mode: ping.ModeRaw, Size: 100, TOS: 16,
			Source: netip.MustParseAddr("198.18.0.2"), Interface: "h0", Targets: []string{"fd00:198:18:1::2"}},
	}, Modules: map[string]Module{
		"icmp": DefaultModule,
		"quick": {Count: 5, Interval: 50 * time.Millisecond, Timeout: 500 * time.Millisecond, Mode: ping.ModeDgram, Size: 1000, TOS: 8,
			Source: netip.MustParseAddr("198.18.0.2"), Interface: "h0"},
	}}
	got, err := Parse("pingcraft.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"empty", "", "pingcraft.yaml: empty"},
		{"no groups", "buckets: [1]\n", "no groups: give at least one group with targets, or modules for /probe"},
		{"unknown field", "groups:\n  - name: a\n    intervall: 1s\n    targets: [198.18.1.2]\n", `pingcraft.yaml:3: unknown field "intervall" in a group`},
		{"bad interval", "groups:\n  - name: a\n    interval: 1x\n    targets: [198.18.1.2]\n", `pingcraft.yaml:2: group "a": interval "1x"`},
		{"tiny interval", "groups:\n  - name: a\n    interval: 1ms\n    targets: [198.18.1.2]\n", "10ms or more"},
		{"no name", "groups:\n  - targets: [198.18.1.2]\n", "pingcraft.yaml:2: a group without a name"},
		{"twice", "groups:\n  - name: a\n    targets: [198.18.1.2]\n  - name: a\n    targets: [198.18.1.3]\n", `pingcraft.yaml:4: group "a" named twice`},
		{"no targets", "groups:\n  - name: a\n", `group "a" has no targets`},
		{"bad target", "groups:\n  - name: a\n    targets:\n      - 198.18.1.2\n      - two words\n", `pingcraft.yaml:5: group "a": target "two words"`},
		{"dup target", "groups:\n  - name: a\n    targets: [198.18.1.2]\n  - name: b\n    targets: [198.18.1.2]\n", `pingcraft.yaml:5: target 198.18.1.2 is in group "a" and in "b"`},
		{"bad mode", "groups:\n  - name: a\n    mode: fast\n    targets: [198.18.1.2]\n", `mode "fast"`},
		{"bad source", "groups:\n  - name: a\n    source: here\n    targets: [198.18.1.2]\n", `source "here"`},
		{"bad size", "groups:\n  - name: a\n    size: -1\n    targets: [198.18.1.2]\n", "size -1"},
		{"buckets", "buckets: [1, 0.5]\ngroups:\n  - name: a\n    targets: [198.18.1.2]\n", "buckets must ascend"},
		{"not yaml", "groups: [\n", "pingcraft.yaml: "},
		{"module field", "modules:\n  m:\n    cont: 3\n", `pingcraft.yaml:3: unknown field "cont" in module "m"`},
		{"module count", "modules:\n  m:\n    count: 0\n", `pingcraft.yaml:3: module "m": count 0: give 1 to 100`},
		{"module interval", "modules:\n  m:\n    interval: 1ms\n", `module "m": interval "1ms"`},
		{"module timeout", "modules:\n  m:\n    timeout: never\n", `module "m": timeout "never"`},
		{"module mode", "modules:\n  m:\n    mode: fast\n", `module "m": mode "fast"`},
		{"module name", "modules:\n  a b:\n    count: 1\n", `module "a b": name it`},
		{"module not a map", "modules:\n  m: 3\n", `pingcraft.yaml:2: module "m": give its fields`},
		{"group not a map", "groups: [3]\n", `pingcraft.yaml:1: a group is a mapping`},
		{"burst count", "groups:\n  - name: a\n    burst: {count: 0, gap: 100ms}\n    targets: [198.18.1.2]\n", `group "a": burst count 0`},
		{"burst gap", "groups:\n  - name: a\n    burst: {count: 3, gap: soon}\n    targets: [198.18.1.2]\n", `group "a": burst gap "soon"`},
		{"burst too long", "groups:\n  - name: a\n    interval: 1s\n    burst: {count: 11, gap: 100ms}\n    targets: [198.18.1.2]\n", "does not fit in the interval 1s"},
		{"group label", "groups:\n  - name: a\n    labels: {__x: y}\n    targets: [198.18.1.2]\n", `label "__x"`},
		{"no targets nor files", "groups:\n  - name: a\n    labels: {x: y}\n", "or file_sd files under files:"},
		{"bucket nan", "buckets: [0.1, .nan]\ngroups:\n  - name: a\n    targets: [198.18.1.2]\n", "buckets: .nan bounds no bucket"},
		// Type errors say what was found and what belongs, in the file's
		// terms, never Go's (int, []yaml.Node, map[string]string).
		{"bucket a word", "buckets: [fast]\n", "pingcraft.yaml: line 1: a string (fast) where a number belongs"},
		{"buckets not a list", "buckets: 3\n", "line 1: a number (3) where a list of numbers belongs"},
		{"groups not a list", "groups: {a: b}\n", "line 1: a mapping where a list belongs"},
		{"tos a word", "groups:\n  - name: a\n    tos: high\n    targets: [198.18.1.2]\n", "pingcraft.yaml:2: line 3: a string (high) where a whole number belongs"},
		{"labels a list", "groups:\n  - name: a\n    labels: [x]\n    targets: [198.18.1.2]\n", "line 3: a list where a mapping belongs"},
		{"module count a word", "modules:\n  m:\n    count: many\n", `module "m": line 3: a string (many) where a whole number belongs`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("pingcraft.yaml", []byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Parse: %v, want one line containing %q", err, tc.want)
			}
			if err != nil && regexp.MustCompile(`unmarshal|into |yaml\.Node|map\[|\[\]|float64|\bint\b`).MatchString(err.Error()) {
				t.Errorf("Parse: %v: Go's words", err)
			}
		})
	}
}

// TestParseModulesOnly: a file for /probe alone needs no groups.
func TestParseModulesOnly(t *testing.T) {
	c, err := Parse("pingcraft.yaml", []byte("modules:\n  icmp:\n    count: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Groups) != 0 || c.Modules["icmp"].Count != 1 || c.Modules["icmp"].Timeout != DefaultModule.Timeout {
		t.Errorf("parsed %+v, want no groups and icmp counting 1, the rest defaults", c)
	}
}

// TestReadmeSample: the sample configuration in the README parses.
func TestReadmeSample(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "## pingcraft serve")
	if !ok {
		t.Fatal("no serve section in the README")
	}
	_, rest, ok = strings.Cut(rest, "```yaml\n")
	sample, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("no yaml block in the serve section")
	}
	c, err := Parse("README.md", []byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Groups) != 3 || len(c.Groups[0].Targets) != 2 || c.Groups[2].Burst.Count != 5 {
		t.Errorf("parsed %+v", c)
	}
}

// TestLoadFiles: a group's file_sd files, JSON and YAML, give it targets
// with labels of their own; a target already in the group is left out,
// and so are Prometheus' __ labels.
func TestLoadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("pingcraft.yaml", "groups:\n  - name: mesh\n    labels: {dc: ams}\n    targets: [198.18.1.2]\n    files: [sd/*.json, extra.yml]\n")
	write("sd/a.json", `[{"targets": ["198.18.1.3", "198.18.1.2"], "labels": {"rack": "r1", "__meta_x": "y"}}]`)
	write("sd/b.json", `[{"targets": ["198.18.1.4"], "labels": {"dc": "fra"}}]`)
	write("extra.yml", "- targets: [svc.example]\n")
	c, err := Load(filepath.Join(dir, "pingcraft.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := []TargetSet{
		{Source: filepath.Join(dir, "sd/a.json") + "[0]", Targets: []string{"198.18.1.3"}, Labels: map[string]string{"rack": "r1"}},
		{Source: filepath.Join(dir, "sd/b.json") + "[0]", Targets: []string{"198.18.1.4"}, Labels: map[string]string{"dc": "fra"}},
		{Source: filepath.Join(dir, "extra.yml") + "[0]", Targets: []string{"svc.example"}},
	}
	if diff := cmp.Diff(want, c.Groups[0].FileSets); diff != "" {
		t.Errorf("file sets (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]labelPair{{"dc", "fra"}}, mergeLabels(c.Groups[0].Labels, want[1].Labels), cmp.AllowUnexported(labelPair{})); diff != "" {
		t.Errorf("a file's label beside the group's (-want +got):\n%s", diff)
	}

	for _, tc := range []struct{ name, file, text, want string }{
		{"not a list", "sd/a.json", `{"targets": []}`, "sd/a.json: "},
		{"bad label", "sd/a.json", `[{"targets": ["198.18.1.3"], "labels": {"9x": "y"}}]`, `entry 0: label "9x"`},
		{"reserved label", "sd/a.json", `[{"targets": ["198.18.1.3"], "labels": {"host": "y"}}]`, `label "host": serve sets`},
		{"bad target", "extra.yml", "- targets: [two words]\n", `target "two words"`},
		{"unknown field", "extra.yml", "- targets: [a]\n  lables: {}\n", "extra.yml: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			write("sd/a.json", `[]`)
			write("extra.yml", "")
			write(tc.file, tc.text)
			_, err := Load(filepath.Join(dir, "pingcraft.yaml"))
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Load: %v, want one line containing %q", err, tc.want)
			}
		})
	}
	if _, err := Parse("pingcraft.yaml", []byte("groups:\n  - name: a\n    labels: {group: x}\n    targets: [198.18.1.2]\n")); err == nil ||
		!strings.Contains(err.Error(), `pingcraft.yaml:2: group "a": label "group"`) {
		t.Errorf("a group label named group: %v", err)
	}
}
