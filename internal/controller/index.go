package controller

import (
	"slices"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/grouping"
)

// namespaceIndex is the reconciler's own view of every namespace: one
// grouping.Engine per namespace, fed by the pod and LabelGroup informers'
// event handlers as they deliver each change of the cache, and the groups
// whose status must be looked at again. The informer hands every change to
// its handlers, those of a relist included (updates for what is still there,
// deletions, tombstones too, for what went while it was not watching), so the
// index holds what the cache holds once the handlers have run.
//
// A reconcile then costs what changed: it takes, under the namespace's lock,
// the results of the groups whose result changed and of those an event
// named, all from the engine's one state, and compares, writes and publishes
// those alone. A group not taken has the status it was last written with,
// and its result has not changed since.
type namespaceIndex struct {
	memberLimit int

	mu         sync.Mutex
	namespaces map[string]*namespaceState
}

type namespaceState struct {
	mu     sync.Mutex
	engine *grouping.Engine
	groups map[string]*v1alpha1.LabelGroup // as the informer delivered them; never written
	// dirty are the groups to compare again whatever their result: an event
	// named them, or their last write did not happen.
	dirty map[string]struct{}
	// stamping are the groups that stamp member metadata or hold its
	// finalizer: while there are any, every reconcile plans over the
	// namespace's pods and looks at every group (see Reconcile).
	stamping map[string]struct{}
}

// namespaceView is what a reconcile takes of a namespace: the groups to look
// at (copies, sorted by name) and their results, all from one state of the
// engine, and the names of the groups that are gone.
type namespaceView struct {
	groups    []v1alpha1.LabelGroup
	results   []grouping.Result
	gone      []string
	hasGroups bool
	stamping  bool
}

func (n *namespaceIndex) state(namespace string) *namespaceState {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.namespaces == nil {
		n.namespaces = map[string]*namespaceState{}
	}
	s := n.namespaces[namespace]
	if s == nil {
		s = &namespaceState{engine: grouping.NewEngine(n.memberLimit), groups: map[string]*v1alpha1.LabelGroup{},
			dirty: map[string]struct{}{}, stamping: map[string]struct{}{}}
		n.namespaces[namespace] = s
	}
	return s
}

// podChanged is the pod informer's add and update: the engine copies the
// labels it does not hold yet.
func (n *namespaceIndex) podChanged(pod client.Object) {
	s := n.state(pod.GetNamespace())
	s.mu.Lock()
	defer s.mu.Unlock()
	s.engine.SetPod(pod.GetName(), pod.GetLabels())
}

// podDeleted is the pod informer's delete, tombstones unwrapped.
func (n *namespaceIndex) podDeleted(pod client.Object) {
	s := n.state(pod.GetNamespace())
	s.mu.Lock()
	defer s.mu.Unlock()
	s.engine.RemovePod(pod.GetName())
}

// groupChanged is the LabelGroup informer's add and update: the group is
// compared again, whatever changed in it.
func (n *namespaceIndex) groupChanged(obj client.Object) {
	group, ok := obj.(*v1alpha1.LabelGroup)
	if !ok {
		return
	}
	s := n.state(group.Namespace)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[group.Name] = group
	s.engine.SetGroup(engineGroup(group))
	s.dirty[group.Name] = struct{}{}
	if stamps(group) || controllerutil.ContainsFinalizer(group, v1alpha1.FinalizerReleaseMetadata) {
		s.stamping[group.Name] = struct{}{}
	} else {
		delete(s.stamping, group.Name)
	}
}

// groupDeleted is the LabelGroup informer's delete, tombstones unwrapped.
func (n *namespaceIndex) groupDeleted(obj client.Object) {
	group, ok := obj.(*v1alpha1.LabelGroup)
	if !ok {
		return
	}
	s := n.state(group.Namespace)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.groups, group.Name)
	delete(s.stamping, group.Name)
	s.engine.RemoveGroup(group.Name)
	s.dirty[group.Name] = struct{}{}
}

// take returns the groups of namespace to look at and their results: those
// whose result changed or that are dirty, or all while some group stamps.
// latest gives the version of a group to compare with (see ownWrites).
func (n *namespaceIndex) take(namespace string, latest func(*v1alpha1.LabelGroup) *v1alpha1.LabelGroup) namespaceView {
	s := n.state(namespace)
	s.mu.Lock()
	defer s.mu.Unlock()
	names := s.engine.Changed()
	for name := range s.dirty {
		names = append(names, name)
	}
	clear(s.dirty)
	view := namespaceView{hasGroups: len(s.groups) > 0, stamping: len(s.stamping) > 0}
	if view.stamping {
		names = append(names, s.engine.Groups()...)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	for _, name := range names {
		group, ok := s.groups[name]
		if !ok {
			view.gone = append(view.gone, name)
			continue
		}
		result, _ := s.engine.Result(name)
		view.groups = append(view.groups, *latest(group.DeepCopy()))
		view.results = append(view.results, result)
	}
	return view
}

// redo marks groups to be looked at again by the next reconcile: their
// write failed or was left to it.
func (n *namespaceIndex) redo(namespace string, groups []types.NamespacedName) {
	if len(groups) == 0 {
		return
	}
	s := n.state(namespace)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range groups {
		s.dirty[g.Name] = struct{}{}
	}
}

func engineGroup(g *v1alpha1.LabelGroup) grouping.Group {
	return grouping.Group{Name: g.Name, Selector: g.Spec.Selector, Policy: g.Spec.OverlapPolicy}
}
