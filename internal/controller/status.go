package controller

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/grouping"
)

// Limits the API server enforces on what the operator writes.
const (
	// MaxConditionMessageBytes is the longest message a metav1.Condition may
	// have (its schema's maxLength).
	MaxConditionMessageBytes = 32768
	// MaxEventNoteBytes is the longest note events.k8s.io accepts: it refuses
	// an event whose note has more than 1,024 bytes.
	MaxEventNoteBytes = 1024
	// overlapsNamed is how many overlapping groups the Overlapping message
	// names; it says how many more there are. Three 253-character names keep
	// the message, and so the event note, under 1,024 bytes.
	overlapsNamed = 3
)

// computeStatus returns the whole status a LabelGroup should have, given what
// the engine computed for it. status.overlaps lists at most overlapLimit
// groups; status.overlapCount stays exact. It keeps the old conditions'
// lastTransitionTime unless a condition's status really changes, so that a
// reconcile with nothing new produces a status equal to the stored one.
func computeStatus(old v1alpha1.LabelGroupStatus, generation int64, result grouping.Result, overlapLimit int, now metav1.Time) v1alpha1.LabelGroupStatus {
	status := v1alpha1.LabelGroupStatus{
		ObservedGeneration: generation,
		Selector:           result.Selector,
		MemberCount:        result.MemberCount,
		Members:            result.Members,
		OverlapCount:       int32(len(result.Overlaps)),
		Overlaps:           firstOverlaps(result.Overlaps, overlapLimit),
	}
	for _, c := range old.Conditions {
		status.Conditions = append(status.Conditions, *c.DeepCopy())
	}
	conditions := []metav1.Condition{readyCondition(result, generation), overlappingCondition(result, generation)}
	if stalled, ok := stalledCondition(result, generation); ok {
		conditions = append(conditions, stalled)
	} else {
		meta.RemoveStatusCondition(&status.Conditions, v1alpha1.ConditionStalled)
	}
	for _, c := range conditions {
		c.LastTransitionTime = now
		c.Message = truncate(c.Message, MaxConditionMessageBytes)
		meta.SetStatusCondition(&status.Conditions, c)
	}
	return status
}

// sameStatus says whether two statuses are equal, as equality.Semantic
// does. The member and overlap lists, up to a hundred entries each, are
// compared as typed slices first: the reflective comparison allocates for
// every entry, which would be most of the allocations of a pod event.
func sameStatus(a, b v1alpha1.LabelGroupStatus) bool {
	if !slices.Equal(a.Members, b.Members) || !slices.Equal(a.Overlaps, b.Overlaps) {
		return false
	}
	a.Members, b.Members, a.Overlaps, b.Overlaps = nil, nil, nil, nil
	return equality.Semantic.DeepEqual(a, b)
}

// firstOverlaps returns the first limit overlaps (they come sorted by name);
// nil when it lists none, as a status read back from the API server has.
func firstOverlaps(overlaps []v1alpha1.Overlap, limit int) []v1alpha1.Overlap {
	if len(overlaps) == 0 || limit <= 0 {
		return nil
	}
	return overlaps[:min(len(overlaps), limit)]
}

// stalledCondition is Stalled=True while the selector cannot be evaluated, so
// that kstatus reads the group as Failed; ok is false when the group is not
// stalled and must carry no Stalled condition.
func stalledCondition(result grouping.Result, generation int64) (metav1.Condition, bool) {
	if result.SelectorErr == nil {
		return metav1.Condition{}, false
	}
	return metav1.Condition{
		Type:               v1alpha1.ConditionStalled,
		Status:             metav1.ConditionTrue,
		Reason:             v1alpha1.ReasonInvalidSelector,
		Message:            "The operator cannot make progress until spec.selector is fixed; see the Ready condition",
		ObservedGeneration: generation,
	}, true
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
// one. Its message gives the exact number of such groups and names the first
// few (by name) with the number of pods each shares, then says how many more
// there are: a message that named them all outgrew the API server's limit at
// a few hundred groups.
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
	parts := make([]string, 0, overlapsNamed+1)
	for i, o := range result.Overlaps {
		if o.SharedMembers > 0 {
			condition.Reason = v1alpha1.ReasonMembersShared
		}
		switch {
		case i >= overlapsNamed:
		case o.SharedMembers == 0:
			parts = append(parts, fmt.Sprintf("%s (selectors intersect, no pod shared yet)", o.Name))
		default:
			parts = append(parts, fmt.Sprintf("%s (%d shared %s)", o.Name, o.SharedMembers, plural(int(o.SharedMembers), "pod", "pods")))
		}
	}
	count := len(result.Overlaps)
	if more := count - len(parts); more > 0 {
		parts = append(parts, fmt.Sprintf("and %d more", more))
	}
	condition.Message = fmt.Sprintf("Overlaps %d other %s: %s", count, plural(count, "LabelGroup", "LabelGroups"), strings.Join(parts, ", "))
	return condition
}

// eventNote is the note of the event of a transition: the condition's message,
// cut to what events.k8s.io accepts.
func eventNote(message string) string {
	return truncate(message, MaxEventNoteBytes)
}

// truncate returns s when it has at most limit bytes. Otherwise it cuts s on a
// rune boundary and appends how many characters it cut, so that the result
// has at most limit bytes. limit must leave room for that suffix (30 bytes).
func truncate(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	// Cut for the suffix of every character first; each shorter suffix, for
	// the characters actually cut, moves the cut right, never left of room.
	more := utf8.RuneCountInString(s)
	for {
		cut := max(limit-len(cutSuffix(more)), 0)
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		cutMore := utf8.RuneCountInString(s[cut:])
		if len(cutSuffix(cutMore)) == len(cutSuffix(more)) {
			return s[:cut] + cutSuffix(cutMore)
		}
		more = cutMore
	}
}

func cutSuffix(more int) string {
	return fmt.Sprintf(" [%d more %s cut]", more, plural(more, "character", "characters"))
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
