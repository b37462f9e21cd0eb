// Package serve probes groups of targets without end and exports what it
// sees as Prometheus metrics, named as smokeping_prober's are, so that
// fleets of vantage points scale out on Prometheus; GET /probe sends one
// burst to one target, as blackbox-style probers do. HTTP, TLS and basic
// auth are exporter-toolkit's, as every exporter's are.
package serve

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pingcraft/pingcraft/ping"
)

// Config is a serve configuration file.
type Config struct {
	// Buckets of the response time histogram, in seconds.
	Buckets []float64
	Groups  []Group
	// Modules are how GET /probe probes, by name; "icmp" is there
	// whether the file names it or not.
	Modules map[string]Module
}

// Module is how one GET /probe probes its target: a burst of Count
// probes, Interval apart, the last one waited for Timeout.
type Module struct {
	Count     int
	Interval  time.Duration
	Timeout   time.Duration
	Mode      ping.Mode
	Size      int
	TOS       uint8
	Source    netip.Addr
	Interface string
}

// DefaultModule is the "icmp" module of a file that does not name one:
// three probes, enough to tell loss from a lost probe, in well under
// Prometheus' default 10s scrape timeout.
var DefaultModule = Module{Count: 3, Interval: 200 * time.Millisecond, Timeout: time.Second, Mode: ping.ModeAuto, Size: ping.DefaultSize}

// maxCount bounds a module's burst: /probe answers within one scrape.
const maxCount = 100

// Group is targets probed alike.
type Group struct {
	Name      string
	Interval  time.Duration
	Timeout   time.Duration
	Mode      ping.Mode
	Size      int
	TOS       uint8
	Source    netip.Addr
	Interface string
	Targets   []string
}

// DefaultBuckets span a LAN's tens of microseconds to a satellite link's
// second, roughly doubling.
var DefaultBuckets = []float64{0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2}

// Limits on a configuration.
const (
	maxTargets  = 1 << 16
	minInterval = 10 * time.Millisecond
)

// file is the YAML shape of a Config.
type file struct {
	Buckets []float64            `yaml:"buckets"`
	Groups  []yaml.Node          `yaml:"groups"`
	Modules map[string]yaml.Node `yaml:"modules"`
}

type moduleFile struct {
	Count     *int   `yaml:"count"`
	Interval  string `yaml:"interval"`
	Timeout   string `yaml:"timeout"`
	Mode      string `yaml:"mode"`
	Size      *int   `yaml:"size"`
	TOS       int    `yaml:"tos"`
	Source    string `yaml:"source"`
	Interface string `yaml:"interface"`
}

var moduleFields = map[string]bool{"count": true, "interval": true, "timeout": true, "mode": true, "size": true,
	"tos": true, "source": true, "interface": true}

const moduleFieldList = "count, interval, timeout, mode, size, tos, source, interface"

type groupFile struct {
	Name      string      `yaml:"name"`
	Interval  string      `yaml:"interval"`
	Timeout   string      `yaml:"timeout"`
	Mode      string      `yaml:"mode"`
	Size      *int        `yaml:"size"`
	TOS       int         `yaml:"tos"`
	Source    string      `yaml:"source"`
	Interface string      `yaml:"interface"`
	Targets   []yaml.Node `yaml:"targets"`
}

var groupFields = map[string]bool{"name": true, "interval": true, "timeout": true, "mode": true, "size": true,
	"tos": true, "source": true, "interface": true, "targets": true}

const groupFieldList = "name, interval, timeout, mode, size, tos, source, interface, targets"

// Load reads and checks the configuration at path. Errors name the file
// and line, and say what to write instead.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	return Parse(path, b)
}

// Parse checks a configuration read from name.
func Parse(name string, b []byte) (*Config, error) {
	at := func(line int, format string, a ...any) error {
		return fmt.Errorf("%s:%d: %s", name, line, fmt.Sprintf(format, a...))
	}
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty: give at least one group with targets", name)
		}
		return nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	c := &Config{Buckets: f.Buckets}
	if len(c.Buckets) == 0 {
		c.Buckets = DefaultBuckets
	}
	for i := 1; i < len(c.Buckets); i++ {
		if c.Buckets[i] <= c.Buckets[i-1] {
			return nil, fmt.Errorf("%s: buckets must ascend: %v after %v", name, c.Buckets[i], c.Buckets[i-1])
		}
	}
	if len(f.Groups) == 0 && len(f.Modules) == 0 {
		return nil, fmt.Errorf("%s: no groups: give at least one group with targets, or modules for /probe", name)
	}
	c.Modules = map[string]Module{"icmp": DefaultModule}
	// In order, so that of two bad modules the same one is named each time.
	for _, mname := range slices.Sorted(maps.Keys(f.Modules)) {
		node := f.Modules[mname]
		m, err := parseModule(mname, &node, at)
		if err != nil {
			return nil, err
		}
		c.Modules[mname] = m
	}
	names := map[string]bool{}
	seen := map[string]string{} // target -> group, across groups
	total := 0
	for _, node := range f.Groups {
		var gf groupFile
		// Node.Decode does not refuse unknown fields; a typo must not
		// silently fall back to a default.
		if node.Kind != yaml.MappingNode {
			return nil, at(node.Line, "a group is a mapping of %s: give name: and targets: at least", groupFieldList)
		}
		for i := 0; i+1 < len(node.Content); i += 2 {
			if k := node.Content[i]; !groupFields[k.Value] {
				return nil, at(k.Line, "unknown field %q in a group: use %s", k.Value, groupFieldList)
			}
		}
		if err := node.Decode(&gf); err != nil {
			return nil, at(node.Line, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
		}
		g := Group{Name: gf.Name, Interval: time.Second, Mode: ping.ModeAuto, Size: ping.DefaultSize, Interface: gf.Interface}
		switch {
		case g.Name == "":
			return nil, at(node.Line, "a group without a name: give it one (name: core)")
		case names[g.Name]:
			return nil, at(node.Line, "group %q named twice: names label the metrics, so they must differ", g.Name)
		}
		names[g.Name] = true
		if gf.Interval != "" {
			d, err := time.ParseDuration(gf.Interval)
			if err != nil || d < minInterval {
				return nil, at(node.Line, "group %q: interval %q: give a duration of %v or more, such as 1s", g.Name, gf.Interval, minInterval)
			}
			g.Interval = d
		}
		g.Timeout = g.Interval
		if gf.Timeout != "" {
			d, err := time.ParseDuration(gf.Timeout)
			if err != nil || d <= 0 {
				return nil, at(node.Line, "group %q: timeout %q: give a positive duration, such as 500ms", g.Name, gf.Timeout)
			}
			g.Timeout = d
		}
		if gf.Mode != "" {
			m, err := ping.ParseMode(gf.Mode)
			if err != nil {
				return nil, at(node.Line, "group %q: mode %q: use auto, ethernet, ip, raw or dgram", g.Name, gf.Mode)
			}
			g.Mode = m
		}
		if gf.Size != nil {
			if *gf.Size < 0 || *gf.Size > 65507 {
				return nil, at(node.Line, "group %q: size %d: give 0 to 65507 bytes", g.Name, *gf.Size)
			}
			g.Size = *gf.Size
		}
		if gf.TOS < 0 || gf.TOS > 255 {
			return nil, at(node.Line, "group %q: tos %d: give 0 to 255", g.Name, gf.TOS)
		}
		g.TOS = uint8(gf.TOS)
		if gf.Source != "" {
			a, err := netip.ParseAddr(gf.Source)
			if err != nil {
				return nil, at(node.Line, "group %q: source %q is not an IP address", g.Name, gf.Source)
			}
			g.Source = a
		}
		if len(gf.Targets) == 0 {
			return nil, at(node.Line, "group %q has no targets: list addresses or names under targets:", g.Name)
		}
		for _, tn := range gf.Targets {
			var t string
			if err := tn.Decode(&t); err != nil || strings.TrimSpace(t) == "" || strings.ContainsAny(t, " \t") {
				return nil, at(tn.Line, "group %q: target %q: give one address or host name", g.Name, tn.Value)
			}
			if other, dup := seen[t]; dup {
				return nil, at(tn.Line, "target %s is in group %q and in %q: list it once", t, other, g.Name)
			}
			seen[t] = g.Name
			g.Targets = append(g.Targets, t)
		}
		if total += len(g.Targets); total > maxTargets {
			return nil, at(node.Line, "more than %d targets in all: split them over several serve processes", maxTargets)
		}
		c.Groups = append(c.Groups, g)
	}
	return c, nil
}

// parseModule checks the module called name.
func parseModule(name string, node *yaml.Node, at func(int, string, ...any) error) (Module, error) {
	m := DefaultModule
	if node.Kind != yaml.MappingNode {
		return m, at(node.Line, "module %q: give its fields (%s), such as count: 3", name, moduleFieldList)
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		if k := node.Content[i]; !moduleFields[k.Value] {
			return m, at(k.Line, "unknown field %q in module %q: use %s", k.Value, name, moduleFieldList)
		}
	}
	var mf moduleFile
	if err := node.Decode(&mf); err != nil {
		return m, at(node.Line, "module %q: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if name == "" || strings.ContainsAny(name, " \t&=?#") {
		return m, at(node.Line, "module %q: name it with letters, digits, - or _", name)
	}
	if mf.Count != nil {
		if *mf.Count < 1 || *mf.Count > maxCount {
			return m, at(node.Line, "module %q: count %d: give 1 to %d probes", name, *mf.Count, maxCount)
		}
		m.Count = *mf.Count
	}
	if mf.Interval != "" {
		d, err := time.ParseDuration(mf.Interval)
		if err != nil || d < minInterval {
			return m, at(node.Line, "module %q: interval %q: give a duration of %v or more, such as 200ms", name, mf.Interval, minInterval)
		}
		m.Interval = d
	}
	if mf.Timeout != "" {
		d, err := time.ParseDuration(mf.Timeout)
		if err != nil || d <= 0 {
			return m, at(node.Line, "module %q: timeout %q: give a positive duration, such as 1s", name, mf.Timeout)
		}
		m.Timeout = d
	}
	if mf.Mode != "" {
		mode, err := ping.ParseMode(mf.Mode)
		if err != nil {
			return m, at(node.Line, "module %q: mode %q: use auto, ethernet, ip, raw or dgram", name, mf.Mode)
		}
		m.Mode = mode
	}
	if mf.Size != nil {
		if *mf.Size < 0 || *mf.Size > 65507 {
			return m, at(node.Line, "module %q: size %d: give 0 to 65507 bytes", name, *mf.Size)
		}
		m.Size = *mf.Size
	}
	if mf.TOS < 0 || mf.TOS > 255 {
		return m, at(node.Line, "module %q: tos %d: give 0 to 255", name, mf.TOS)
	}
	m.TOS = uint8(mf.TOS)
	if mf.Source != "" {
		a, err := netip.ParseAddr(mf.Source)
		if err != nil {
			return m, at(node.Line, "module %q: source %q is not an IP address", name, mf.Source)
		}
		m.Source = a
	}
	m.Interface = mf.Interface
	return m, nil
}

// Duration is the longest a burst of m takes: its probes, then the last
// one's timeout.
func (m *Module) Duration() time.Duration {
	return time.Duration(m.Count-1)*m.Interval + m.Timeout
}
