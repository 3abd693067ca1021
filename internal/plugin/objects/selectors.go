package objects

import (
	"cmp"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/grouping"
	"github.com/labelgroup/labelgroup-operator/internal/selector"
)

// The kinds whose selectors who-selects looks at, in the order it lists them.
var (
	LabelGroupKind          = schema.GroupVersionKind{Group: v1alpha1.GroupVersion.Group, Version: v1alpha1.GroupVersion.Version, Kind: "LabelGroup"}
	ServiceKind             = schema.GroupVersionKind{Version: "v1", Kind: "Service"}
	PodDisruptionBudgetKind = schema.GroupVersionKind{Group: "policy", Version: "v1", Kind: "PodDisruptionBudget"}
	SelectingKinds          = []schema.GroupVersionKind{LabelGroupKind, ServiceKind, PodDisruptionBudgetKind}
)

// Selecting is an object whose selector picks pods.
type Selecting struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Selector is the selector as kubectl -l writes it; "" selects every pod.
	Selector string `json:"selector"`
}

// candidate is an object with a selector, as the grouping engine takes it.
type candidate struct {
	kind  string
	group grouping.Group
}

// candidateOf returns obj's selector, if obj is of a kind with one and its
// selector can select a pod: a Service without a selector and a
// PodDisruptionBudget with a null one select none, while a LabelGroup's and a
// budget's empty selector {} select every pod.
func candidateOf(obj *unstructured.Unstructured) (candidate, bool) {
	gk := obj.GroupVersionKind().GroupKind()
	c := candidate{kind: obj.GetKind(), group: grouping.Group{Name: obj.GetKind() + "/" + obj.GetName()}}
	switch gk {
	case LabelGroupKind.GroupKind():
		raw, found, err := unstructured.NestedMap(obj.Object, "spec", "selector")
		if !found || err != nil {
			return c, false
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &c.group.Selector); err != nil {
			return c, false
		}
	case ServiceKind.GroupKind():
		matchLabels, _, err := unstructured.NestedStringMap(obj.Object, "spec", "selector")
		if len(matchLabels) == 0 || err != nil {
			return c, false
		}
		c.group.Selector = selector.FromMetav1(&metav1.LabelSelector{MatchLabels: matchLabels})
	case PodDisruptionBudgetKind.GroupKind():
		raw, found, err := unstructured.NestedMap(obj.Object, "spec", "selector")
		if !found || err != nil {
			return c, false
		}
		var sel metav1.LabelSelector
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &sel); err != nil {
			return c, false
		}
		c.group.Selector = selector.FromMetav1(&sel)
	default:
		return c, false
	}
	return c, true
}

// WhoSelects returns the LabelGroups, Services and PodDisruptionBudgets among
// objects whose selectors pick a pod with podLabels, by kind (in the order of
// SelectingKinds) and name. The objects must be of one namespace.
func WhoSelects(podLabels map[string]string, objs []*unstructured.Unstructured) []Selecting {
	var candidates []candidate
	var names []string
	for _, obj := range objs {
		if c, ok := candidateOf(obj); ok {
			candidates = append(candidates, c)
			names = append(names, obj.GetName())
		}
	}
	groups := make([]grouping.Group, len(candidates))
	for i, c := range candidates {
		groups[i] = c.group
	}
	results := grouping.Compute([]grouping.Pod{{Name: "pod", Labels: podLabels}}, groups, 0)
	var out []Selecting
	for i, r := range results {
		if r.MemberCount > 0 {
			out = append(out, Selecting{Kind: candidates[i].kind, Name: names[i], Selector: r.Selector})
		}
	}
	slices.SortFunc(out, func(a, b Selecting) int {
		return cmp.Or(cmp.Compare(kindOrder(a.Kind), kindOrder(b.Kind)), strings.Compare(a.Name, b.Name))
	})
	return out
}

func kindOrder(kind string) int {
	return slices.IndexFunc(SelectingKinds, func(gvk schema.GroupVersionKind) bool { return gvk.Kind == kind })
}
