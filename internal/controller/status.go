package controller

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/grouping"
)

// computeStatus returns the whole status a LabelGroup should have, given what
// the engine computed for it. It keeps the old conditions' lastTransitionTime
// unless a condition's status really changes, so that a reconcile with nothing
// new produces a status equal to the stored one.
func computeStatus(old v1alpha1.LabelGroupStatus, generation int64, result grouping.Result, now metav1.Time) v1alpha1.LabelGroupStatus {
	status := v1alpha1.LabelGroupStatus{
		ObservedGeneration: generation,
		Selector:           result.Selector,
		MemberCount:        result.MemberCount,
		Members:            result.Members,
		Overlaps:           result.Overlaps,
	}
	for _, c := range old.Conditions {
		status.Conditions = append(status.Conditions, *c.DeepCopy())
	}
	for _, c := range []metav1.Condition{readyCondition(result, generation), overlappingCondition(result, generation)} {
		c.LastTransitionTime = now
		meta.SetStatusCondition(&status.Conditions, c)
	}
	return status
}

// readyCondition is True once membership and overlaps are computed, False when
// the selector cannot be evaluated (a person has to fix spec.selector).
func readyCondition(result grouping.Result, generation int64) metav1.Condition {
	if result.SelectorErr != nil {
		return metav1.Condition{
			Type:               v1alpha1.ConditionReady,
			Status:             metav1.ConditionFalse,
			Reason:             v1alpha1.ReasonInvalidSelector,
			Message:            fmt.Sprintf("spec.selector is invalid: %v", result.SelectorErr),
			ObservedGeneration: generation,
		}
	}
	return metav1.Condition{
		Type:               v1alpha1.ConditionReady,
		Status:             metav1.ConditionTrue,
		Reason:             v1alpha1.ReasonReconciled,
		Message:            fmt.Sprintf("Selects %d %s", result.MemberCount, plural(int(result.MemberCount), "pod", "pods")),
		ObservedGeneration: generation,
	}
}

// overlappingCondition is True when another group of the namespace overlaps this
// one, and names every such group with the number of pods it shares.
func overlappingCondition(result grouping.Result, generation int64) metav1.Condition {
	condition := metav1.Condition{
		Type:               v1alpha1.ConditionOverlapping,
		Status:             metav1.ConditionFalse,
		Reason:             v1alpha1.ReasonNoOverlap,
		Message:            "No other LabelGroup of the namespace overlaps this one",
		ObservedGeneration: generation,
	}
	if result.SelectorErr != nil {
		condition.Message = "The selector is invalid, so the group has no members and overlaps no other group"
		return condition
	}
	if len(result.Overlaps) == 0 {
		return condition
	}
	condition.Status = metav1.ConditionTrue
	condition.Reason = v1alpha1.ReasonSelectorsIntersect
	parts := make([]string, 0, len(result.Overlaps))
	for _, o := range result.Overlaps {
		if o.SharedMembers > 0 {
			condition.Reason = v1alpha1.ReasonMembersShared
		}
		if o.SharedMembers == 0 {
			parts = append(parts, fmt.Sprintf("%s (selectors intersect, no pod shared yet)", o.Name))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s (%d shared %s)", o.Name, o.SharedMembers, plural(int(o.SharedMembers), "pod", "pods")))
	}
	condition.Message = fmt.Sprintf("Overlaps %d other %s: %s", len(parts), plural(len(parts), "LabelGroup", "LabelGroups"), strings.Join(parts, ", "))
	return condition
}

// overlapTransition tells which event, if any, a change of the Overlapping
// condition from before to after deserves: a warning when a group starts
// overlapping, a normal event when it stops. A group that is first seen not
// overlapping gets no event.
func overlapTransition(before, after []metav1.Condition) (eventType, reason string, ok bool) {
	wasOverlapping := meta.IsStatusConditionTrue(before, v1alpha1.ConditionOverlapping)
	isOverlapping := meta.IsStatusConditionTrue(after, v1alpha1.ConditionOverlapping)
	switch {
	case isOverlapping && !wasOverlapping:
		return "Warning", v1alpha1.EventOverlapDetected, true
	case wasOverlapping && !isOverlapping:
		return "Normal", v1alpha1.EventOverlapResolved, true
	}
	return "", "", false
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
