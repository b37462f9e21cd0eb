package serve

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/pingcraft/pingcraft/craft"
	"github.com/pingcraft/pingcraft/ping"
)

// TestDeploySample: the sample configuration in deploy/ loads.
func TestDeploySample(t *testing.T) {
	c, err := Load("deploy/pingcraft.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Groups) != 4 || c.Modules["burst"].Count != 20 {
		t.Errorf("%d groups, module burst %+v: want the sample's 4 groups and a burst of 20", len(c.Groups), c.Modules["burst"])
	}
}

// TestDeployWebConfig: the sample web configuration is one exporter-toolkit
// accepts, given the certificate and key it names.
func TestDeployWebConfig(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("deploy/web-config.yml")
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pingcraft"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"pingcraft"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"web-config.yml": b,
		"pingcraft.crt":  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"pingcraft.key":  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := web.Validate(filepath.Join(dir, "web-config.yml")); err != nil {
		t.Error(err)
	}
}

// exported returns the name of every series serve can export.
func exported(t *testing.T) []string {
	s := New()
	tg := testTarget(lv, DefaultBuckets)
	for _, ev := range []ping.Event{{Kind: ping.EventSent}, {Kind: ping.EventReply, HasTTL: true},
		{Kind: ping.EventICMPError, Error: craft.ICMPError{Kind: craft.ErrUnreachable}}} {
		tg.record(&ev)
	}
	gone := &unprobed{probed: probedLabels("lab", "gone.example")}
	s.targets.p.Store(&targetSet{probed: []*target{tg}, unprobed: []*unprobed{gone}})
	var b bytes.Buffer
	if err := s.WriteMetrics(&b); err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	byName, err := p.TextToMetricFamilies(&b)
	if err != nil {
		t.Fatal(err)
	}
	var mfs []*dto.MetricFamily
	for _, mf := range byName {
		mfs = append(mfs, mf)
	}
	probed, err := burstRegistry(&burst{requests: 1, responses: 1, hasTTL: true}, time.Second).Gather()
	if err != nil {
		t.Fatal(err)
	}
	mfs = append(mfs, probed...)
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
		if mf.GetType().String() == "HISTOGRAM" {
			names = append(names, mf.GetName()+"_bucket", mf.GetName()+"_sum", mf.GetName()+"_count")
		}
	}
	// Ring drops exist only with sockets open.
	drops := regexp.MustCompile(`fqName: "([^"]+)"`).FindStringSubmatch(dropsDesc.String())
	return append(names, drops[1])
}

// TestDeployNames: the dashboard, the alerting rules, the sample
// Prometheus configuration and the README speak
// only of series serve exports, and the rules of each they are for.
func TestDeployNames(t *testing.T) {
	names := exported(t)
	used := regexp.MustCompile(`pingcraft_[a-z_]+`)
	for _, f := range []string{"deploy/dashboard.json", "deploy/alerts.yml", "deploy/alerts_test.yml", "deploy/prometheus.yml", "../README.md"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range used.FindAllString(string(b), -1) {
			if !slices.Contains(names, strings.TrimSuffix(n, "_")) {
				t.Errorf("%s: %s is not a series serve exports", f, n)
			}
		}
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	b, err := os.ReadFile("deploy/dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("dashboard.json: %v", err)
	}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 || p.Targets[0].Expr == "" {
			t.Errorf("dashboard panel %q has no query", p.Title)
		}
	}
	rules, err := os.ReadFile("deploy/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"pingcraft_requests_total", "pingcraft_response_duration_seconds_bucket",
		"pingcraft_config_last_reload_successful", "pingcraft_ring_drops_total", "pingcraft_target_probed"} {
		if !strings.Contains(string(rules), n) {
			t.Errorf("alerts.yml: no rule over %s", n)
		}
	}
}
