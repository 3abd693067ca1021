package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/labelgroup/labelgroup-operator/internal/grouping"
)

// PodDisruptionBudgetReconciler finds, per namespace, the PodDisruptionBudgets
// that cover a pod in common (--watch-pod-disruption-budgets), publishes a
// gauge per budget and emits an event on a budget when it starts or stops
// sharing pods. It reads the budgets and the same metadata-only pod cache as
// the LabelGroup reconciler, and writes nothing but events: a budget's status
// belongs to the disruption controller. A request's Namespace names the
// namespace; its Name is empty.
//
// Its RBAC (list and watch on poddisruptionbudgets) is granted by the
// pod-disruption-budgets kustomize component or the Helm value
// podDisruptionBudgets.watch, not by the generated role: it has no RBAC markers.
type PodDisruptionBudgetReconciler struct {
	client.Client
	Recorder events.EventRecorder
	// MaxConcurrentReconciles is how many namespaces are reconciled at once
	// (1 when 0).
	MaxConcurrentReconciles int
	// PodEventDelay is how long a pod event waits before its namespace is
	// reconciled, so that a stream of pod events of one namespace costs one
	// reconcile per PodEventDelay (none when 0). Budget events do not wait.
	PodEventDelay time.Duration
	// MemberMetadata is the LabelGroup reconciler's, when it stamps: the pod
	// watch this reconciler shares then starts only once the stamped
	// annotation keys are known (see podSource).
	MemberMetadata *MemberMetadata

	metrics budgetMetrics
	states  budgetStates
}

// Reconcile reads the namespace's budgets and pods, computes which budgets
// share pods, publishes the gauges and emits the events of the transitions.
func (r *PodDisruptionBudgetReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	namespace := req.Namespace
	budgets, pods, err := r.readBudgets(ctx, namespace)
	if err != nil {
		return ctrl.Result{}, err
	}
	sharing := computeSharing(budgets, enginePods(pods))
	r.metrics.record(namespace, sharing)
	before := r.states.replace(namespace, sharing)
	for i, s := range sharing {
		wasSharing, known := before[s.UID]
		if eventType, reason, ok := budgetTransition(known, wasSharing, s); ok {
			r.Recorder.Eventf(&budgets[i], nil, eventType, reason, "Reconcile", "%s", budgetNote(s))
		}
	}
	return ctrl.Result{}, nil
}

// readBudgets lists the namespace's budgets, sorted by name, and its pods'
// metadata from the cache; the pods only when there are two budgets or more.
func (r *PodDisruptionBudgetReconciler) readBudgets(ctx context.Context, namespace string) ([]policyv1.PodDisruptionBudget, []metav1.PartialObjectMetadata, error) {
	var budgets policyv1.PodDisruptionBudgetList
	if err := r.List(ctx, &budgets, client.InNamespace(namespace)); err != nil {
		return nil, nil, fmt.Errorf("listing PodDisruptionBudgets of namespace %s: %w", namespace, err)
	}
	slices.SortFunc(budgets.Items, func(a, b policyv1.PodDisruptionBudget) int { return strings.Compare(a.Name, b.Name) })
	if len(budgets.Items) < 2 {
		return budgets.Items, nil, nil
	}
	podList := &metav1.PartialObjectMetadataList{}
	podList.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("PodList"))
	// The cache's own objects: the engine only reads them.
	if err := r.List(ctx, podList, client.InNamespace(namespace), client.UnsafeDisableDeepCopy); err != nil {
		return nil, nil, fmt.Errorf("listing pods of namespace %s: %w", namespace, err)
	}
	return budgets.Items, podList.Items, nil
}

// SetupWithManager watches budgets (their spec: the disruption controller
// updates their status all the time, which changes nothing here) and the
// metadata of pods (their labels, creation and deletion), and maps every event
// to its namespace. The pod watch shares the LabelGroup reconciler's informer.
func (r *PodDisruptionBudgetReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("poddisruptionbudget").
		WithOptions(controller.Options{MaxConcurrentReconciles: max(1, r.MaxConcurrentReconciles)}).
		Watches(&policyv1.PodDisruptionBudget{}, enqueueNamespaceAfter(0), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WatchesRawSource(r.MemberMetadata.podSource(mgr.GetCache(), enqueueNamespaceAfter(r.PodEventDelay), predicate.LabelChangedPredicate{})).
		Complete(r)
}

// enqueueNamespaceAfter maps every event to its namespace's request and
// queues it after delay. The queue holds a request once, at its earliest
// time, so events that arrive while it waits cost nothing more.
func enqueueNamespaceAfter(delay time.Duration) handler.EventHandler {
	enqueue := func(obj client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		req := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: obj.GetNamespace()}}
		if delay > 0 {
			q.AddAfter(req, delay)
			return
		}
		q.Add(req)
	}
	return onEveryEvent(enqueue)
}

// enginePods are the pods' names and labels, as the engine takes them.
func enginePods(pods []metav1.PartialObjectMetadata) []grouping.Pod {
	out := make([]grouping.Pod, len(pods))
	for i, p := range pods {
		out[i] = grouping.Pod{Name: p.Name, Labels: p.Labels}
	}
	return out
}
