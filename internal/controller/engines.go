package controller

import (
	"sync"

	"github.com/labelgroup/labelgroup-operator/internal/grouping"
)

// namespaceEngines holds one incremental engine per namespace that has
// groups, so that a reconcile after one pod event reuses the work of the
// namespace's last reconcile instead of matching every pod against every
// group again. Reconciles of one namespace never run at once, so an engine is
// only ever used by one of them; the mutex guards the map, which reconciles of
// different namespaces share.
type namespaceEngines struct {
	mu      sync.Mutex
	engines map[string]*grouping.Incremental
}

// compute returns what grouping.Compute returns for the namespace's pods and
// groups. A namespace with no group gets no engine: it would only hold the
// state of its pods.
func (n *namespaceEngines) compute(namespace string, pods []grouping.Pod, groups []grouping.Group, memberLimit int) []grouping.Result {
	if len(groups) == 0 {
		return grouping.Compute(pods, groups, memberLimit)
	}
	return n.engine(namespace).Compute(pods, groups, memberLimit)
}

func (n *namespaceEngines) engine(namespace string) *grouping.Incremental {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.engines == nil {
		n.engines = map[string]*grouping.Incremental{}
	}
	engine := n.engines[namespace]
	if engine == nil {
		engine = &grouping.Incremental{}
		n.engines[namespace] = engine
	}
	return engine
}

// forget drops the engine of a namespace that has no group, and the state of
// its pods with it.
func (n *namespaceEngines) forget(namespace string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.engines, namespace)
}
