package controller

import (
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

func groupAt(name, resourceVersion string, members int32) *v1alpha1.LabelGroup {
	return &v1alpha1.LabelGroup{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, ResourceVersion: resourceVersion},
		Status:     v1alpha1.LabelGroupStatus{MemberCount: members},
	}
}

func TestOwnWritesLatest(t *testing.T) {
	tests := []struct {
		name           string
		written        *v1alpha1.LabelGroup // nil: no write remembered
		cached         *v1alpha1.LabelGroup
		wantMembers    int32
		wantRemembered bool
	}{
		{name: "nothing written reads the cache", cached: groupAt("web", "10", 1), wantMembers: 1},
		{name: "a cache behind the write reads the write", written: groupAt("web", "12", 2), cached: groupAt("web", "9", 1), wantMembers: 2, wantRemembered: true},
		{name: "a cache at the write reads the cache and forgets the write", written: groupAt("web", "12", 2), cached: groupAt("web", "12", 2), wantMembers: 2},
		{name: "a cache past the write (another writer) reads the cache", written: groupAt("web", "12", 2), cached: groupAt("web", "100", 3), wantMembers: 3},
		{name: "versions that are not ordered integers read the cache", written: groupAt("web", "b", 2), cached: groupAt("web", "a", 1), wantMembers: 1},
		{name: "a write of another group is not read", written: groupAt("api", "12", 2), cached: groupAt("web", "9", 1), wantMembers: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o ownWrites
			if tt.written != nil {
				o.wrote(tt.written)
			}
			if got := o.latest(tt.cached); got.Status.MemberCount != tt.wantMembers {
				t.Errorf("latest() has memberCount %d, want %d", got.Status.MemberCount, tt.wantMembers)
			}
			_, remembered := o.written[keyOf(tt.cached)]
			if remembered != tt.wantRemembered {
				t.Errorf("write of %s remembered: %v, want %v", tt.cached.Name, remembered, tt.wantRemembered)
			}
		})
	}
}

func TestSkipEchoes(t *testing.T) {
	var o ownWrites
	o.wrote(groupAt("web", "12", 2))
	o.wrote(groupAt("bad", "x", 2))
	skip := o.skipEchoes()
	update := func(g *v1alpha1.LabelGroup) bool {
		return skip.Update(event.UpdateEvent{ObjectOld: groupAt(g.Name, "1", 0), ObjectNew: g})
	}
	if update(groupAt("web", "12", 2)) {
		t.Error("the echo of the operator's own write brought the namespace back")
	}
	if !update(groupAt("web", "11", 1)) {
		t.Error("an older version, still on its way to the cache, was dropped")
	}
	if !update(groupAt("web", "13", 2)) {
		t.Error("another writer's version was dropped")
	}
	if !update(groupAt("api", "12", 2)) {
		t.Error("a version of a group the operator did not write was dropped")
	}
	if !update(groupAt("bad", "x", 2)) {
		t.Error("a version that is not an ordered integer was dropped")
	}
	if !skip.Create(event.CreateEvent{Object: groupAt("web", "12", 2)}) {
		t.Error("a create was dropped")
	}
	if !skip.Delete(event.DeleteEvent{Object: groupAt("web", "14", 2)}) {
		t.Error("a delete was dropped")
	}
	if _, ok := o.written[keyOf(groupAt("web", "", 0))]; ok {
		t.Error("a deleted group's write is still remembered")
	}
}

func TestStalestFirst(t *testing.T) {
	var o ownWrites
	keys := []types.NamespacedName{{Namespace: "shop", Name: "a"}, {Namespace: "shop", Name: "b"}, {Namespace: "shop", Name: "c"}, {Namespace: "shop", Name: "d"}}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	o.tookTurn(keys[0], base.Add(3*time.Second))
	o.tookTurn(keys[1], base.Add(1*time.Second))
	o.tookTurn(keys[3], base.Add(2*time.Second))
	indexes := []int{0, 1, 2, 3}
	o.stalestFirst(keys, indexes)
	// c was never written, then b, d and a by the time of their last turn.
	if want := []int{2, 1, 3, 0}; !slices.Equal(indexes, want) {
		t.Errorf("stalestFirst() = %v, want %v", indexes, want)
	}
	o.forget(&v1alpha1.LabelGroup{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "a"}})
	indexes = []int{0, 1}
	o.stalestFirst(keys, indexes)
	if want := []int{0, 1}; !slices.Equal(indexes, want) {
		t.Errorf("after a is deleted, stalestFirst() = %v, want %v", indexes, want)
	}
}

func TestNamespaceEvents(t *testing.T) {
	var e namespaceEvents
	seen := e.count("shop")
	e.add("other")
	if e.count("shop") != seen {
		t.Error("an event of another namespace supersedes a reconcile of shop")
	}
	e.add("shop")
	if e.count("shop") == seen {
		t.Error("an event of shop does not supersede a reconcile of shop")
	}
	e.forget("shop")
	if e.count("shop") != 0 {
		t.Errorf("a forgotten namespace counts %d events", e.count("shop"))
	}
}

// The watch event of a patch can arrive before the patch's answer.
func TestSkipEchoesBeforeTheAnswer(t *testing.T) {
	var o ownWrites
	sent := groupAt("web", "", 2)
	sent.Generation = 3
	sent.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue,
		LastTransitionTime: metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 123456789, time.UTC))}}
	o.writing(sent)
	skip := o.skipEchoes()
	stored := func(generation int64, members int32) *v1alpha1.LabelGroup {
		g := groupAt("web", "40", members)
		g.Generation = generation
		// As read back: the condition time to the second.
		g.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue,
			LastTransitionTime: metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}}
		return g
	}
	update := func(g *v1alpha1.LabelGroup) bool {
		return skip.Update(event.UpdateEvent{ObjectOld: groupAt("web", "1", 0), ObjectNew: g})
	}
	if update(stored(3, 2)) {
		t.Error("the echo of a patch still in flight brought the namespace back")
	}
	if !update(stored(3, 5)) {
		t.Error("a version with another status was dropped")
	}
	if !update(stored(4, 2)) {
		t.Error("a version of a new generation was dropped")
	}
	o.notWritten(sent)
	if !update(stored(3, 2)) {
		t.Error("a version was dropped as the echo of a patch that failed")
	}
}
