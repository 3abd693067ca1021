// Package controller holds the reconciler that keeps every LabelGroup's status
// true to the pods and groups of its namespace.
package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
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
	// MaxConcurrentReconciles is how many namespaces are reconciled at once
	// (1 when 0). One namespace is never reconciled twice at once.
	MaxConcurrentReconciles int
	// StatusWriters is how many status patches of one namespace are in flight
	// at once (1 when 0).
	StatusWriters int
	// MinReconcileInterval is the shortest time between the starts of two
	// reconciles of one namespace (none when 0); see namespacePacer.
	MinReconcileInterval time.Duration
	// MemberMetadata, when set, stamps spec.memberMetadata on member pods
	// (--enable-member-metadata); nil leaves pods alone.
	MemberMetadata *MemberMetadata

	metrics groupMetrics
	own     ownWrites
	events  namespaceEvents
	pacer   namespacePacer
	index   namespaceIndex
}

// +kubebuilder:rbac:groups=grouping.labelgroup.io,resources=labelgroups,verbs=get;list;watch
// +kubebuilder:rbac:groups=grouping.labelgroup.io,resources=labelgroups/status,verbs=patch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile looks at the groups of the namespace whose result changed or that
// an event named, from one state of the namespace's index: it computes their
// statuses, writes the ones that changed and publishes their metrics. While
// some group stamps member metadata, it looks at every group and reads the
// namespace's pods from the cache for the stamping planner.
func (r *LabelGroupReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	namespace := req.Namespace
	// Taken before the view: an event counted after it may be newer than what
	// the view holds.
	seen := r.events.count(namespace)
	r.pacer.started(namespace)
	view := r.index.take(namespace, r.own.latest)
	if !view.hasGroups {
		r.events.forget(namespace)
		r.pacer.forget(namespace)
	}
	var pods []metav1.PartialObjectMetadata
	if view.stamping && r.MemberMetadata != nil {
		var err error
		if pods, err = r.listPods(ctx, namespace); err != nil {
			r.index.redo(namespace, keysOf(view.groups))
			return ctrl.Result{}, err
		}
	}
	// A failed pod write still lets the statuses be written; the error brings
	// the namespace back. Stamping plans from the same read of the pods.
	stamped, err := r.stampMetadata(ctx, namespace, view.groups, pods)
	if stamped == nil {
		r.index.redo(namespace, keysOf(view.groups))
		return ctrl.Result{}, err
	}

	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	writeErrs, unfinished := r.writeStatuses(ctx, view.groups, view.results, stamped, func() bool { return r.events.count(namespace) != seen })
	errs = append(errs, writeErrs...)
	r.index.redo(namespace, unfinished)
	r.metrics.record(namespace, view.results, view.gone)
	return ctrl.Result{}, reconcileError(errs)
}

func keysOf(groups []v1alpha1.LabelGroup) []types.NamespacedName {
	keys := make([]types.NamespacedName, len(groups))
	for i := range groups {
		keys[i] = types.NamespacedName{Namespace: groups[i].Namespace, Name: groups[i].Name}
	}
	return keys
}

// writeStatuses writes the statuses that changed, up to StatusWriters at once,
// so that a namespace of many changed groups does not wait for one round trip
// to the API server after another. Every result comes from the same state of
// the index, so the order of the writes does not matter. It returns the
// groups' errors, and the groups whose status was left or failed to be
// written, which the next reconcile must look at again.
//
// Once superseded says a newer event has brought the namespace back, the
// writes not yet started are left to the next reconcile, which is already
// queued and will compute them from a newer state: under a stream of
// relabels, writing them would mostly write statuses about to be
// overwritten. The first supersededWrites writes always go out, stalest
// group first, so every group gets its turn however long the stream lasts.
func (r *LabelGroupReconciler) writeStatuses(ctx context.Context, groups []v1alpha1.LabelGroup, results []grouping.Result, stamped []metadataOutcome, superseded func() bool) ([]error, []types.NamespacedName) {
	writers := max(1, r.StatusWriters)
	keys := keysOf(groups)
	desired := make([]v1alpha1.LabelGroupStatus, len(groups))
	var changed []int
	now := metav1.Now()
	for i := range groups {
		desired[i] = withMetadataOutcome(computeStatus(groups[i].Status, groups[i].Generation, results[i], r.OverlapLimit, now), stamped[i], now)
		if !sameStatus(groups[i].Status, desired[i]) {
			changed = append(changed, i)
		}
	}
	r.own.stalestFirst(keys, changed)

	errs := make([]error, len(groups))
	slots := make(chan struct{}, writers)
	var wg sync.WaitGroup
	var unfinished []types.NamespacedName
	for n, i := range changed {
		if n >= min(writers, supersededWrites) && superseded() {
			logf.FromContext(ctx).V(4).Info("Leaving the remaining statuses to the next reconcile", "written", n, "left", len(changed)-n)
			for _, j := range changed[n:] {
				unfinished = append(unfinished, keys[j])
			}
			break
		}
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			errs[i] = r.writeStatus(ctx, &groups[i], desired[i], results[i].SelectorErr)
			r.own.tookTurn(keys[i], time.Now())
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil && !errors.Is(err, reconcile.TerminalError(nil)) {
			unfinished = append(unfinished, keys[i])
		}
	}
	return slices.DeleteFunc(errs, func(err error) bool { return err == nil }), unfinished
}

// supersededWrites is how many writes a superseded reconcile still starts,
// stalest group first, so that every group gets its turn under endless churn.
// It is small, so that the reconcile running when the last relabel of a
// stream arrives does not hold up the final one behind many patches it has
// just made stale.
const supersededWrites = 8

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

// listPods lists the namespace's pods' metadata from the cache, for the
// stamping planner. They are the cache's own objects, not deep copies (at
// 10,000 pods a deep copy costs 12.8 ms and 9.3 MB): the planner only reads
// them.
func (r *LabelGroupReconciler) listPods(ctx context.Context, namespace string) ([]metav1.PartialObjectMetadata, error) {
	podList := &metav1.PartialObjectMetadataList{}
	podList.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("PodList"))
	if err := r.List(ctx, podList, client.InNamespace(namespace), client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing pods of namespace %s: %w", namespace, err)
	}
	return podList.Items, nil
}

// writeStatus patches the group's status to desired, which differs from it,
// and after a successful write emits the events its transitions deserve. A
// group with an invalid selector (selectorErr) gets a terminal error: only a
// person can fix it.
func (r *LabelGroupReconciler) writeStatus(ctx context.Context, group *v1alpha1.LabelGroup, desired v1alpha1.LabelGroupStatus, selectorErr error) error {
	log := logf.FromContext(ctx).WithValues("labelgroup", klog.KObj(group))

	// The group may be the version ownWrites remembers: write a copy.
	before := group
	group = group.DeepCopy()
	group.Status = desired
	log.V(4).Info("Patching status", "members", desired.MemberCount, "overlaps", len(desired.Overlaps))
	patch := client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})
	r.own.writing(group)
	if err := r.Status().Patch(ctx, group, patch); err != nil {
		r.own.notWritten(group)
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			// Another writer changed the group, or it went away, since it was
			// read (the operator's own earlier writes are read back through
			// ownWrites); the watch event of that change brings the namespace
			// back with a fresh view.
			log.V(4).Info("Skipping status of a LabelGroup that changed since it was read", "reason", err.Error())
			return nil
		}
		// A refused write (invalid, too large, forbidden) is counted and
		// returned: controller-runtime logs it and retries the namespace with
		// backoff. The other groups of the namespace are written all the same.
		statusWriteErrors.WithLabelValues(group.Namespace, writeErrorReason(err)).Inc()
		return fmt.Errorf("patching status of LabelGroup %s: %w", klog.KObj(group), err)
	}
	r.own.wrote(group)

	if eventType, reason, ok := overlapTransition(before.Status.Conditions, desired.Conditions); ok {
		overlapping := meta.FindStatusCondition(desired.Conditions, v1alpha1.ConditionOverlapping)
		r.Recorder.Eventf(group, nil, eventType, reason, "Reconcile", "%s", eventNote(overlapping.Message))
	}
	if eventType, reason, message, ok := metadataTransition(before.Status.Conditions, desired.Conditions); ok {
		r.Recorder.Eventf(group, nil, eventType, reason, "StampMetadata", "%s", eventNote(message))
	}
	if selectorErr != nil {
		return reconcile.TerminalError(fmt.Errorf("LabelGroup %s has an invalid selector: %w", klog.KObj(group), selectorErr))
	}
	return nil
}

// SetupWithManager watches LabelGroups and the metadata of pods (labels are all
// the engine needs; a full pod cache costs several times the memory), feeds
// every event to the namespace's index and maps it to its namespace.
func (r *LabelGroupReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.pacer.interval = r.MinReconcileInterval
	r.index.memberLimit = r.MemberLimit
	return ctrl.NewControllerManagedBy(mgr).
		Named("labelgroup").
		WithOptions(controller.Options{MaxConcurrentReconciles: max(1, r.MaxConcurrentReconciles)}).
		// Every change of a group, its status included, brings the namespace back,
		// except the echo of the operator's own status write (see ownWrites): a
		// status write that lost a race with another writer (see writeStatus) is
		// retried when that writer's version arrives, and a status edited by hand
		// is put right.
		Watches(&v1alpha1.LabelGroup{}, indexing(r.index.groupChanged, r.index.groupDeleted, r.enqueueNamespace(false)), builder.WithPredicates(r.own.skipEchoes())).
		// Only a pod's labels, creation and deletion change membership; with
		// stamping on, also the stamped annotations and the groups' managed
		// fields, which are all the cache keeps of them.
		WatchesRawSource(r.podMetadataSource(mgr.GetCache())).
		Complete(r)
}
