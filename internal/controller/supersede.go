package controller

import (
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// namespaceEvents counts the events that brought each namespace back to the
// queue, so that a reconcile can tell whether a newer one waits behind it.
type namespaceEvents struct {
	mu     sync.Mutex
	counts map[string]uint64
}

func (e *namespaceEvents) add(namespace string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.counts == nil {
		e.counts = map[string]uint64{}
	}
	e.counts[namespace]++
}

func (e *namespaceEvents) count(namespace string) uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.counts[namespace]
}

// forget drops the count of a namespace that has no group: only a reconcile
// of that namespace, which is never concurrent with another one, reads it.
func (e *namespaceEvents) forget(namespace string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.counts, namespace)
}

// stalestFirst orders the groups to write so that the ones written longest ago
// (never, first) go first. A reconcile superseded by a newer event stops after
// its first round of writes (see writeStatuses); this order makes every group
// get its turn however long the churn lasts.
func (o *ownWrites) stalestFirst(keys []types.NamespacedName, indexes []int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	slices.SortStableFunc(indexes, func(a, b int) int {
		return o.turns[keys[a]].Compare(o.turns[keys[b]])
	})
}

// tookTurn records when a group's status was last written or found right.
func (o *ownWrites) tookTurn(key types.NamespacedName, at time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.turns == nil {
		o.turns = map[types.NamespacedName]time.Time{}
	}
	o.turns[key] = at
}
