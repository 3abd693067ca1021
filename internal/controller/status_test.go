package controller

import (
	"errors"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/grouping"
)

func overlap(name string, shared int32) v1alpha1.Overlap {
	return v1alpha1.Overlap{Name: name, SharedMembers: shared}
}

func TestReadyCondition(t *testing.T) {
	tests := []struct {
		name   string
		result grouping.Result
		want   metav1.Condition
	}{{
		name:   "valid selector",
		result: grouping.Result{MemberCount: 3},
		want:   metav1.Condition{Type: "Ready", Status: "True", Reason: "Reconciled", Message: "Selects 3 pods", ObservedGeneration: 7},
	}, {
		name:   "one member",
		result: grouping.Result{MemberCount: 1},
		want:   metav1.Condition{Type: "Ready", Status: "True", Reason: "Reconciled", Message: "Selects 1 pod", ObservedGeneration: 7},
	}, {
		name:   "invalid selector",
		result: grouping.Result{SelectorErr: errors.New(`key "a b" is invalid`)},
		want:   metav1.Condition{Type: "Ready", Status: "False", Reason: "InvalidSelector", Message: `spec.selector is invalid: key "a b" is invalid`, ObservedGeneration: 7},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := readyCondition(tt.result, 7); got != tt.want {
				t.Errorf("readyCondition() =\n %+v, want\n %+v", got, tt.want)
			}
		})
	}
}

func TestOverlappingCondition(t *testing.T) {
	tests := []struct {
		name   string
		result grouping.Result
		want   metav1.Condition
	}{{
		name:   "no overlap",
		result: grouping.Result{MemberCount: 2},
		want:   metav1.Condition{Type: "Overlapping", Status: "False", Reason: "NoOverlap", Message: "No other LabelGroup of the namespace overlaps this one", ObservedGeneration: 4},
	}, {
		name:   "one group shares one pod",
		result: grouping.Result{Overlaps: []v1alpha1.Overlap{overlap("backend", 1)}},
		want:   metav1.Condition{Type: "Overlapping", Status: "True", Reason: "MembersShared", Message: "Overlaps 1 other LabelGroup: backend (1 shared pod)", ObservedGeneration: 4},
	}, {
		name:   "selectors intersect, no pod shared",
		result: grouping.Result{Overlaps: []v1alpha1.Overlap{overlap("canary", 0)}},
		want:   metav1.Condition{Type: "Overlapping", Status: "True", Reason: "SelectorsIntersect", Message: "Overlaps 1 other LabelGroup: canary (selectors intersect, no pod shared yet)", ObservedGeneration: 4},
	}, {
		name:   "any shared pod makes the reason MembersShared",
		result: grouping.Result{Overlaps: []v1alpha1.Overlap{overlap("a", 0), overlap("b", 5)}},
		want:   metav1.Condition{Type: "Overlapping", Status: "True", Reason: "MembersShared", Message: "Overlaps 2 other LabelGroups: a (selectors intersect, no pod shared yet), b (5 shared pods)", ObservedGeneration: 4},
	}, {
		name:   "invalid selector overlaps nothing",
		result: grouping.Result{SelectorErr: errors.New("bad")},
		want:   metav1.Condition{Type: "Overlapping", Status: "False", Reason: "NoOverlap", Message: "The selector is invalid, so the group has no members and overlaps no other group", ObservedGeneration: 4},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := overlappingCondition(tt.result, 4); got != tt.want {
				t.Errorf("overlappingCondition() =\n %+v, want\n %+v", got, tt.want)
			}
		})
	}
}

func conditions(overlapping metav1.ConditionStatus) []metav1.Condition {
	if overlapping == "" {
		return nil
	}
	return []metav1.Condition{{Type: "Overlapping", Status: overlapping}}
}

func TestOverlapTransition(t *testing.T) {
	tests := []struct {
		name          string
		before, after metav1.ConditionStatus
		wantType      string
		wantReason    string
		wantEvent     bool
	}{
		{name: "first seen overlapping", before: "", after: "True", wantType: "Warning", wantReason: "OverlapDetected", wantEvent: true},
		{name: "starts overlapping", before: "False", after: "True", wantType: "Warning", wantReason: "OverlapDetected", wantEvent: true},
		{name: "stops overlapping", before: "True", after: "False", wantType: "Normal", wantReason: "OverlapResolved", wantEvent: true},
		{name: "first seen not overlapping", before: "", after: "False"},
		{name: "still overlapping", before: "True", after: "True"},
		{name: "still not overlapping", before: "False", after: "False"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotType, gotReason, gotEvent := overlapTransition(conditions(tt.before), conditions(tt.after))
			if gotType != tt.wantType || gotReason != tt.wantReason || gotEvent != tt.wantEvent {
				t.Errorf("overlapTransition() = (%q, %q, %v), want (%q, %q, %v)", gotType, gotReason, gotEvent, tt.wantType, tt.wantReason, tt.wantEvent)
			}
		})
	}
}

func TestComputeStatus(t *testing.T) {
	earlier := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	now := metav1.NewTime(earlier.Add(time.Hour))
	overlapping := grouping.Result{
		Name: "web", Selector: "tier=web", MemberCount: 3, Members: []string{"a", "b", "c"},
		Overlaps: []v1alpha1.Overlap{overlap("all", 3)},
	}

	first := computeStatus(v1alpha1.LabelGroupStatus{}, 2, overlapping, 100, earlier)
	if first.ObservedGeneration != 2 || first.Selector != "tier=web" || first.MemberCount != 3 || len(first.Members) != 3 || len(first.Overlaps) != 1 {
		t.Fatalf("computeStatus() did not copy the result: %+v", first)
	}
	for _, c := range first.Conditions {
		if c.ObservedGeneration != 2 || !c.LastTransitionTime.Equal(&earlier) {
			t.Errorf("condition %s: observedGeneration %d, lastTransitionTime %v; want 2 and %v", c.Type, c.ObservedGeneration, c.LastTransitionTime, earlier)
		}
	}

	t.Run("nothing new: equal to the stored status", func(t *testing.T) {
		again := computeStatus(first, 2, overlapping, 100, now)
		if !equality.Semantic.DeepEqual(first, again) {
			t.Errorf("a reconcile with nothing new changed the status:\n %+v\n %+v", first, again)
		}
	})

	t.Run("a new generation moves observedGeneration but not lastTransitionTime", func(t *testing.T) {
		next := computeStatus(first, 3, overlapping, 100, now)
		ready := meta.FindStatusCondition(next.Conditions, "Ready")
		if next.ObservedGeneration != 3 || ready.ObservedGeneration != 3 || !ready.LastTransitionTime.Equal(&earlier) {
			t.Errorf("got observedGeneration %d, Ready %+v", next.ObservedGeneration, ready)
		}
	})

	t.Run("a real transition moves lastTransitionTime", func(t *testing.T) {
		resolved := overlapping
		resolved.Overlaps = nil
		next := computeStatus(first, 2, resolved, 100, now)
		c := meta.FindStatusCondition(next.Conditions, "Overlapping")
		if c.Status != metav1.ConditionFalse || !c.LastTransitionTime.Equal(&now) {
			t.Errorf("Overlapping = %+v, want False since %v", c, now)
		}
		ready := meta.FindStatusCondition(next.Conditions, "Ready")
		if !ready.LastTransitionTime.Equal(&earlier) {
			t.Errorf("Ready moved its lastTransitionTime to %v without a transition", ready.LastTransitionTime)
		}
	})

	t.Run("the old status is not modified", func(t *testing.T) {
		before := first.DeepCopy()
		_ = computeStatus(first, 5, grouping.Result{SelectorErr: errors.New("bad")}, 100, now)
		if !equality.Semantic.DeepEqual(before, &first) {
			t.Errorf("computeStatus modified its input")
		}
	})
}
