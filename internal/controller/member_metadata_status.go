package controller

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

// withMetadataOutcome folds what stamping found into the status computed for
// the group, so that the group still gets one status write: the summary, and
// the MetadataApplied condition, or none for a group without memberMetadata.
func withMetadataOutcome(status v1alpha1.LabelGroupStatus, outcome metadataOutcome, now metav1.Time) v1alpha1.LabelGroupStatus {
	status.MemberMetadata = outcome.summary
	if outcome.condition == nil {
		meta.RemoveStatusCondition(&status.Conditions, v1alpha1.ConditionMetadataApplied)
		return status
	}
	c := *outcome.condition
	c.LastTransitionTime = now
	meta.SetStatusCondition(&status.Conditions, c)
	return status
}

// stampingDisabledCondition says plainly that a group's memberMetadata is not
// stamped because the manager runs without --enable-member-metadata.
func stampingDisabledCondition(generation int64) *metav1.Condition {
	return &metav1.Condition{
		Type:               v1alpha1.ConditionMetadataApplied,
		Status:             metav1.ConditionFalse,
		Reason:             v1alpha1.ReasonStampingDisabled,
		Message:            "Stamping is off: the manager runs without --enable-member-metadata, so spec.memberMetadata is not applied to any pod",
		ObservedGeneration: generation,
	}
}

// metadataCondition is MetadataApplied for a group that stamps: False when a
// label key is refused or another group's value is kept, True otherwise, with
// MemberValuesKept when some members keep values of their own.
func metadataCondition(s *v1alpha1.MemberMetadataStatus, generation int64) *metav1.Condition {
	c := &metav1.Condition{
		Type:               v1alpha1.ConditionMetadataApplied,
		Status:             metav1.ConditionTrue,
		Reason:             v1alpha1.ReasonApplied,
		ObservedGeneration: generation,
	}
	carry := fmt.Sprintf("%d %s all of the group's metadata", s.MembersComplete, plural(int(s.MembersComplete), "member carries", "members carry"))
	switch {
	case len(s.RefusedLabelKeys) > 0:
		c.Status, c.Reason = metav1.ConditionFalse, v1alpha1.ReasonLabelKeyInSelector
		c.Message = fmt.Sprintf("Not stamping label %s %s: a selector of a LabelGroup of the namespace uses %s, and stamping would move pods between groups; %s",
			plural(len(s.RefusedLabelKeys), "key", "keys"), strings.Join(s.RefusedLabelKeys, ", "), plural(len(s.RefusedLabelKeys), "it", "them"), carry)
	case s.KeptByGroup > 0:
		c.Status, c.Reason = metav1.ConditionFalse, v1alpha1.ReasonConflictsWithGroup
		c.Message = fmt.Sprintf("%d %s another LabelGroup's value: %s; %s",
			s.KeptByGroup, plural(int(s.KeptByGroup), "key keeps", "keys keep"), keptExamples(s.Kept, true), carry)
	case s.KeptByMember > 0:
		c.Reason = v1alpha1.ReasonMemberValuesKept
		c.Message = fmt.Sprintf("%d %s the pod's own value: %s; %s",
			s.KeptByMember, plural(int(s.KeptByMember), "key keeps", "keys keep"), keptExamples(s.Kept, false), carry)
	default:
		c.Message = fmt.Sprintf("All %d members carry all of the group's metadata", s.MembersComplete)
	}
	c.Message = truncate(c.Message, MaxConditionMessageBytes)
	return c
}

// keptExamples lists the examples of status.memberMetadata.kept that were kept
// by another group (byGroup) or by the member, e.g.
// `label team of pod web-1 (kept by billing)`.
func keptExamples(kept []v1alpha1.KeptKey, byGroup bool) string {
	var parts []string
	for _, k := range kept {
		if (k.KeptBy != "") != byGroup {
			continue
		}
		part := fmt.Sprintf("%s %s of pod %s", strings.ToLower(string(k.Kind)), k.Key, k.Pod)
		if byGroup {
			part += " (kept by " + k.KeptBy + ")"
		}
		parts = append(parts, part)
	}
	if len(parts) == 0 {
		return "see status.memberMetadata"
	}
	return strings.Join(parts, ", ")
}

// metadataTransition tells which event, if any, a change of the
// MetadataApplied condition deserves: one whenever its reason changes (a
// group first seen with Applied included), Warning when it is False.
func metadataTransition(before, after []metav1.Condition) (eventType, reason, message string, ok bool) {
	now := meta.FindStatusCondition(after, v1alpha1.ConditionMetadataApplied)
	if now == nil {
		return "", "", "", false
	}
	if was := meta.FindStatusCondition(before, v1alpha1.ConditionMetadataApplied); was != nil && was.Reason == now.Reason {
		return "", "", "", false
	}
	eventType = "Normal"
	if now.Status == metav1.ConditionFalse {
		eventType = "Warning"
	}
	return eventType, now.Reason, now.Message, true
}
