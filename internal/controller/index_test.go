package controller

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

func indexPod(name string, labels map[string]string) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, Labels: labels}}
}

func indexGroup(name, tier string) *v1alpha1.LabelGroup {
	return &v1alpha1.LabelGroup{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name},
		Spec:       v1alpha1.LabelGroupSpec{Selector: v1alpha1.LabelSelector{MatchLabels: map[string]v1alpha1.LabelValue{"tier": v1alpha1.LabelValue(tier)}}},
	}
}

func viewNames(view namespaceView) []string {
	var names []string
	for _, g := range view.groups {
		names = append(names, g.Name)
	}
	return names
}

// TestNamespaceIndexTakesWhatChanged checks that a reconcile looks at the
// groups whose result changed or that an event or a failed write named, and
// at every group while one stamps member metadata.
func TestNamespaceIndexTakesWhatChanged(t *testing.T) {
	var n namespaceIndex
	n.memberLimit = 10
	same := func(g *v1alpha1.LabelGroup) *v1alpha1.LabelGroup { return g }
	take := func(want []string, wantGone ...string) namespaceView {
		t.Helper()
		view := n.take("shop", same)
		if got := viewNames(view); !slices.Equal(got, want) {
			t.Errorf("took %v, want %v", got, want)
		}
		if !slices.Equal(view.gone, wantGone) {
			t.Errorf("gone %v, want %v", view.gone, wantGone)
		}
		return view
	}
	n.podChanged(indexPod("a", map[string]string{"tier": "web"}))
	n.podChanged(indexPod("b", map[string]string{"tier": "db"}))
	for _, g := range []*v1alpha1.LabelGroup{indexGroup("web", "web"), indexGroup("db", "db"), indexGroup("cache", "cache")} {
		n.groupChanged(g)
	}
	view := take([]string{"cache", "db", "web"})
	if view.results[2].MemberCount != 1 || view.results[2].Members[0] != "a" {
		t.Errorf("web: %+v", view.results[2])
	}
	take(nil)

	// A relabel from db to web touches those two only.
	n.podChanged(indexPod("b", map[string]string{"tier": "web"}))
	view = take([]string{"db", "web"})
	if view.results[1].MemberCount != 2 {
		t.Errorf("web after the relabel: %+v", view.results[1])
	}
	// An update that changes no label touches none.
	n.podChanged(indexPod("b", map[string]string{"tier": "web"}))
	take(nil)

	// A write that did not happen is looked at again.
	n.redo("shop", []types.NamespacedName{{Namespace: "shop", Name: "cache"}})
	take([]string{"cache"})

	n.groupDeleted(indexGroup("db", "db"))
	take(nil, "db")
	n.podDeleted(indexPod("a", nil))
	take([]string{"web"})

	stamping := indexGroup("cache", "cache")
	stamping.Spec.MemberMetadata = &v1alpha1.MemberMetadata{Labels: map[string]v1alpha1.LabelValue{"stamped": "yes"}}
	n.groupChanged(stamping)
	if view := take([]string{"cache", "web"}); !view.stamping {
		t.Error("a stamping group did not make the view a stamping one")
	}
	take([]string{"cache", "web"})
}
