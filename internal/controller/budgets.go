package controller

import (
	"fmt"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/grouping"
	"github.com/labelgroup/labelgroup-operator/internal/selector"
)

// The gauges of PodDisruptionBudgets (--watch-pod-disruption-budgets), one
// series per budget, labelled with its namespace and name; a deleted budget's
// series are removed.
var (
	budgetSharedPodsGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "labelgroup_poddisruptionbudget_shared_pods",
		Help: "Number of the PodDisruptionBudget's pods that another budget of the namespace also covers; the eviction API refuses to evict them.",
	}, []string{"namespace", "poddisruptionbudget"})
	budgetOverlapsGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "labelgroup_poddisruptionbudget_overlaps",
		Help: "Number of other PodDisruptionBudgets of the namespace that cover at least one of this budget's pods.",
	}, []string{"namespace", "poddisruptionbudget"})
)

func init() {
	metrics.Registry.MustRegister(budgetSharedPodsGauge, budgetOverlapsGauge)
}

// budgetSharing is what one PodDisruptionBudget shares with the other budgets
// of its namespace.
type budgetSharing struct {
	Name string
	UID  types.UID
	// SharedPods is the number of the budget's pods that at least one other
	// budget also covers: the pods the eviction API refuses to evict.
	SharedPods int
	// Others are the other budgets that cover some of its pods, sorted by
	// name, each with the number of pods the two both cover.
	Others []v1alpha1.Overlap
}

// computeSharing returns, in the order of budgets, which pods each budget
// shares with the others. The budgets and pods must be of one namespace. The
// budgets are one more kind of group for the grouping engine, with the Members
// overlap policy: two budgets overlap when a pod is covered by both, which is
// exactly when the eviction API refuses it. A budget whose selector is null
// covers no pod (policy/v1); the empty selector {} covers every pod of the
// namespace; an invalid one covers none, as the eviction API reads it.
func computeSharing(budgets []policyv1.PodDisruptionBudget, pods []grouping.Pod) []budgetSharing {
	out := make([]budgetSharing, len(budgets))
	var groups []grouping.Group
	var budgetOf []int // the index in budgets of each group
	for i, b := range budgets {
		out[i] = budgetSharing{Name: b.Name, UID: b.UID}
		if b.Spec.Selector == nil {
			continue
		}
		groups = append(groups, grouping.Group{Name: b.Name, Selector: selector.FromMetav1(b.Spec.Selector), Policy: v1alpha1.OverlapPolicyMembers})
		budgetOf = append(budgetOf, i)
	}
	if len(groups) < 2 {
		return out
	}
	// Every member is listed, so that a pod covered by three budgets counts
	// once in each budget's SharedPods, not once per other budget.
	results := grouping.Compute(pods, groups, len(pods))
	coveredBy := map[string]int{}
	for _, r := range results {
		if len(r.Overlaps) == 0 {
			continue
		}
		for _, pod := range r.Members {
			coveredBy[pod]++
		}
	}
	for j, r := range results {
		if len(r.Overlaps) == 0 {
			continue
		}
		s := &out[budgetOf[j]]
		s.Others = r.Overlaps
		for _, pod := range r.Members {
			if coveredBy[pod] > 1 {
				s.SharedPods++
			}
		}
	}
	return out
}

// budgetTransition tells which event, if any, a budget deserves: a warning
// when it starts sharing pods, a normal event when it stops. known is false
// when this manager has not seen the budget before (it just started, or just
// became leader): sharing is then reported again, not sharing is not.
func budgetTransition(known, wasSharing bool, now budgetSharing) (eventType, reason string, ok bool) {
	isSharing := now.SharedPods > 0
	switch {
	case isSharing && (!known || !wasSharing):
		return "Warning", v1alpha1.EventBudgetPodsShared, true
	case known && wasSharing && !isSharing:
		return "Normal", v1alpha1.EventBudgetPodsNoLongerShared, true
	}
	return "", "", false
}

// budgetNote is the note of a budget's event, at most MaxEventNoteBytes: the
// count and the consequence first, then the other budgets, which a long list
// may cut.
func budgetNote(s budgetSharing) string {
	if s.SharedPods == 0 {
		return "No other PodDisruptionBudget covers any of its pods any more"
	}
	others := make([]string, len(s.Others))
	for i, o := range s.Others {
		others[i] = fmt.Sprintf("%s (%d %s)", o.Name, o.SharedMembers, plural(int(o.SharedMembers), "pod", "pods"))
	}
	return eventNote(fmt.Sprintf("%d of its %s also covered by %d other PodDisruptionBudget%s, so the eviction API refuses to evict %s and node drains stall: %s",
		s.SharedPods, plural(s.SharedPods, "pods is", "pods are"), len(s.Others), plural(len(s.Others), "", "s"),
		plural(s.SharedPods, "it", "them"), strings.Join(others, ", ")))
}

// budgetStates remembers, per namespace, which budgets (by UID, so that a
// budget deleted and created again under its name starts afresh) were sharing
// pods at the last reconcile. It lives in memory: after a restart or a leader
// change the first reconcile of a namespace warns again about the budgets that
// share pods (see budgetTransition).
type budgetStates struct {
	mu      sync.Mutex
	sharing map[string]map[types.UID]bool
}

// replace stores the sharing of a namespace's budgets and returns what it
// stored before; budgets that are gone are forgotten.
func (b *budgetStates) replace(namespace string, now []budgetSharing) map[types.UID]bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	before := b.sharing[namespace]
	if len(now) == 0 {
		delete(b.sharing, namespace)
		return before
	}
	current := make(map[types.UID]bool, len(now))
	for _, s := range now {
		current[s.UID] = s.SharedPods > 0
	}
	if b.sharing == nil {
		b.sharing = map[string]map[types.UID]bool{}
	}
	b.sharing[namespace] = current
	return before
}

// budgetMetrics publishes the gauges of a namespace's budgets and deletes the
// series of the budgets that are gone.
type budgetMetrics struct {
	mu        sync.Mutex
	published map[string]map[string]bool // namespace -> budget names
}

func (m *budgetMetrics) record(namespace string, sharing []budgetSharing) {
	m.mu.Lock()
	defer m.mu.Unlock()
	current := make(map[string]bool, len(sharing))
	for _, s := range sharing {
		current[s.Name] = true
		budgetSharedPodsGauge.WithLabelValues(namespace, s.Name).Set(float64(s.SharedPods))
		budgetOverlapsGauge.WithLabelValues(namespace, s.Name).Set(float64(len(s.Others)))
	}
	for name := range m.published[namespace] {
		if !current[name] {
			budgetSharedPodsGauge.DeleteLabelValues(namespace, name)
			budgetOverlapsGauge.DeleteLabelValues(namespace, name)
		}
	}
	if m.published == nil {
		m.published = map[string]map[string]bool{}
	}
	if len(current) == 0 {
		delete(m.published, namespace)
		return
	}
	m.published[namespace] = current
}
