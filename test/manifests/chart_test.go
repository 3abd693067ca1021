package manifests

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// everythingOn turns on every optional part of the chart.
var everythingOn = []string{"ha.enabled=true", "metrics.serviceMonitor.enabled=true", "metrics.prometheusRule.enabled=true", "admissionPolicy.enabled=true", "memberMetadata.enabled=true", "podDisruptionBudgets.watch=true", "podDisruptionBudgetAdmissionPolicy.enabled=true", "metrics.grafanaDashboard.enabled=true"}

func TestHelmLint(t *testing.T) {
	// --strict fails on warnings too, such as a name longer than 63 characters.
	t.Log(run(t, false, helmBinary(t), "lint", "--strict", repoPath("charts", "labelgroup-operator")))
	t.Log(run(t, false, helmBinary(t), append([]string{"lint", "--strict", repoPath("charts", "labelgroup-operator")},
		setFlags(everythingOn)...)...))
}

func setFlags(set []string) []string {
	var args []string
	for _, s := range set {
		args = append(args, "--set", s)
	}
	return args
}

// The chart's default render makes the objects of config/default, and with
// ha.enabled those of config/ha, with memberMetadata.enabled those of
// config/member-metadata, with podDisruptionBudgets.watch those of
// config/pod-disruption-budgets, apart from names and labels (which the
// labels tests check). The image is set to kustomize's, since each sets its
// own default. Only the Namespace is kustomize's alone: Helm installs into
// a namespace (--create-namespace).
func TestChartMakesTheObjectsKustomizeDoes(t *testing.T) {
	for _, c := range []struct {
		overlay string
		set     []string
	}{
		{"config/default", nil},
		{"config/ha", []string{"ha.enabled=true"}},
		{"config/member-metadata", []string{"memberMetadata.enabled=true"}},
		{"config/pod-disruption-budgets", []string{"podDisruptionBudgets.watch=true"}},
	} {
		t.Run(c.overlay, func(t *testing.T) {
			fromKustomize := comparable(t, kustomize(t, c.overlay), "Namespace")
			fromChart := comparable(t, helmTemplate(t, append([]string{"image.tag=latest"}, c.set...)...))
			for id, want := range fromKustomize {
				got, ok := fromChart[id]
				if !ok {
					t.Errorf("the chart makes no %s", id)
					continue
				}
				if !reflect.DeepEqual(got, want) {
					wantYAML, _ := yaml.Marshal(want)
					gotYAML, _ := yaml.Marshal(got)
					t.Errorf("%s differs.\nkustomize:\n%s\nchart:\n%s", id, wantYAML, gotYAML)
				}
			}
			for id := range fromChart {
				if _, ok := fromKustomize[id]; !ok {
					t.Errorf("the chart makes %s, which %s does not", id, c.overlay)
				}
			}
		})
	}
}

// admissionPolicy.enabled renders the objects of config/admission, and
// podDisruptionBudgetAdmissionPolicy.enabled those of config/admission-pdb,
// apart from labels, and nothing of them by default.
func TestChartAdmissionPolicyIsConfigAdmission(t *testing.T) {
	admission := func(objects []object) []object {
		return append(only(objects, "ValidatingAdmissionPolicy"), only(objects, "ValidatingAdmissionPolicyBinding")...)
	}
	if got := admission(helmTemplate(t)); len(got) != 0 {
		t.Errorf("the default render has %d admission objects; the policy is opt-in", len(got))
	}
	for value, dir := range map[string]string{"admissionPolicy.enabled": "config/admission", "podDisruptionBudgetAdmissionPolicy.enabled": "config/admission-pdb"} {
		fromKustomize := comparable(t, kustomize(t, dir))
		fromChart := comparable(t, admission(helmTemplate(t, value+"=true")))
		if len(fromKustomize) != 2 || !reflect.DeepEqual(fromChart, fromKustomize) {
			wantYAML, _ := yaml.Marshal(fromKustomize)
			gotYAML, _ := yaml.Marshal(fromChart)
			t.Errorf("%s differs from %s.\nkustomize:\n%s\nchart:\n%s", value, dir, wantYAML, gotYAML)
		}
	}
}

// comparable indexes objects by kind and name, without their labels and
// the label selectors built from them (TestSelectorsSelectTheManagersPods
// checks those), leaving out the given kinds.
func comparable(t *testing.T, objects []object, skipKinds ...string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, o := range objects {
		if slices.Contains(skipKinds, o.u.GetKind()) {
			continue
		}
		u := o.u.DeepCopy()
		u.SetLabels(nil)
		for _, path := range [][]string{
			{"spec", "template", "metadata", "labels"},
			{"spec", "selector"},
			{"spec", "template", "spec", "affinity", "podAntiAffinity", "preferredDuringSchedulingIgnoredDuringExecution"},
		} {
			unstructured.RemoveNestedField(u.Object, path...)
		}
		out[o.id()] = u.Object
	}
	return out
}

// Every selector of a render (Deployment, Service, PodDisruptionBudget,
// ServiceMonitor, anti-affinity) selects the manager's pods of that render.
func TestSelectorsSelectTheManagersPods(t *testing.T) {
	otherRelease := run(t, false, helmBinary(t), append([]string{"template", "other",
		repoPath("charts", "labelgroup-operator"), "--namespace", "x"}, setFlags(everythingOn)...)...)
	renders := map[string][]object{
		"config/ha": kustomize(t, "config/ha"),
		"config/default with config/prometheus": append(kustomize(t, "config/default"),
			kustomize(t, "config/prometheus")...),
		"chart, everything on":      helmTemplate(t, everythingOn...),
		"chart, other release name": splitYAML(t, []byte(otherRelease)),
	}
	for name, objects := range renders {
		deployment := one[*appsv1.Deployment](t, objects, "Deployment")
		pods := labels.Set(deployment.Spec.Template.Labels)
		selectors := map[string]*metav1.LabelSelector{"Deployment": deployment.Spec.Selector}
		if a := deployment.Spec.Template.Spec.Affinity; a != nil {
			selectors["anti-affinity"] = a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm.LabelSelector
		}
		for _, kind := range []string{"Service", "PodDisruptionBudget", "ServiceMonitor"} {
			for _, o := range only(objects, kind) {
				matchLabels, found, _ := unstructured.NestedStringMap(o.u.Object, "spec", "selector")
				if kind != "Service" {
					matchLabels, found, _ = unstructured.NestedStringMap(o.u.Object, "spec", "selector", "matchLabels")
				}
				if !found {
					t.Errorf("%s: %s has no selector", name, o.id())
				}
				selectors[o.id()] = &metav1.LabelSelector{MatchLabels: matchLabels}
			}
		}
		if len(selectors) < 3 {
			t.Errorf("%s: only %d selectors found: %v", name, len(selectors), selectors)
		}
		for id, s := range selectors {
			selector, err := metav1.LabelSelectorAsSelector(s)
			if err != nil || selector.Empty() || !selector.Matches(pods) {
				t.Errorf("%s: the selector of %s (%v, %v) does not select the manager's pods %v", name, id, s, err, pods)
			}
		}
	}
}

// What each value does to the render.
func TestChartValues(t *testing.T) {
	deployment := func(set ...string) *appsv1.Deployment {
		return one[*appsv1.Deployment](t, helmTemplate(t, set...), "Deployment")
	}
	manager := func(d *appsv1.Deployment) string { return strings.Join(d.Spec.Template.Spec.Containers[0].Args, " ") }

	if d := deployment(); *d.Spec.Replicas != 1 || d.Spec.Template.Spec.Affinity != nil ||
		manager(d) != "--metrics-bind-address=:8443 --leader-elect --health-probe-bind-address=:8081" {
		t.Errorf("default: replicas %d, affinity %v, args %q", *d.Spec.Replicas, d.Spec.Template.Spec.Affinity, manager(d))
	}
	if len(only(helmTemplate(t), "PodDisruptionBudget")) != 0 {
		t.Error("one replica gets a PodDisruptionBudget; it would block every drain")
	}
	for _, set := range [][]string{{"replicas=2"}, {"ha.enabled=true"}} {
		pdb := one[*policyv1.PodDisruptionBudget](t, helmTemplate(t, set...), "PodDisruptionBudget")
		if want := intstr.FromInt32(1); pdb.Spec.MaxUnavailable == nil || *pdb.Spec.MaxUnavailable != want {
			t.Errorf("%v: PodDisruptionBudget maxUnavailable %v; want 1", set, pdb.Spec.MaxUnavailable)
		}
	}
	ha := deployment("ha.enabled=true")
	if *ha.Spec.Replicas != 2 || ha.Spec.Template.Spec.Affinity == nil ||
		ha.Spec.Template.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm.TopologyKey != "kubernetes.io/hostname" {
		t.Errorf("ha.enabled: replicas %d, affinity %+v", *ha.Spec.Replicas, ha.Spec.Template.Spec.Affinity)
	}
	if d := deployment("ha.enabled=true", "replicas=3"); *d.Spec.Replicas != 3 {
		t.Errorf("ha.enabled with replicas=3: %d replicas", *d.Spec.Replicas)
	}

	d := deployment("image.repository=registry.example/lg", "image.tag=v9", "image.pullPolicy=Always",
		"manager.statusMemberLimit=500", "manager.statusOverlapLimit=7", "manager.extraArgs={--zap-log-level=debug}", "metrics.enabled=false",
		"leaderElection.enabled=false", "nodeSelector.pool=system", "tolerations[0].key=dedicated",
		"tolerations[0].operator=Exists", "priorityClassName=system-cluster-critical",
		"affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key=pool",
		"affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator=Exists",
		"resources.limits.memory=1Gi")
	spec := d.Spec.Template.Spec
	c := spec.Containers[0]
	for what, ok := range map[string]bool{
		"image":             c.Image == "registry.example/lg:v9" && c.ImagePullPolicy == "Always",
		"flags":             manager(d) == "--health-probe-bind-address=:8081 --status-member-limit=500 --status-overlap-limit=7 --zap-log-level=debug",
		"no metrics port":   len(c.Ports) == 0,
		"nodeSelector":      spec.NodeSelector["pool"] == "system",
		"tolerations":       len(spec.Tolerations) == 1 && spec.Tolerations[0].Key == "dedicated",
		"priorityClassName": spec.PriorityClassName == "system-cluster-critical",
		"affinity":          spec.Affinity != nil && spec.Affinity.NodeAffinity != nil,
		"resources":         c.Resources.Limits.Memory().String() == "1Gi",
	} {
		if !ok {
			t.Errorf("%s not as set: %+v", what, d.Spec.Template.Spec)
		}
	}
	noMetrics := helmTemplate(t, "metrics.enabled=false", "metrics.serviceMonitor.enabled=true")
	if len(only(noMetrics, "Service"))+len(only(noMetrics, "ServiceMonitor")) != 0 {
		t.Error("metrics.enabled=false still makes a metrics Service or ServiceMonitor")
	}
	if len(only(noMetrics, "Role")) == 0 {
		t.Error("no leader election Role with leader election on")
	}
	if len(only(helmTemplate(t, "leaderElection.enabled=false"), "Role")) != 0 {
		t.Error("a leader election Role without leader election")
	}

	stderr := run(t, true, helmBinary(t), "template", "x", repoPath("charts", "labelgroup-operator"),
		"--set", "replicas=2", "--set", "leaderElection.enabled=false")
	if !strings.Contains(stderr, "leaderElection.enabled must stay true when the manager runs more than one replica") {
		t.Errorf("two replicas without leader election: %s", stderr)
	}
}

// The chart's CRD is config/crd/bases's, byte for byte (make manifests copies
// it; make verify fails when the copy is stale).
func TestChartCRDIsTheGeneratedOne(t *testing.T) {
	entries, err := os.ReadDir(repoPath("config", "crd", "bases"))
	if err != nil {
		t.Fatal(err)
	}
	chartEntries, err := os.ReadDir(repoPath("charts", "labelgroup-operator", "crds"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 || len(entries) != len(chartEntries) {
		t.Fatalf("%d CRDs in config/crd/bases, %d in the chart", len(entries), len(chartEntries))
	}
	for _, e := range entries {
		want, _ := os.ReadFile(repoPath("config", "crd", "bases", e.Name()))
		got, err := os.ReadFile(repoPath("charts", "labelgroup-operator", "crds", e.Name()))
		if err != nil || string(got) != string(want) {
			t.Errorf("charts/labelgroup-operator/crds/%s differs from config/crd/bases (run make manifests): %v", e.Name(), err)
		}
	}
}
