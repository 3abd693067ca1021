package controller

import (
	"reflect"
	"testing"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/grouping"
)

// TestNamespaceEngines checks that each namespace gets its own engine, that a
// namespace without groups holds none, and that forget drops one.
func TestNamespaceEngines(t *testing.T) {
	web := []grouping.Group{{Name: "web", Selector: v1alpha1.LabelSelector{MatchLabels: map[string]v1alpha1.LabelValue{"tier": "web"}}}}
	shopPods := []grouping.Pod{{Name: "a", Labels: map[string]string{"tier": "web"}}}
	blogPods := []grouping.Pod{{Name: "b", Labels: map[string]string{"tier": "web"}}, {Name: "c", Labels: map[string]string{"tier": "web"}}}
	var engines namespaceEngines
	check := func(namespace string, pods []grouping.Pod, groups []grouping.Group) {
		t.Helper()
		got, want := engines.compute(namespace, pods, groups, 10), grouping.Compute(pods, groups, 10)
		for i := range want {
			got[i].SelectorErr, want[i].SelectorErr = nil, nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("namespace %s: got %+v, want %+v", namespace, got, want)
		}
	}
	check("shop", shopPods, web)
	check("blog", blogPods, web)
	// Each namespace's engine remembers its own pods only.
	check("shop", shopPods, web)
	check("blog", blogPods[:1], web)
	check("empty", blogPods, nil)
	if len(engines.engines) != 2 {
		t.Errorf("%d engines for two namespaces with groups and one without", len(engines.engines))
	}
	engines.forget("shop")
	if _, ok := engines.engines["shop"]; ok || len(engines.engines) != 1 {
		t.Errorf("forget left engines %v", engines.engines)
	}
	check("shop", blogPods, web)
}
