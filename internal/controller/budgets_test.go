package controller

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/grouping"
)

func budget(name string, sel *metav1.LabelSelector) policyv1.PodDisruptionBudget {
	return policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name)},
		Spec:       policyv1.PodDisruptionBudgetSpec{Selector: sel},
	}
}

func matchLabels(kv ...string) *metav1.LabelSelector {
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{}}
	for i := 0; i < len(kv); i += 2 {
		sel.MatchLabels[kv[i]] = kv[i+1]
	}
	return sel
}

func TestComputeSharing(t *testing.T) {
	pods := []grouping.Pod{
		{Name: "web-1", Labels: map[string]string{"app": "web", "tier": "front"}},
		{Name: "web-2", Labels: map[string]string{"app": "web", "tier": "front"}},
		{Name: "db-1", Labels: map[string]string{"app": "db"}},
		{Name: "bare", Labels: nil},
	}
	type shared struct {
		Name       string
		SharedPods int
		Others     []v1alpha1.Overlap
	}
	cases := []struct {
		name    string
		budgets []policyv1.PodDisruptionBudget
		want    []shared
	}{{
		name:    "one budget shares nothing",
		budgets: []policyv1.PodDisruptionBudget{budget("web", matchLabels("app", "web"))},
		want:    []shared{{Name: "web"}},
	}, {
		name: "disjoint selectors",
		budgets: []policyv1.PodDisruptionBudget{
			budget("web", matchLabels("app", "web")), budget("db", matchLabels("app", "db")),
		},
		want: []shared{{Name: "web"}, {Name: "db"}},
	}, {
		name: "different keys one pod carries together",
		budgets: []policyv1.PodDisruptionBudget{
			budget("app", matchLabels("app", "web")), budget("tier", matchLabels("tier", "front")),
		},
		want: []shared{
			{Name: "app", SharedPods: 2, Others: []v1alpha1.Overlap{{Name: "tier", SharedMembers: 2}}},
			{Name: "tier", SharedPods: 2, Others: []v1alpha1.Overlap{{Name: "app", SharedMembers: 2}}},
		},
	}, {
		name: "the empty selector covers every pod, the null one none",
		budgets: []policyv1.PodDisruptionBudget{
			budget("all", &metav1.LabelSelector{}), budget("none", nil), budget("db", matchLabels("app", "db")),
		},
		want: []shared{
			{Name: "all", SharedPods: 1, Others: []v1alpha1.Overlap{{Name: "db", SharedMembers: 1}}},
			{Name: "none"},
			{Name: "db", SharedPods: 1, Others: []v1alpha1.Overlap{{Name: "all", SharedMembers: 1}}},
		},
	}, {
		name: "a pod under three budgets counts once in each",
		budgets: []policyv1.PodDisruptionBudget{
			budget("a", matchLabels("app", "web")), budget("b", matchLabels("tier", "front")),
			budget("c", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpExists}}}),
		},
		want: []shared{
			{Name: "a", SharedPods: 2, Others: []v1alpha1.Overlap{{Name: "b", SharedMembers: 2}, {Name: "c", SharedMembers: 2}}},
			{Name: "b", SharedPods: 2, Others: []v1alpha1.Overlap{{Name: "a", SharedMembers: 2}, {Name: "c", SharedMembers: 2}}},
			{Name: "c", SharedPods: 2, Others: []v1alpha1.Overlap{{Name: "a", SharedMembers: 2}, {Name: "b", SharedMembers: 2}}},
		},
	}, {
		name: "NotIn and DoesNotExist both cover a pod without the key",
		budgets: []policyv1.PodDisruptionBudget{
			budget("notin", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"web"}}}}),
			budget("noapp", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpDoesNotExist}}}),
		},
		want: []shared{
			{Name: "notin", SharedPods: 1, Others: []v1alpha1.Overlap{{Name: "noapp", SharedMembers: 1}}},
			{Name: "noapp", SharedPods: 1, Others: []v1alpha1.Overlap{{Name: "notin", SharedMembers: 1}}},
		},
	}, {
		name: "an invalid selector covers no pod",
		budgets: []policyv1.PodDisruptionBudget{
			budget("bad", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpIn}}}),
			budget("all", &metav1.LabelSelector{}),
		},
		want: []shared{{Name: "bad"}, {Name: "all"}},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []shared
			for i, s := range computeSharing(tc.budgets, pods) {
				if s.UID != tc.budgets[i].UID {
					t.Errorf("result %d has UID %s, want %s", i, s.UID, tc.budgets[i].UID)
				}
				got = append(got, shared{Name: s.Name, SharedPods: s.SharedPods, Others: s.Others})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("computeSharing (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBudgetTransition(t *testing.T) {
	sharing := budgetSharing{SharedPods: 1}
	cases := []struct {
		name              string
		known, wasSharing bool
		now               budgetSharing
		wantType          string
		wantReason        string
	}{
		{name: "first seen sharing (new budget, restart or new leader)", now: sharing, wantType: "Warning", wantReason: v1alpha1.EventBudgetPodsShared},
		{name: "first seen not sharing", now: budgetSharing{}},
		{name: "starts sharing", known: true, now: sharing, wantType: "Warning", wantReason: v1alpha1.EventBudgetPodsShared},
		{name: "still sharing", known: true, wasSharing: true, now: sharing},
		{name: "stops sharing", known: true, wasSharing: true, now: budgetSharing{}, wantType: "Normal", wantReason: v1alpha1.EventBudgetPodsNoLongerShared},
		{name: "still not sharing", known: true, now: budgetSharing{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eventType, reason, ok := budgetTransition(tc.known, tc.wasSharing, tc.now)
			if ok != (tc.wantType != "") || eventType != tc.wantType || reason != tc.wantReason {
				t.Errorf("budgetTransition = %q, %q, %v; want %q, %q", eventType, reason, ok, tc.wantType, tc.wantReason)
			}
		})
	}
}

func TestBudgetNote(t *testing.T) {
	got := budgetNote(budgetSharing{SharedPods: 3, Others: []v1alpha1.Overlap{{Name: "db", SharedMembers: 1}, {Name: "web", SharedMembers: 2}}})
	want := "3 of its pods are also covered by 2 other PodDisruptionBudgets, so the eviction API refuses to evict them and node drains stall: db (1 pod), web (2 pods)"
	if got != want {
		t.Errorf("budgetNote =\n%q, want\n%q", got, want)
	}
	got = budgetNote(budgetSharing{SharedPods: 1, Others: []v1alpha1.Overlap{{Name: "db", SharedMembers: 1}}})
	want = "1 of its pods is also covered by 1 other PodDisruptionBudget, so the eviction API refuses to evict it and node drains stall: db (1 pod)"
	if got != want {
		t.Errorf("budgetNote =\n%q, want\n%q", got, want)
	}
	var many []v1alpha1.Overlap
	for i := range 200 {
		many = append(many, v1alpha1.Overlap{Name: strings.Repeat("b", 40) + string(rune('a'+i%26)), SharedMembers: 1})
	}
	long := budgetNote(budgetSharing{SharedPods: 200, Others: many})
	if len(long) > MaxEventNoteBytes {
		t.Errorf("the note of 200 other budgets has %d bytes, more than %d", len(long), MaxEventNoteBytes)
	}
	if !strings.HasPrefix(long, "200 of its pods are also covered by 200 other PodDisruptionBudgets") || !strings.HasSuffix(long, "characters cut]") {
		t.Errorf("the long note lost its head or says nothing of the cut: %q", long)
	}
	if got := budgetNote(budgetSharing{}); got != "No other PodDisruptionBudget covers any of its pods any more" {
		t.Errorf("budgetNote of a budget sharing nothing = %q", got)
	}
}
