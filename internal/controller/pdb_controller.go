package controller

import (
	"context"
	"fmt"
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

	index budgetIndex
}

// Reconcile takes from the namespace's index the budgets whose sharing
// changed or that an event named, publishes their gauges and emits the events
// of their transitions.
func (r *PodDisruptionBudgetReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	namespace := req.Namespace
	changes, gone, err := r.index.take(namespace, func() ([]metav1.PartialObjectMetadata, error) { return r.listPods(ctx, namespace) })
	if err != nil {
		return ctrl.Result{}, err
	}
	publishBudgetGauges(namespace, changes, gone)
	for _, c := range changes {
		if eventType, reason, ok := budgetTransition(c.known, c.wasSharing, c.sharing); ok {
			r.Recorder.Eventf(c.budget.DeepCopy(), nil, eventType, reason, "Reconcile", "%s", budgetNote(c.sharing))
		}
	}
	return ctrl.Result{}, nil
}

// listPods lists the metadata of the namespace's pods from the cache, to seed
// the namespace's engine when it gets its second budget.
func (r *PodDisruptionBudgetReconciler) listPods(ctx context.Context, namespace string) ([]metav1.PartialObjectMetadata, error) {
	podList := &metav1.PartialObjectMetadataList{}
	podList.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("PodList"))
	// The cache's own objects: the engine copies the labels it keeps.
	if err := r.List(ctx, podList, client.InNamespace(namespace), client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing pods of namespace %s: %w", namespace, err)
	}
	return podList.Items, nil
}

// SetupWithManager watches budgets (their spec: the disruption controller
// updates their status all the time, which changes nothing here) and the
// metadata of pods (their labels, creation and deletion), feeds every event
// to the index and maps it to its namespace. The pod watch shares the
// LabelGroup reconciler's informer.
func (r *PodDisruptionBudgetReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("poddisruptionbudget").
		WithOptions(controller.Options{MaxConcurrentReconciles: max(1, r.MaxConcurrentReconciles)}).
		Watches(&policyv1.PodDisruptionBudget{}, indexing(r.index.budgetChanged, r.index.budgetDeleted, enqueueNamespaceAfter(0)), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WatchesRawSource(r.MemberMetadata.podSource(mgr.GetCache(), indexing(r.index.podChanged, r.index.podDeleted, enqueueNamespaceAfter(r.PodEventDelay)), predicate.LabelChangedPredicate{})).
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
