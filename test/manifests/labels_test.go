package manifests

import (
	"os"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// recommendedLabels are Kubernetes' recommended labels, which every shipped
// object carries: https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/
var recommendedLabels = []string{
	"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
	"app.kubernetes.io/component", "app.kubernetes.io/part-of", "app.kubernetes.io/managed-by",
}

func TestEveryObjectHasTheRecommendedLabels(t *testing.T) {
	chart, err := os.ReadFile(repoPath("charts", "labelgroup-operator", "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		AppVersion string `json:"appVersion"`
	}
	if err := yaml.Unmarshal(chart, &meta); err != nil || meta.AppVersion == "" {
		t.Fatalf("Chart.yaml appVersion: %q, %v", meta.AppVersion, err)
	}
	for _, c := range []struct {
		name      string
		objects   []object
		managedBy string
	}{
		{"config/default", kustomize(t, "config/default"), "kustomize"},
		{"config/ha", kustomize(t, "config/ha"), "kustomize"},
		{"config/member-metadata", kustomize(t, "config/member-metadata"), "kustomize"},
		{"config/pod-disruption-budgets", kustomize(t, "config/pod-disruption-budgets"), "kustomize"},
		{"config/prometheus", kustomize(t, "config/prometheus"), "kustomize"},
		{"config/admission", kustomize(t, "config/admission"), "kustomize"},
		{"config/admission-pdb", kustomize(t, "config/admission-pdb"), "kustomize"},
		// Helm does not template crds/, so the chart's CRD is the bare
		// generated one (TestChartCRDIsTheGeneratedOne); the rest is checked.
		{"chart, everything on", nil, "Helm"},
	} {
		if c.managedBy == "Helm" {
			for _, o := range helmTemplate(t, everythingOn...) {
				if o.u.GetKind() != "CustomResourceDefinition" {
					c.objects = append(c.objects, o)
				}
			}
		}
		if len(c.objects) == 0 {
			t.Fatalf("%s rendered nothing", c.name)
		}
		for _, o := range c.objects {
			got := o.u.GetLabels()
			for _, key := range recommendedLabels {
				if got[key] == "" {
					t.Errorf("%s: %s has no label %s", c.name, o.id(), key)
				}
			}
			for key, want := range map[string]string{
				"app.kubernetes.io/name":       "labelgroup-operator",
				"app.kubernetes.io/part-of":    "labelgroup-operator",
				"app.kubernetes.io/version":    meta.AppVersion,
				"app.kubernetes.io/managed-by": c.managedBy,
			} {
				if got[key] != want {
					t.Errorf("%s: %s has %s=%q; want %q", c.name, o.id(), key, got[key], want)
				}
			}
			if o.u.GetKind() == "Deployment" {
				podLabels, _, _ := unstructured.NestedStringMap(o.u.Object, "spec", "template", "metadata", "labels")
				for _, key := range recommendedLabels {
					if podLabels[key] == "" {
						t.Errorf("%s: the manager's pods have no label %s", c.name, key)
					}
				}
			}
		}
	}
}

// The LabelGroup roles add themselves to the built-in admin, edit and view
// ClusterRoles (the e2e suite proves the aggregation on a cluster).
func TestUserRolesAggregateToTheBuiltInRoles(t *testing.T) {
	for name, objects := range map[string][]object{
		"config/default": kustomize(t, "config/default"),
		"chart":          helmTemplate(t),
	} {
		aggregated := map[string]string{}
		for _, o := range only(objects, "ClusterRole") {
			for _, builtIn := range []string{"admin", "edit", "view"} {
				if o.u.GetLabels()["rbac.authorization.k8s.io/aggregate-to-"+builtIn] == "true" {
					aggregated[builtIn] = o.u.GetName()
				}
			}
		}
		want := map[string]string{
			"admin": "labelgroup-operator-labelgroup-admin-role",
			"edit":  "labelgroup-operator-labelgroup-editor-role",
			"view":  "labelgroup-operator-labelgroup-viewer-role",
		}
		for builtIn, role := range want {
			if aggregated[builtIn] != role {
				t.Errorf("%s: %q aggregates to %s; want %q", name, aggregated[builtIn], builtIn, role)
			}
		}
		if len(aggregated) != len(want) {
			t.Errorf("%s: aggregated roles %v; want %v", name, aggregated, want)
		}
	}
}
