package manifests

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
)

// Patch on pods is granted only with memberMetadata.enabled, together with the
// flag that uses it; by default no role of the chart or of config/default
// may patch pods.
func TestPodsPatchOnlyWithMemberMetadata(t *testing.T) {
	patchesPods := func(objects []object) []string {
		var names []string
		for _, o := range only(objects, "ClusterRole") {
			obj, err := decodeStrict(o)
			if err != nil {
				t.Fatal(err)
			}
			role := obj.(*rbacv1.ClusterRole)
			for _, rule := range role.Rules {
				if slices.Contains(rule.APIGroups, "") && slices.Contains(rule.Resources, "pods") &&
					(slices.Contains(rule.Verbs, "patch") || slices.Contains(rule.Verbs, "*")) {
					names = append(names, role.Name)
				}
			}
		}
		return names
	}
	args := func(objects []object) string {
		d := one[*appsv1.Deployment](t, objects, "Deployment")
		return strings.Join(d.Spec.Template.Spec.Containers[0].Args, " ")
	}

	for name, objects := range map[string][]object{"chart default": helmTemplate(t), "config/default": kustomize(t, "config/default")} {
		if got := patchesPods(objects); len(got) != 0 {
			t.Errorf("%s: %v may patch pods", name, got)
		}
		if strings.Contains(args(objects), "--enable-member-metadata") {
			t.Errorf("%s: stamping is on by default", name)
		}
	}
	for name, objects := range map[string][]object{
		"chart memberMetadata.enabled": helmTemplate(t, "memberMetadata.enabled=true"),
		"config/member-metadata":       kustomize(t, "config/member-metadata"),
	} {
		if got := patchesPods(objects); !slices.Equal(got, []string{"labelgroup-operator-member-metadata"}) {
			t.Errorf("%s: the roles that may patch pods are %v, want the member-metadata role alone", name, got)
		}
		if !strings.HasSuffix(args(objects), " --enable-member-metadata") {
			t.Errorf("%s: manager flags %q lack --enable-member-metadata", name, args(objects))
		}
	}
	if got := args(helmTemplate(t, "memberMetadata.enabled=true", "memberMetadata.concurrency=3")); !strings.HasSuffix(got, "--enable-member-metadata --member-metadata-concurrency=3") {
		t.Errorf("memberMetadata.concurrency=3: manager flags %q", got)
	}
}
