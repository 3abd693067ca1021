package controller

import (
	"fmt"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
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

// publishBudgetGauges sets the gauges of the namespace's budgets whose
// sharing a reconcile reports and deletes the series of those that are gone.
func publishBudgetGauges(namespace string, changes []budgetChange, gone []string) {
	for _, c := range changes {
		budgetSharedPodsGauge.WithLabelValues(namespace, c.sharing.Name).Set(float64(c.sharing.SharedPods))
		budgetOverlapsGauge.WithLabelValues(namespace, c.sharing.Name).Set(float64(len(c.sharing.Others)))
	}
	for _, name := range gone {
		budgetSharedPodsGauge.DeleteLabelValues(namespace, name)
		budgetOverlapsGauge.DeleteLabelValues(namespace, name)
	}
}
