package controller

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

func TestMetadataCondition(t *testing.T) {
	byMember := v1alpha1.KeptKey{Pod: "web-1", Kind: v1alpha1.MetadataKindLabel, Key: "team"}
	byGroup := v1alpha1.KeptKey{Pod: "web-2", Kind: v1alpha1.MetadataKindAnnotation, Key: "note", KeptBy: "billing"}
	tests := []struct {
		name        string
		status      v1alpha1.MemberMetadataStatus
		want        string
		wantMessage string
	}{
		{"every member carries everything", v1alpha1.MemberMetadataStatus{MembersComplete: 3},
			"True/Applied", "All 3 members carry all of the group's metadata"},
		{"a member keeps its own value", v1alpha1.MemberMetadataStatus{MembersComplete: 1, KeptByMember: 1, Kept: []v1alpha1.KeptKey{byMember}},
			"True/MemberValuesKept", "1 key keeps the pod's own value: label team of pod web-1; 1 member carries all"},
		{"another group keeps a key", v1alpha1.MemberMetadataStatus{KeptByMember: 1, KeptByGroup: 1, Kept: []v1alpha1.KeptKey{byMember, byGroup}},
			"False/ConflictsWithGroup", "1 key keeps another LabelGroup's value: annotation note of pod web-2 (kept by billing)"},
		{"a refused label key comes first", v1alpha1.MemberMetadataStatus{KeptByGroup: 1, Kept: []v1alpha1.KeptKey{byGroup}, RefusedLabelKeys: []string{"env", "tier"}},
			"False/LabelKeyInSelector", "Not stamping label keys env, tier: a selector of a LabelGroup of the namespace uses them"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := metadataCondition(&tt.status, 7)
			if got := string(c.Status) + "/" + c.Reason; got != tt.want {
				t.Errorf("condition = %s, want %s", got, tt.want)
			}
			if !strings.Contains(c.Message, tt.wantMessage) {
				t.Errorf("message = %q, want it to contain %q", c.Message, tt.wantMessage)
			}
			if c.ObservedGeneration != 7 {
				t.Errorf("observedGeneration = %d, want 7", c.ObservedGeneration)
			}
		})
	}
}

func TestWithMetadataOutcome(t *testing.T) {
	then := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	now := metav1.NewTime(then.Add(time.Hour))
	applied := metadataCondition(&v1alpha1.MemberMetadataStatus{MembersComplete: 1}, 1)
	old := v1alpha1.LabelGroupStatus{Conditions: []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: "Reconciled", LastTransitionTime: then}}}

	withCondition := withMetadataOutcome(old, metadataOutcome{summary: &v1alpha1.MemberMetadataStatus{MembersComplete: 1}, condition: applied}, then)
	again := withMetadataOutcome(withCondition, metadataOutcome{summary: &v1alpha1.MemberMetadataStatus{MembersComplete: 1}, condition: applied}, now)
	if got := meta.FindStatusCondition(again.Conditions, v1alpha1.ConditionMetadataApplied).LastTransitionTime; !got.Equal(&then) {
		t.Errorf("lastTransitionTime moved to %v with no transition", got)
	}
	if again.MemberMetadata.MembersComplete != 1 {
		t.Errorf("the summary was not folded in: %+v", again.MemberMetadata)
	}

	without := withMetadataOutcome(again, metadataOutcome{}, now)
	if meta.FindStatusCondition(without.Conditions, v1alpha1.ConditionMetadataApplied) != nil || without.MemberMetadata != nil {
		t.Errorf("a group without memberMetadata kept the condition or summary: %+v", without)
	}
	if meta.FindStatusCondition(without.Conditions, v1alpha1.ConditionReady) == nil {
		t.Error("removing MetadataApplied removed another condition")
	}
}

func TestMetadataTransition(t *testing.T) {
	cond := func(status metav1.ConditionStatus, reason string) []metav1.Condition {
		return []metav1.Condition{{Type: v1alpha1.ConditionMetadataApplied, Status: status, Reason: reason}}
	}
	tests := []struct {
		name          string
		before, after []metav1.Condition
		want          string
	}{
		{"first seen applied", nil, cond(metav1.ConditionTrue, v1alpha1.ReasonApplied), "Normal/Applied"},
		{"no change", cond(metav1.ConditionTrue, v1alpha1.ReasonApplied), cond(metav1.ConditionTrue, v1alpha1.ReasonApplied), ""},
		{"a conflict starts", cond(metav1.ConditionTrue, v1alpha1.ReasonApplied), cond(metav1.ConditionFalse, v1alpha1.ReasonConflictsWithGroup), "Warning/ConflictsWithGroup"},
		{"a member value is kept", cond(metav1.ConditionFalse, v1alpha1.ReasonConflictsWithGroup), cond(metav1.ConditionTrue, v1alpha1.ReasonMemberValuesKept), "Normal/MemberValuesKept"},
		{"memberMetadata removed", cond(metav1.ConditionTrue, v1alpha1.ReasonApplied), nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eventType, reason, _, ok := metadataTransition(tt.before, tt.after)
			got := ""
			if ok {
				got = eventType + "/" + reason
			}
			if got != tt.want {
				t.Errorf("event = %q, want %q", got, tt.want)
			}
		})
	}
}
