package manifests

import (
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

// Patch on pods is granted only with memberMetadata.enabled, together with the
// flag that uses it; by default no role of the chart or of config/default
// may patch pods.
func TestPodsPatchOnlyWithMemberMetadata(t *testing.T) {
	optIn[[]string]{
		flag:        "--enable-member-metadata",
		chartValues: []string{"memberMetadata.enabled=true"},
		overlay:     "config/member-metadata",
		what:        "may patch pods",
		rights: func(roles []*rbacv1.ClusterRole) []string {
			var names []string
			for _, role := range roles {
				for _, rule := range role.Rules {
					if slices.Contains(rule.APIGroups, "") && slices.Contains(rule.Resources, "pods") &&
						(slices.Contains(rule.Verbs, "patch") || slices.Contains(rule.Verbs, "*")) {
						names = append(names, role.Name)
					}
				}
			}
			return names
		},
		want: []string{"labelgroup-operator-member-metadata"},
	}.expectOnlyWhenAsked(t)

	if got := managerArgs(t, helmTemplate(t, "memberMetadata.enabled=true", "memberMetadata.concurrency=3")); !strings.HasSuffix(got, "--enable-member-metadata --member-metadata-concurrency=3") {
		t.Errorf("memberMetadata.concurrency=3: manager flags %q", got)
	}
}
