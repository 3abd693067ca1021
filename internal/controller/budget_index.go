package controller

import (
	"slices"
	"sync"

	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/grouping"
	"github.com/labelgroup/labelgroup-operator/internal/selector"
)

// budgetIndex is the PodDisruptionBudget reconciler's own view of the
// namespaces that have budgets: the budgets as the informer delivered them
// and, while a namespace has two budgets or more, one grouping.Engine whose
// groups are the budgets and whose pods are the namespace's. The budget and
// pod informers' event handlers feed it as each change reaches the cache, as
// namespaceIndex is fed, so a pod event costs the engine's update for that
// pod, and a reconcile reports only the budgets whose sharing changed or that
// an event named.
//
// A namespace with fewer than two budgets keeps no pods: no budget can share
// one. When it gets its second budget, the next reconcile seeds the engine
// from the cache; from then on the handlers keep it current. A pod event
// delivered before the seeding is in the cache already (the informer updates
// its cache before it calls the handlers), and one delivered after it applies
// the pod's state again, so the engine holds what the cache holds once the
// handlers have run, relists included.
//
// A namespace's entry is made by its first budget and stays, without pods,
// after its last budget goes.
type budgetIndex struct {
	mu         sync.Mutex
	namespaces map[string]*budgetNamespace
}

type budgetNamespace struct {
	mu      sync.Mutex
	budgets map[string]*policyv1.PodDisruptionBudget // as the informer delivered them; never written
	// engine holds the budgets that have a selector, and the namespace's
	// pods, while there are two budgets or more; nil otherwise.
	engine *grouping.Engine
	// dirty are the budgets an event named, to report whatever their sharing.
	dirty map[string]struct{}
	// reported is, by budget name, the sharing the last reconcile reported:
	// the state of the transitions that events tell of.
	reported map[string]reportedSharing
}

type reportedSharing struct {
	uid     types.UID
	sharing bool
}

// budgetChange is a budget whose sharing a reconcile reports: now, and what
// was reported of it before (known is false when it never was, see
// budgetTransition).
type budgetChange struct {
	budget            *policyv1.PodDisruptionBudget // the informer's; never written
	sharing           budgetSharing
	known, wasSharing bool
}

func (n *budgetIndex) state(namespace string) *budgetNamespace {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.namespaces == nil {
		n.namespaces = map[string]*budgetNamespace{}
	}
	s := n.namespaces[namespace]
	if s == nil {
		s = &budgetNamespace{budgets: map[string]*policyv1.PodDisruptionBudget{}, dirty: map[string]struct{}{}, reported: map[string]reportedSharing{}}
		n.namespaces[namespace] = s
	}
	return s
}

// lookup returns the namespace's entry; nil when it never had a budget.
func (n *budgetIndex) lookup(namespace string) *budgetNamespace {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.namespaces[namespace]
}

// withEngine runs f with the namespace's engine, under its lock, when the
// namespace keeps one.
func (n *budgetIndex) withEngine(namespace string, f func(*grouping.Engine)) {
	s := n.lookup(namespace)
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.engine != nil {
		f(s.engine)
	}
}

// podChanged is the pod informer's add and update.
func (n *budgetIndex) podChanged(pod client.Object) {
	n.withEngine(pod.GetNamespace(), func(e *grouping.Engine) { e.SetPod(pod.GetName(), pod.GetLabels()) })
}

// podDeleted is the pod informer's delete, tombstones unwrapped.
func (n *budgetIndex) podDeleted(pod client.Object) {
	n.withEngine(pod.GetNamespace(), func(e *grouping.Engine) { e.RemovePod(pod.GetName()) })
}

// budgetChanged is the budget informer's add and update.
func (n *budgetIndex) budgetChanged(obj client.Object) {
	n.withBudget(obj, func(s *budgetNamespace, budget *policyv1.PodDisruptionBudget) {
		s.budgets[budget.Name] = budget
		if s.engine != nil {
			setBudget(s.engine, budget)
		}
	})
}

// budgetDeleted is the budget informer's delete, tombstones unwrapped.
func (n *budgetIndex) budgetDeleted(obj client.Object) {
	n.withBudget(obj, func(s *budgetNamespace, budget *policyv1.PodDisruptionBudget) {
		delete(s.budgets, budget.Name)
		if s.engine != nil {
			s.engine.RemoveGroup(budget.Name)
		}
	})
}

// withBudget runs f with the budget and its namespace, under its lock, and
// marks the budget to be reported.
func (n *budgetIndex) withBudget(obj client.Object, f func(*budgetNamespace, *policyv1.PodDisruptionBudget)) {
	budget, ok := obj.(*policyv1.PodDisruptionBudget)
	if !ok {
		return
	}
	s := n.state(budget.Namespace)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dirty[budget.Name] = struct{}{}
	f(s, budget)
}

// take returns, sorted by name, the budgets of namespace whose sharing
// changed or that an event named, and the names of those that are gone, and
// notes what it reports. listPods reads the namespace's pods from the cache;
// it is called only when the namespace gets its engine.
func (n *budgetIndex) take(namespace string, listPods func() ([]metav1.PartialObjectMetadata, error)) (changes []budgetChange, gone []string, err error) {
	s := n.lookup(namespace)
	if s == nil {
		return nil, nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.keepPodsIfShareable(listPods); err != nil {
		return nil, nil, err
	}
	names := make([]string, 0, len(s.dirty))
	for name := range s.dirty {
		names = append(names, name)
	}
	clear(s.dirty)
	if s.engine != nil {
		names = append(names, s.engine.Changed()...)
	}
	slices.Sort(names)
	for _, name := range slices.Compact(names) {
		budget, ok := s.budgets[name]
		if !ok {
			gone = append(gone, name)
			delete(s.reported, name)
			continue
		}
		change := budgetChange{budget: budget, sharing: s.sharingOf(budget)}
		if before, ok := s.reported[name]; ok && before.uid == budget.UID {
			change.known, change.wasSharing = true, before.sharing
		}
		s.reported[name] = reportedSharing{uid: budget.UID, sharing: change.sharing.SharedPods > 0}
		changes = append(changes, change)
	}
	return changes, gone, nil
}

// keepPodsIfShareable gives the namespace an engine, seeded from the cache,
// when it has two budgets or more, and drops it when it has fewer; every
// budget is reported again when that changes.
func (s *budgetNamespace) keepPodsIfShareable(listPods func() ([]metav1.PartialObjectMetadata, error)) error {
	shareable := len(s.budgets) >= 2
	if shareable == (s.engine != nil) {
		return nil
	}
	for name := range s.budgets {
		s.dirty[name] = struct{}{}
	}
	if !shareable {
		s.engine = nil
		return nil
	}
	pods, err := listPods()
	if err != nil {
		return err
	}
	// No member is listed: the budgets need counts and overlaps only.
	s.engine = grouping.NewEngine(0)
	for _, budget := range s.budgets {
		setBudget(s.engine, budget)
	}
	for i := range pods {
		s.engine.SetPod(pods[i].Name, pods[i].Labels)
	}
	return nil
}

// sharingOf is what the budget shares with the other budgets of its
// namespace now.
func (s *budgetNamespace) sharingOf(budget *policyv1.PodDisruptionBudget) budgetSharing {
	sharing := budgetSharing{Name: budget.Name, UID: budget.UID}
	if s.engine == nil {
		return sharing
	}
	shared, ok := s.engine.SharedMemberCount(budget.Name)
	if !ok {
		return sharing
	}
	result, _ := s.engine.Result(budget.Name)
	sharing.SharedPods, sharing.Others = int(shared), result.Overlaps
	return sharing
}

// setBudget gives the engine the budget as a group with the Members overlap
// policy: two budgets overlap when a pod is covered by both, which is exactly
// when the eviction API refuses it. A budget whose selector is null covers no
// pod (policy/v1), so it is no group; the empty selector {} covers every pod
// of the namespace; an invalid one covers none, as the eviction API reads it.
func setBudget(e *grouping.Engine, budget *policyv1.PodDisruptionBudget) {
	if budget.Spec.Selector == nil {
		e.RemoveGroup(budget.Name)
		return
	}
	e.SetGroup(grouping.Group{Name: budget.Name, Selector: selector.FromMetav1(budget.Spec.Selector), Policy: v1alpha1.OverlapPolicyMembers})
}
