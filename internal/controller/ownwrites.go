package controller

import (
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/resourceversion"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

// ownWrites remembers the LabelGroups this operator last wrote, as the API
// server returned them, until the cache holds that version or a newer one.
//
// It serves two purposes. The watch event of a version this operator wrote
// brings nothing the operator did not just compute from one consistent read,
// so it does not bring the namespace back: under a burst of relabels that
// would double the reconciles.
// And a reconcile that runs before the cache has caught up with an earlier
// write reads the written version instead of the stale one: it compares its
// result with what the server holds, patches on top of it, and does not lose
// a conflict whose retry would have hung on the watch event dropped above.
//
// Versions are ordered with apimachinery's CompareResourceVersion. Where the
// server's resourceVersions are not ordered integers it falls back to the
// cache, and every event brings the namespace back.
type ownWrites struct {
	mu      sync.Mutex
	written map[types.NamespacedName]*v1alpha1.LabelGroup
	pending map[types.NamespacedName]*v1alpha1.LabelGroup // sent, no answer yet
	turns   map[types.NamespacedName]time.Time            // see stalestFirst
}

// writing records a status patch about to be sent. Its watch event may arrive
// before the patch's answer: an event of the same generation with the same
// status is then recognised as its echo too (and were it another writer's, it
// would still bring nothing to compute).
func (o *ownWrites) writing(group *v1alpha1.LabelGroup) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.pending == nil {
		o.pending = map[types.NamespacedName]*v1alpha1.LabelGroup{}
	}
	sent := group.DeepCopy()
	// The API server keeps condition times to the second.
	for i := range sent.Status.Conditions {
		c := &sent.Status.Conditions[i]
		c.LastTransitionTime = metav1.NewTime(c.LastTransitionTime.Truncate(time.Second))
	}
	o.pending[keyOf(group)] = sent
}

// notWritten forgets a patch that failed.
func (o *ownWrites) notWritten(group *v1alpha1.LabelGroup) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.pending, keyOf(group))
}

// wrote records a group as the API server returned it after a write.
func (o *ownWrites) wrote(group *v1alpha1.LabelGroup) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.written == nil {
		o.written = map[types.NamespacedName]*v1alpha1.LabelGroup{}
	}
	o.written[keyOf(group)] = group
	delete(o.pending, keyOf(group))
}

func keyOf(group *v1alpha1.LabelGroup) types.NamespacedName {
	return types.NamespacedName{Namespace: group.Namespace, Name: group.Name}
}

// latest returns the newer of the cached group and the version this operator
// last wrote, and forgets the write once the cache has caught up with it.
func (o *ownWrites) latest(cached *v1alpha1.LabelGroup) *v1alpha1.LabelGroup {
	o.mu.Lock()
	defer o.mu.Unlock()
	key := keyOf(cached)
	written, ok := o.written[key]
	if !ok {
		return cached
	}
	cmp, err := resourceversion.CompareResourceVersion(cached.ResourceVersion, written.ResourceVersion)
	if err != nil || cmp >= 0 {
		delete(o.written, key)
		return cached
	}
	return written.DeepCopy() // the caller may change it (finalizers)
}

// isEcho tells whether group is exactly the version this operator wrote last.
func (o *ownWrites) isEcho(group *v1alpha1.LabelGroup) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if sent, ok := o.pending[keyOf(group)]; ok && sent.Generation == group.Generation &&
		sameStatus(sent.Status, group.Status) {
		return true
	}
	written, ok := o.written[keyOf(group)]
	if !ok {
		return false
	}
	cmp, err := resourceversion.CompareResourceVersion(group.ResourceVersion, written.ResourceVersion)
	return err == nil && cmp == 0
}

// forget drops what is remembered of a deleted group.
func (o *ownWrites) forget(group *v1alpha1.LabelGroup) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.written, keyOf(group))
	delete(o.pending, keyOf(group))
	delete(o.turns, keyOf(group))
}

// skipEchoes is the predicate of the LabelGroup watch: every event but the
// echo of this operator's own last write brings the namespace back.
func (o *ownWrites) skipEchoes() predicate.Funcs {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			group, ok := e.ObjectNew.(*v1alpha1.LabelGroup)
			return !ok || !o.isEcho(group)
		},
		DeleteFunc: func(e event.DeleteEvent) bool {
			if group, ok := e.Object.(*v1alpha1.LabelGroup); ok {
				o.forget(group)
			}
			return true
		},
	}
}
