// Package controller holds the reconciler that keeps every LabelGroup's status
// true to the pods and groups of its namespace.
package controller

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/grouping"
)

// LabelGroupReconciler reconciles one namespace at a time: every group of the
// namespace is computed together from one read of the cache, so no group ever
// reports a half-updated view of another. A request's Namespace names the
// namespace; its Name is empty.
type LabelGroupReconciler struct {
	client.Client
	Recorder events.EventRecorder
	// MemberLimit caps status.members; status.memberCount stays exact.
	MemberLimit int
	// OverlapLimit caps status.overlaps; status.overlapCount stays exact.
	OverlapLimit int
	// MemberMetadata, when set, stamps spec.memberMetadata on member pods
	// (--enable-member-metadata); nil leaves pods alone.
	MemberMetadata *MemberMetadata

	metrics groupMetrics
}

// +kubebuilder:rbac:groups=grouping.labelgroup.io,resources=labelgroups,verbs=get;list;watch
// +kubebuilder:rbac:groups=grouping.labelgroup.io,resources=labelgroups/status,verbs=patch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile reads the namespace's groups and pods, computes every group's
// status, writes the ones that changed and publishes the metrics.
func (r *LabelGroupReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	namespace := req.Namespace
	groups, pods, err := r.readNamespace(ctx, namespace)
	if err != nil {
		return ctrl.Result{}, err
	}
	results := grouping.Compute(pods, engineGroups(groups), r.MemberLimit)
	// A failed pod write still lets the statuses be written; the error brings
	// the namespace back.
	stamped, err := r.stampMetadata(ctx, namespace, groups)
	if stamped == nil {
		return ctrl.Result{}, err
	}

	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	for i := range groups {
		if err := r.writeStatus(ctx, &groups[i], results[i], stamped[i]); err != nil {
			errs = append(errs, err)
		}
	}
	r.metrics.record(namespace, results)
	return ctrl.Result{}, reconcileError(errs)
}

// reconcileError combines the errors of a namespace's groups. controller-runtime
// does not retry a result that wraps a TerminalError, so the terminal ones
// (invalid selectors) are returned only when nothing else failed: a transient
// failure of another group of the namespace must still be retried.
func reconcileError(errs []error) error {
	var transient []error
	for _, err := range errs {
		if !errors.Is(err, reconcile.TerminalError(nil)) {
			transient = append(transient, err)
		}
	}
	if len(transient) > 0 {
		return errors.Join(transient...)
	}
	return errors.Join(errs...)
}

// readNamespace lists the namespace's LabelGroups and its pods' metadata from
// the cache. Pods are read only when some group needs them.
func (r *LabelGroupReconciler) readNamespace(ctx context.Context, namespace string) ([]v1alpha1.LabelGroup, []grouping.Pod, error) {
	var groups v1alpha1.LabelGroupList
	if err := r.List(ctx, &groups, client.InNamespace(namespace)); err != nil {
		return nil, nil, fmt.Errorf("listing LabelGroups of namespace %s: %w", namespace, err)
	}
	if len(groups.Items) == 0 {
		return nil, nil, nil
	}
	podList := &metav1.PartialObjectMetadataList{}
	podList.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("PodList"))
	if err := r.List(ctx, podList, client.InNamespace(namespace)); err != nil {
		return nil, nil, fmt.Errorf("listing pods of namespace %s: %w", namespace, err)
	}
	pods := make([]grouping.Pod, len(podList.Items))
	for i, p := range podList.Items {
		pods[i] = grouping.Pod{Name: p.Name, Labels: p.Labels}
	}
	return groups.Items, pods, nil
}

func engineGroups(groups []v1alpha1.LabelGroup) []grouping.Group {
	out := make([]grouping.Group, len(groups))
	for i, g := range groups {
		out[i] = grouping.Group{Name: g.Name, Selector: g.Spec.Selector, Policy: g.Spec.OverlapPolicy}
	}
	return out
}

// writeStatus patches the group's status when it differs from what result says,
// and after a successful write emits the events its transitions deserve. A
// group with an invalid selector gets a terminal error: only a person can fix it.
func (r *LabelGroupReconciler) writeStatus(ctx context.Context, group *v1alpha1.LabelGroup, result grouping.Result, stamped metadataOutcome) error {
	log := logf.FromContext(ctx).WithValues("labelgroup", klog.KObj(group))
	now := metav1.Now()
	desired := withMetadataOutcome(computeStatus(group.Status, group.Generation, result, r.OverlapLimit, now), stamped, now)
	if equality.Semantic.DeepEqual(group.Status, desired) {
		return nil
	}

	before := group.DeepCopy()
	group.Status = desired
	log.V(4).Info("Patching status", "members", desired.MemberCount, "overlaps", len(desired.Overlaps))
	patch := client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})
	if err := r.Status().Patch(ctx, group, patch); err != nil {
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			// The group changed or went away since the cache read it (often by
			// this operator's previous write); the watch event of that change
			// brings the namespace back with a fresh view.
			log.V(4).Info("Skipping status of a LabelGroup that changed since it was read", "reason", err.Error())
			return nil
		}
		// A refused write (invalid, too large, forbidden) is counted and
		// returned: controller-runtime logs it and retries the namespace with
		// backoff. The other groups of the namespace are written all the same.
		statusWriteErrors.WithLabelValues(group.Namespace, writeErrorReason(err)).Inc()
		return fmt.Errorf("patching status of LabelGroup %s: %w", klog.KObj(group), err)
	}

	if eventType, reason, ok := overlapTransition(before.Status.Conditions, desired.Conditions); ok {
		overlapping := meta.FindStatusCondition(desired.Conditions, v1alpha1.ConditionOverlapping)
		r.Recorder.Eventf(group, nil, eventType, reason, "Reconcile", "%s", eventNote(overlapping.Message))
	}
	if eventType, reason, message, ok := metadataTransition(before.Status.Conditions, desired.Conditions); ok {
		r.Recorder.Eventf(group, nil, eventType, reason, "StampMetadata", "%s", eventNote(message))
	}
	if result.SelectorErr != nil {
		return reconcile.TerminalError(fmt.Errorf("LabelGroup %s has an invalid selector: %w", klog.KObj(group), result.SelectorErr))
	}
	return nil
}

// SetupWithManager watches LabelGroups and the metadata of pods (labels are all
// the engine needs; a full pod cache costs several times the memory) and maps
// every event to its namespace.
func (r *LabelGroupReconciler) SetupWithManager(mgr ctrl.Manager) error {
	toNamespace := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []reconcile.Request {
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: obj.GetNamespace()}}}
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("labelgroup").
		// Every change of a group, its status included, brings the namespace back:
		// a status write that lost a race with the cache (see writeStatus) is
		// retried when the newer version arrives, and a status edited by hand is
		// put right. After the operator's own write the next reconcile finds
		// nothing to change and writes nothing, so this does not loop.
		Watches(&v1alpha1.LabelGroup{}, toNamespace).
		// Only a pod's labels, creation and deletion change membership; with
		// stamping on, also the stamped annotations and the groups' managed
		// fields, which are all the cache keeps of them.
		WatchesMetadata(&corev1.Pod{}, toNamespace, builder.WithPredicates(r.podPredicate())).
		Complete(r)
}
