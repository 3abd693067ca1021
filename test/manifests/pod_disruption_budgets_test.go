package manifests

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
)

// Access to PodDisruptionBudgets is granted only with
// podDisruptionBudgets.watch, read-only, together with the flag that uses it;
// by default no role of the chart or of config/default may read them.
func TestBudgetsReadOnlyWithWatch(t *testing.T) {
	budgetRules := func(objects []object) map[string][]string {
		verbs := map[string][]string{}
		for _, o := range only(objects, "ClusterRole") {
			obj, err := decodeStrict(o)
			if err != nil {
				t.Fatal(err)
			}
			role := obj.(*rbacv1.ClusterRole)
			for _, rule := range role.Rules {
				if (slices.Contains(rule.APIGroups, "policy") || slices.Contains(rule.APIGroups, "*")) &&
					(slices.Contains(rule.Resources, "poddisruptionbudgets") || slices.Contains(rule.Resources, "*")) {
					verbs[role.Name] = append(verbs[role.Name], rule.Verbs...)
				}
			}
		}
		return verbs
	}
	args := func(objects []object) string {
		d := one[*appsv1.Deployment](t, objects, "Deployment")
		return strings.Join(d.Spec.Template.Spec.Containers[0].Args, " ")
	}

	for name, objects := range map[string][]object{"chart default": helmTemplate(t), "config/default": kustomize(t, "config/default")} {
		if got := budgetRules(objects); len(got) != 0 {
			t.Errorf("%s: %v may read PodDisruptionBudgets", name, got)
		}
		if strings.Contains(args(objects), "--watch-pod-disruption-budgets") {
			t.Errorf("%s: watching budgets is on by default", name)
		}
	}
	for name, objects := range map[string][]object{
		"chart podDisruptionBudgets.watch": helmTemplate(t, "podDisruptionBudgets.watch=true"),
		"config/pod-disruption-budgets":    kustomize(t, "config/pod-disruption-budgets"),
	} {
		got := budgetRules(objects)
		want := map[string][]string{"labelgroup-operator-pod-disruption-budgets": {"list", "watch"}}
		if len(got) != 1 || !slices.Equal(got["labelgroup-operator-pod-disruption-budgets"], want["labelgroup-operator-pod-disruption-budgets"]) {
			t.Errorf("%s: the roles on PodDisruptionBudgets are %v, want %v", name, got, want)
		}
		if !strings.HasSuffix(args(objects), " --watch-pod-disruption-budgets") {
			t.Errorf("%s: manager flags %q lack --watch-pod-disruption-budgets", name, args(objects))
		}
	}
}
