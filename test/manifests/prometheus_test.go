package manifests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// Every object of every render decodes strictly into its Go type: for the
// ServiceMonitor and PrometheusRule, the Prometheus Operator's own.
func TestRendersDecodeStrictly(t *testing.T) {
	renders := map[string][]object{
		"config/default":    kustomize(t, "config/default"),
		"config/prometheus": kustomize(t, "config/prometheus"),
		"config/ha":         kustomize(t, "config/ha"),
		"chart, everything on": helmTemplate(t, "ha.enabled=true", "metrics.serviceMonitor.enabled=true",
			"metrics.prometheusRule.enabled=true"),
	}
	for name, objects := range renders {
		for _, o := range objects {
			if _, err := decodeStrict(o); err != nil {
				t.Errorf("%s: %s: %v", name, o.id(), err)
			}
		}
	}
}

// The strict decoding catches a misspelt field that a lenient one drops.
func TestStrictDecodingRefusesAMisspeltField(t *testing.T) {
	monitor := only(kustomize(t, "config/prometheus"), "ServiceMonitor")[0]
	misspelt := object{raw: []byte(strings.Replace(string(monitor.raw), "honorLabels:", "honourLabels:", 1)), u: monitor.u}
	if _, err := decodeStrict(misspelt); err == nil || !strings.Contains(err.Error(), `unknown field "honourLabels"`) {
		t.Fatalf("decoding a ServiceMonitor with honourLabels: %v; want an unknown field error naming it", err)
	}
}

func TestServiceMonitorKeepsTheGroupsNamespaceWithoutDeprecatedFields(t *testing.T) {
	renders := map[string][]object{
		"config/prometheus": kustomize(t, "config/prometheus"),
		"chart":             helmTemplate(t, "metrics.serviceMonitor.enabled=true"),
	}
	for name, objects := range renders {
		monitor := one[*monitoringv1.ServiceMonitor](t, objects, "ServiceMonitor")
		if len(monitor.Spec.Endpoints) == 0 {
			t.Fatalf("%s: the ServiceMonitor has no endpoint", name)
		}
		for i, e := range monitor.Spec.Endpoints {
			if !e.HonorLabels {
				t.Errorf("%s: endpoint %d: honorLabels is false; the alert would name the operator's namespace", name, i)
			}
			//nolint:staticcheck // reading the deprecated fields is the point
			if e.BearerTokenFile != "" || e.BearerTokenSecret != nil {
				t.Errorf("%s: endpoint %d uses a deprecated bearer token field; use authorization", name, i)
			}
			if e.Authorization == nil || e.Authorization.Credentials == nil {
				t.Fatalf("%s: endpoint %d has no authorization credentials", name, i)
			}
			// The credentials are the token of a ServiceAccount of the same render.
			secret := findNamed(t, objects, "Secret", e.Authorization.Credentials.Name)
			account := secret.u.GetAnnotations()["kubernetes.io/service-account.name"]
			findNamed(t, objects, "ServiceAccount", account)
		}
	}
}

func findNamed(t *testing.T, objects []object, kind, name string) object {
	t.Helper()
	for _, o := range only(objects, kind) {
		if o.u.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s named %q in the render", kind, name)
	return object{}
}

// promtool checks and tests the rules as they ship: extracted from the
// PrometheusRule kustomize renders (and the chart's, which must be the
// same), never from a copy.
func TestAlertRulesWithPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool is not on PATH: run `make promtool` (hack/install-promtool.sh installs Debian's prometheus package)")
	}
	rule := one[*monitoringv1.PrometheusRule](t, kustomize(t, "config/prometheus"), "PrometheusRule")
	chartRule := one[*monitoringv1.PrometheusRule](t, helmTemplate(t, "metrics.prometheusRule.enabled=true"), "PrometheusRule")
	rules, err := yaml.Marshal(map[string]any{"groups": rule.Spec.Groups})
	if err != nil {
		t.Fatal(err)
	}
	chartRules, err := yaml.Marshal(map[string]any{"groups": chartRule.Spec.Groups})
	if err != nil {
		t.Fatal(err)
	}
	if string(rules) != string(chartRules) {
		t.Errorf("the chart's rules differ from config/prometheus's:\n%s\nchart:\n%s", rules, chartRules)
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), rules, 0o644); err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile("testdata/labelgroup_alerts_test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	testFile := filepath.Join(dir, "labelgroup_alerts_test.yaml")
	if err := os.WriteFile(testFile, tests, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Log(run(t, false, promtool, "check", "rules", filepath.Join(dir, "rules.yaml")))
	t.Log(run(t, false, promtool, "test", "rules", testFile))

	// The same tests fail the rule as it was first shipped, which kept the
	// target's pod and instance labels and restarted its `for` on the new
	// leader's series.
	shipped := rule.DeepCopy()
	rule.Spec.Groups[0].Rules[0].Expr = intstr.FromString("labelgroup_overlapping == 1")
	firstShipped, err := yaml.Marshal(map[string]any{"groups": rule.Spec.Groups})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), firstShipped, 0o644); err != nil {
		t.Fatal(err)
	}
	out := run(t, true, promtool, "test", "rules", testFile)
	if !strings.Contains(out, "name: a leader change neither delays nor resets it") {
		t.Errorf("promtool test rules on labelgroup_overlapping == 1 did not fail the leader change case:\n%s", out)
	}

	// And the write-errors alert without its sum over the manager's pods,
	// or with a threshold one transient failure reaches.
	for expr, failingCase := range map[string]string{
		"increase(labelgroup_status_write_errors_total[1h]) >= 3":                             "name: a leader change keeps failing writes firing",
		"sum by (namespace, reason) (increase(labelgroup_status_write_errors_total[1h])) > 0": "name: one transient failed write does not fire",
	} {
		mutated := shipped.DeepCopy()
		mutated.Spec.Groups[0].Rules[1].Expr = intstr.FromString(expr)
		data, err := yaml.Marshal(map[string]any{"groups": mutated.Spec.Groups})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if out := run(t, true, promtool, "test", "rules", testFile); !strings.Contains(out, failingCase) {
			t.Errorf("promtool test rules on %q did not fail %q:\n%s", expr, failingCase, out)
		}
	}
}
