package manifests

import (
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

// Access to PodDisruptionBudgets is granted only with
// podDisruptionBudgets.watch, read-only, together with the flag that uses it;
// by default no role of the chart or of config/default may read them.
func TestBudgetsReadOnlyWithWatch(t *testing.T) {
	optIn[map[string][]string]{
		flag:        "--watch-pod-disruption-budgets",
		chartValues: []string{"podDisruptionBudgets.watch=true"},
		overlay:     "config/pod-disruption-budgets",
		what:        "may read PodDisruptionBudgets",
		rights: func(roles []*rbacv1.ClusterRole) map[string][]string {
			verbs := map[string][]string{}
			for _, role := range roles {
				for _, rule := range role.Rules {
					if (slices.Contains(rule.APIGroups, "policy") || slices.Contains(rule.APIGroups, "*")) &&
						(slices.Contains(rule.Resources, "poddisruptionbudgets") || slices.Contains(rule.Resources, "*")) {
						verbs[role.Name] = append(verbs[role.Name], rule.Verbs...)
					}
				}
			}
			return verbs
		},
		want: map[string][]string{"labelgroup-operator-pod-disruption-budgets": {"list", "watch"}},
	}.expectOnlyWhenAsked(t)
}
