package manifests

import (
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
)

// optIn is a component that the chart and config/ leave out unless asked for:
// a manager flag, and a role granting the rights the flag needs.
type optIn[R ~[]string | ~map[string][]string] struct {
	// flag is the manager flag that turns the component on.
	flag string
	// chartValues turn it on in the chart; overlay is the config/ folder
	// that adds it to config/default.
	chartValues []string
	overlay     string
	// rights are the component's rights that the ClusterRoles among objects
	// grant, by role; what says them in a sentence ("may patch pods").
	rights func(roles []*rbacv1.ClusterRole) R
	what   string
	// want is what rights returns when the component is on.
	want R
}

// expectOnlyWhenAsked checks that by default no role of the chart or of
// config/default grants the component's rights and the manager runs without
// its flag, and that the chart with chartValues and the overlay grant exactly
// want and pass the flag last.
func (c optIn[R]) expectOnlyWhenAsked(t *testing.T) {
	t.Helper()
	for name, objects := range map[string][]object{"chart default": helmTemplate(t), "config/default": kustomize(t, "config/default")} {
		if got := c.rights(clusterRoles(t, objects)); len(got) != 0 {
			t.Errorf("%s: %v %s", name, got, c.what)
		}
		if strings.Contains(managerArgs(t, objects), c.flag) {
			t.Errorf("%s: %s is on by default", name, c.flag)
		}
	}
	for name, objects := range map[string][]object{
		"chart " + strings.Join(c.chartValues, ","): helmTemplate(t, c.chartValues...),
		c.overlay: kustomize(t, c.overlay),
	} {
		if got := c.rights(clusterRoles(t, objects)); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: the roles that %s are %v, want %v", name, c.what, got, c.want)
		}
		if !strings.HasSuffix(managerArgs(t, objects), " "+c.flag) {
			t.Errorf("%s: manager flags %q lack %s", name, managerArgs(t, objects), c.flag)
		}
	}
}

// clusterRoles decodes, strictly, the ClusterRoles among objects.
func clusterRoles(t *testing.T, objects []object) []*rbacv1.ClusterRole {
	t.Helper()
	var roles []*rbacv1.ClusterRole
	for _, o := range only(objects, "ClusterRole") {
		obj, err := decodeStrict(o)
		if err != nil {
			t.Fatal(err)
		}
		roles = append(roles, obj.(*rbacv1.ClusterRole))
	}
	return roles
}

// managerArgs is the manager's command line, but for the command.
func managerArgs(t *testing.T, objects []object) string {
	d := one[*appsv1.Deployment](t, objects, "Deployment")
	return strings.Join(d.Spec.Template.Spec.Containers[0].Args, " ")
}
