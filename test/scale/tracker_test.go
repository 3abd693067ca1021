package main

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

func slice(name, service string, pods ...string) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name,
		Labels: map[string]string{discoveryv1.LabelServiceName: service}}}
	for _, p := range pods {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: p}})
	}
	return s
}

func group(name string, generation, observed int64, members ...string) *v1alpha1.LabelGroup {
	return &v1alpha1.LabelGroup{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Generation: generation},
		Status:     v1alpha1.LabelGroupStatus{ObservedGeneration: observed, MemberCount: int32(len(members)), Members: members},
	}
}

// The tracker must call a tool right only when its record is exactly the truth.
func TestTrackerJudgesBothTools(t *testing.T) {
	tr := newTracker(2)
	k := key{"ns", "g"}
	tr.expect(k, map[string]bool{"a": true, "b": true, "c": true})
	wrong := func(tl tool) bool { return tr.wrong[tl][k] }

	tr.sliceChanged(slice("g-1", "g", "a", "b"), false)
	if !wrong(endpointSlices) {
		t.Error("a slice missing pod c was judged right")
	}
	tr.sliceChanged(slice("g-2", "g", "c"), false)
	if wrong(endpointSlices) {
		t.Error("two slices holding exactly a, b, c were judged wrong")
	}
	if tr.lastRight[endpointSlices].IsZero() {
		t.Error("the moment the last wrong Service became right was not recorded")
	}
	tr.sliceChanged(slice("g-2", "g", "c", "x"), false)
	if !wrong(endpointSlices) {
		t.Error("a slice with a pod that is not a member was judged right")
	}

	// Members are capped at the limit (2) and sorted; the count stays exact.
	tr.groupChanged(group("g", 2, 1, "a", "b"), false)
	if !wrong(operator) {
		t.Error("a status of an older generation was judged right")
	}
	tr.groupChanged(group("g", 2, 2, "a", "b"), true)
	if !wrong(operator) {
		t.Error("a status counting 2 of 3 members was judged right")
	}
	right := group("g", 2, 2, "a", "b")
	right.Status.MemberCount = 3
	tr.groupChanged(right, true)
	if wrong(operator) {
		t.Error("an exact status (count 3, first two names) was judged wrong")
	}
	tr.expect(key{"ns", "h"}, map[string]bool{})
	tr.move(k, key{"ns", "h"}, "a")
	if !wrong(operator) || !wrong(endpointSlices) {
		t.Error("after pod a moved out, old records were still judged right")
	}
	if got := tr.writeCounts(); got[operator] != 2 || got[endpointSlices] != 3 {
		t.Errorf("writes counted %v, want 3 EndpointSlice writes and 2 status updates", got)
	}
}

// rightAgain waits for one tool only, and says when it got its last record
// right.
func TestRightAgainWaitsForOneTool(t *testing.T) {
	tr := newTracker(10)
	k := key{"ns", "solo-g"}
	tr.expect(k, map[string]bool{"a": true})
	ctx := context.Background()
	if _, err := tr.rightAgain(ctx, operator, 20*time.Millisecond); err == nil {
		t.Fatal("rightAgain returned while the group had no status")
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		tr.groupChanged(group("solo-g", 1, 1, "a"), true)
	}()
	last, err := tr.rightAgain(ctx, operator, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if last.IsZero() {
		t.Error("the moment the group became right was not recorded")
	}
	// The EndpointSlice controller's record is still wrong: a solo wait for
	// the operator must not wait for it.
	if !tr.wrong[endpointSlices][k] {
		t.Error("the Service with no slice was judged right")
	}
}
