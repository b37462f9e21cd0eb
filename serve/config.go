// Package serve probes groups of targets without end and exports what it
// sees as Prometheus metrics, named as smokeping_prober's are, so that
// fleets of vantage points scale out on Prometheus; GET /probe sends one
// burst to one target, as blackbox-style probers do. HTTP, TLS and basic
// auth are exporter-toolkit's, as every exporter's are.
package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
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
	// Burst, when its Count is above 1, sends each target Count probes
	// Gap apart at every Interval, instead of one.
	Burst Burst
	// AllAddresses probes every address a name resolves to, A and AAAA
	// (addresses: all), each its own target with the name as host; without
	// it, the first, as ping does.
	AllAddresses bool
	// Refresh, when set, looks the group's names up again this often and
	// restarts the targets of those whose addresses changed.
	Refresh time.Duration
	// RefreshTTL (refresh: ttl) looks each name up again when its DNS
	// records expire instead, bounded by MinTTLRefresh and MaxTTLRefresh;
	// a name without a TTL (in /etc/hosts, or no DNS answer) every
	// NoTTLRefresh.
	RefreshTTL bool
	Targets    []string
	// Labels go on every series of the group's targets.
	Labels map[string]string
	// Files are globs of Prometheus file_sd files (YAML or JSON), relative
	// to the configuration's directory: more targets, with labels of
	// their own. Load reads them into FileSets; serve watches them.
	Files    []string
	FileSets []TargetSet
}

// Burst is a burst schedule: Count probes, Gap apart.
type Burst struct {
	Count int
	Gap   time.Duration
}

// TargetSet is one entry of a file_sd file: targets and their labels.
type TargetSet struct {
	// Source is where it was read: the file and the entry's index.
	Source  string
	Targets []string
	Labels  map[string]string
}

// sets are the group's targets by where they come from: its own list,
// then each file's entries.
func (g *Group) sets() []TargetSet {
	var out []TargetSet
	if len(g.Targets) > 0 {
		out = append(out, TargetSet{Targets: g.Targets})
	}
	return append(out, g.FileSets...)
}

// mergeLabels are a target's extra labels, sorted: its group's, then its
// file's, which win.
func mergeLabels(group, file map[string]string) []labelPair {
	m := maps.Clone(group)
	if m == nil {
		m = map[string]string{}
	}
	maps.Copy(m, file)
	var out []labelPair
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, labelPair{k, m[k]})
	}
	return out
}

// reservedLabels are the labels serve sets itself.
var reservedLabels = map[string]bool{"ip": true, "host": true, "source": true, "group": true, "le": true, "type": true}

// checkLabel says what is wrong with a label name, or "".
func checkLabel(name string) string {
	ok := name != ""
	for i, c := range name {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			ok = false
		}
	}
	switch {
	case !ok:
		return fmt.Sprintf("label %q: name it with letters, digits and _, not starting with a digit", name)
	case reservedLabels[name]:
		return fmt.Sprintf("label %q: serve sets ip, host, source, group, le and type itself: rename it", name)
	}
	return ""
}

// DefaultBuckets span a LAN's tens of microseconds to a satellite link's
// second, roughly doubling.
var DefaultBuckets = []float64{0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2}

// Limits on a configuration. A group of more than 65,536 targets is
// probed by several engines (see shardTargets).
const (
	maxTargets  = 1 << 20
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
	Name      string            `yaml:"name"`
	Interval  string            `yaml:"interval"`
	Timeout   string            `yaml:"timeout"`
	Mode      string            `yaml:"mode"`
	Size      *int              `yaml:"size"`
	TOS       int               `yaml:"tos"`
	Source    string            `yaml:"source"`
	Interface string            `yaml:"interface"`
	Targets   []yaml.Node       `yaml:"targets"`
	Labels    map[string]string `yaml:"labels"`
	Files     []string          `yaml:"files"`
	Addresses string            `yaml:"addresses"`
	Refresh   string            `yaml:"refresh"`
	Burst     *struct {
		Count int    `yaml:"count"`
		Gap   string `yaml:"gap"`
	} `yaml:"burst"`
}

var groupFields = map[string]bool{"name": true, "interval": true, "timeout": true, "mode": true, "size": true,
	"tos": true, "source": true, "interface": true, "targets": true, "labels": true, "files": true, "burst": true, "addresses": true, "refresh": true}

const groupFieldList = "name, interval, timeout, mode, size, tos, source, interface, targets, labels, files, burst, addresses, refresh"

// Load reads and checks the configuration at path and the file_sd files
// its groups name. Errors name the file and line, and say what to write
// instead.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	c, err := Parse(path, b)
	if err != nil {
		return nil, err
	}
	if err := c.readFiles(filepath.Dir(path)); err != nil {
		return nil, err
	}
	return c, nil
}

// Watched are the globs of every group's files, as Load reads them from
// a configuration in dir.
func (c *Config) Watched(dir string) []string {
	var out []string
	for _, g := range c.Groups {
		for _, f := range g.Files {
			if !filepath.IsAbs(f) {
				f = filepath.Join(dir, f)
			}
			out = append(out, f)
		}
	}
	return out
}

// sdEntry is one entry of a file_sd file, as Prometheus reads it.
type sdEntry struct {
	Targets []string          `yaml:"targets" json:"targets"`
	Labels  map[string]string `yaml:"labels" json:"labels"`
}

// readFiles fills each group's FileSets from its files, in the globs'
// order and each glob's sorted. A target already in the group (its list or
// an earlier file) is left out: the first one counts. Labels starting with
// __ are Prometheus' meta labels, for relabelling, which serve does not do:
// they are left out.
func (c *Config) readFiles(dir string) error {
	seen := map[string]bool{}
	for _, g := range c.Groups {
		for _, t := range g.Targets {
			seen[g.Name+"\x00"+t] = true
		}
	}
	for gi := range c.Groups {
		g := &c.Groups[gi]
		g.FileSets = nil
		for _, pattern := range g.Files {
			if !filepath.IsAbs(pattern) {
				pattern = filepath.Join(dir, pattern)
			}
			names, err := filepath.Glob(pattern)
			if err != nil {
				return fmt.Errorf("group %q: files %q: %v", g.Name, pattern, err)
			}
			for _, name := range names {
				sets, err := readSD(name)
				if err != nil {
					return fmt.Errorf("group %q: %w", g.Name, err)
				}
				for _, ts := range sets {
					var keep []string
					for _, t := range ts.Targets {
						if !seen[g.Name+"\x00"+t] {
							seen[g.Name+"\x00"+t] = true
							keep = append(keep, t)
						}
					}
					if len(keep) > 0 {
						ts.Targets = keep
						g.FileSets = append(g.FileSets, ts)
					}
				}
			}
		}
	}
	total := 0
	for _, g := range c.Groups {
		for _, ts := range g.sets() {
			total += len(ts.Targets)
		}
	}
	if total > maxTargets {
		return fmt.Errorf("more than %d targets in all, files included: split them over several serve processes", maxTargets)
	}
	return nil
}

// readSD reads one file_sd file: JSON if it ends in .json, else YAML.
func readSD(name string) ([]TargetSet, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var entries []sdEntry
	if strings.HasSuffix(name, ".json") {
		err = json.Unmarshal(b, &entries)
	} else {
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err = dec.Decode(&entries); errors.Is(err, io.EOF) {
			err = nil // an empty file is no targets, as in Prometheus
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %s: give a list of {targets: [...], labels: {...}}", name, oneLine(yamlText(err)))
	}
	var out []TargetSet
	for i, e := range entries {
		ts := TargetSet{Source: fmt.Sprintf("%s[%d]", name, i)}
		for _, t := range e.Targets {
			if strings.TrimSpace(t) == "" || strings.ContainsAny(t, " \t") {
				return nil, fmt.Errorf("%s: entry %d: target %q: give one address or host name", name, i, t)
			}
			ts.Targets = append(ts.Targets, t)
		}
		for k, v := range e.Labels {
			if strings.HasPrefix(k, "__") {
				continue
			}
			if msg := checkLabel(k); msg != "" {
				return nil, fmt.Errorf("%s: entry %d: %s", name, i, msg)
			}
			if ts.Labels == nil {
				ts.Labels = map[string]string{}
			}
			ts.Labels[k] = v
		}
		out = append(out, ts)
	}
	return out, nil
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
		return nil, fmt.Errorf("%s: %s", name, yamlText(err))
	}
	c := &Config{Buckets: f.Buckets}
	if len(c.Buckets) == 0 {
		c.Buckets = DefaultBuckets
	}
	for _, b := range c.Buckets {
		if math.IsNaN(b) {
			return nil, fmt.Errorf("%s: buckets: .nan bounds no bucket: give ascending numbers of seconds", name)
		}
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
			return nil, at(node.Line, "%s", yamlText(err))
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
		if len(gf.Targets) == 0 && len(gf.Files) == 0 {
			return nil, at(node.Line, "group %q has no targets: list addresses or names under targets:, or file_sd files under files:", g.Name)
		}
		for k, v := range gf.Labels {
			if msg := checkLabel(k); msg != "" || strings.HasPrefix(k, "__") {
				if msg == "" {
					msg = fmt.Sprintf("label %q: names starting with __ are Prometheus' own", k)
				}
				return nil, at(node.Line, "group %q: %s", g.Name, msg)
			}
			if g.Labels == nil {
				g.Labels = map[string]string{}
			}
			g.Labels[k] = v
		}
		g.Files = gf.Files
		switch gf.Addresses {
		case "", "first":
		case "all":
			g.AllAddresses = true
		default:
			return nil, at(node.Line, "group %q: addresses %q: use first (the default) or all", g.Name, gf.Addresses)
		}
		if gf.Refresh == "ttl" {
			g.RefreshTTL = true
		} else if gf.Refresh != "" {
			d, err := time.ParseDuration(gf.Refresh)
			if err != nil || d < time.Second {
				return nil, at(node.Line, "group %q: refresh %q: give ttl (each name's DNS TTL) or a duration of 1s or more, such as 5m", g.Name, gf.Refresh)
			}
			g.Refresh = d
		}
		if b := gf.Burst; b != nil {
			gap, err := time.ParseDuration(b.Gap)
			switch {
			case b.Count < 1 || b.Count > maxCount:
				return nil, at(node.Line, "group %q: burst count %d: give 1 to %d probes", g.Name, b.Count, maxCount)
			case err != nil || gap < minInterval:
				return nil, at(node.Line, "group %q: burst gap %q: give a duration of %v or more, such as 100ms", g.Name, b.Gap, minInterval)
			case time.Duration(b.Count-1)*gap >= g.Interval:
				return nil, at(node.Line, "group %q: a burst of %d probes %v apart does not fit in the interval %v: lengthen the interval or shorten the burst",
					g.Name, b.Count, gap, g.Interval)
			}
			g.Burst = Burst{Count: b.Count, Gap: gap}
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

// yamlTypeError is one line of a yaml.TypeError: "line 3: cannot
// unmarshal !!str `abc` into int".
var yamlTypeError = regexp.MustCompile("^line (\\d+): cannot unmarshal !!(\\w+)(?: `(.*)`)? into (.+)$")

// yamlText is a YAML decoding error in the configuration's terms: a type
// error says what was found and what belongs there, not which Go type it
// failed to fill.
func yamlText(err error) string {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return strings.TrimPrefix(err.Error(), "yaml: ")
	}
	lines := make([]string, len(te.Errors))
	for i, e := range te.Errors {
		m := yamlTypeError.FindStringSubmatch(e)
		if m == nil {
			lines[i] = e
			continue
		}
		found := map[string]string{"str": "a string", "int": "a number", "float": "a number", "bool": "true or false",
			"seq": "a list", "map": "a mapping", "null": "nothing", "binary": "binary data", "timestamp": "a time"}[m[2]]
		if found == "" {
			found = "!!" + m[2]
		}
		if m[3] != "" {
			found += " (" + m[3] + ")"
		}
		lines[i] = fmt.Sprintf("line %s: %s where %s belongs", m[1], found, goTypeWords(m[4]))
	}
	return strings.Join(lines, "; ")
}

// goTypeWords names what a Go type holds, as a configuration's reader
// would say it.
func goTypeWords(t string) string {
	switch {
	case strings.HasPrefix(t, "[]"):
		if w := goTypeWords(t[2:]); w != "a value" {
			return "a list of " + strings.TrimPrefix(strings.TrimPrefix(w, "a "), "an ") + "s"
		}
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "a mapping"
	case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint"):
		return "a whole number"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case t == "string":
		return "a string"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "struct") || strings.HasPrefix(t, "serve."):
		return "a mapping"
	}
	return "a value"
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
		return m, at(node.Line, "module %q: %s", name, yamlText(err))
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
