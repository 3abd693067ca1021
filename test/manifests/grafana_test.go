package manifests

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// metrics.grafanaDashboard.enabled ships config/grafana/labelgroup-operator.json
// as a ConfigMap the Grafana sidecar imports (label grafana_dashboard: "1"),
// and nothing of it by default or without a metrics endpoint.
func TestChartGrafanaDashboard(t *testing.T) {
	dashboards := func(objects []object) []object {
		var found []object
		for _, o := range only(objects, "ConfigMap") {
			if _, ok := o.u.GetLabels()["grafana_dashboard"]; ok {
				found = append(found, o)
			}
		}
		return found
	}
	if got := dashboards(helmTemplate(t)); len(got) != 0 {
		t.Errorf("the default render makes a dashboard ConfigMap: %s", got[0].id())
	}
	if got := dashboards(helmTemplate(t, "metrics.enabled=false", "metrics.grafanaDashboard.enabled=true")); len(got) != 0 {
		t.Errorf("without a metrics endpoint the chart still makes %s", got[0].id())
	}

	cm := one[*corev1.ConfigMap](t, dashboards(helmTemplate(t, "metrics.grafanaDashboard.enabled=true",
		"metrics.grafanaDashboard.annotations.grafana_folder=Kubernetes")), "ConfigMap")
	if cm.Labels["grafana_dashboard"] != "1" {
		t.Errorf("label grafana_dashboard = %q, want \"1\" (what the sidecar looks for)", cm.Labels["grafana_dashboard"])
	}
	if cm.Annotations["grafana_folder"] != "Kubernetes" {
		t.Errorf("annotations = %v, want grafana_folder from metrics.grafanaDashboard.annotations", cm.Annotations)
	}
	want, err := os.ReadFile(repoPath("config", "grafana", "labelgroup-operator.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := cm.Data["labelgroup-operator.json"]
	if !json.Valid([]byte(got)) {
		t.Fatal("the ConfigMap's labelgroup-operator.json is not JSON")
	}
	if !bytes.Equal(bytes.TrimSuffix(want, []byte("\n")), []byte(got)) {
		t.Error("the ConfigMap's labelgroup-operator.json is not config/grafana/labelgroup-operator.json (run make manifests)")
	}
}
