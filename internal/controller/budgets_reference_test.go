package controller

import (
	policyv1 "k8s.io/api/policy/v1"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/grouping"
	"github.com/labelgroup/labelgroup-operator/internal/selector"
)

// computeSharing is the reference the budget index is tested against: the
// sharing computed from scratch. It returns, in the order of budgets, which
// pods each budget shares with the others. The budgets and pods must be of
// one namespace. The
// budgets are one more kind of group for the grouping engine, with the Members
// overlap policy: two budgets overlap when a pod is covered by both, which is
// exactly when the eviction API refuses it. A budget whose selector is null
// covers no pod (policy/v1); the empty selector {} covers every pod of the
// namespace; an invalid one covers none, as the eviction API reads it.
func computeSharing(budgets []policyv1.PodDisruptionBudget, pods []grouping.Pod) []budgetSharing {
	out := make([]budgetSharing, len(budgets))
	var groups []grouping.Group
	var budgetOf []int // the index in budgets of each group
	for i, b := range budgets {
		out[i] = budgetSharing{Name: b.Name, UID: b.UID}
		if b.Spec.Selector == nil {
			continue
		}
		groups = append(groups, grouping.Group{Name: b.Name, Selector: selector.FromMetav1(b.Spec.Selector), Policy: v1alpha1.OverlapPolicyMembers})
		budgetOf = append(budgetOf, i)
	}
	if len(groups) < 2 {
		return out
	}
	// Every member is listed, so that a pod covered by three budgets counts
	// once in each budget's SharedPods, not once per other budget.
	results := grouping.Compute(pods, groups, len(pods))
	coveredBy := map[string]int{}
	for _, r := range results {
		if len(r.Overlaps) == 0 {
			continue
		}
		for _, pod := range r.Members {
			coveredBy[pod]++
		}
	}
	for j, r := range results {
		if len(r.Overlaps) == 0 {
			continue
		}
		s := &out[budgetOf[j]]
		s.Others = r.Overlaps
		for _, pod := range r.Members {
			if coveredBy[pod] > 1 {
				s.SharedPods++
			}
		}
	}
	return out
}
