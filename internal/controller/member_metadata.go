package controller

import (
	"context"
	"fmt"
	"maps"
	"sync"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/metadata"
	"github.com/labelgroup/labelgroup-operator/internal/selector"
)

// DefaultStampConcurrency is how many pod writes the stamping of one namespace
// has in flight at most, unless MemberMetadata.Concurrency says otherwise.
const DefaultStampConcurrency = 8

// maxApplyTries bounds the applies to one pod in a reconcile: each conflict
// takes keys out of the next try, so more than a few tries means the pod keeps
// changing, and its watch event brings the namespace back anyway.
const maxApplyTries = 3

// MemberMetadata turns on the stamping of spec.memberMetadata on member pods
// (--enable-member-metadata). The same value must be given to
// CacheOptionsWithMemberMetadata, so that the cache keeps what the planner reads.
type MemberMetadata struct {
	// Concurrency caps the pod writes in flight; DefaultStampConcurrency if 0.
	Concurrency int
	// AnnotationKeys are the annotation keys some group stamps; the pod cache
	// keeps these annotations and drops the others.
	AnnotationKeys AnnotationKeys

	// conflicts remembers, for a pod at one resourceVersion, the keys a
	// group's apply could not take, so that a pod whose cached copy predates
	// a new annotation key is not asked again until it changes.
	mu        sync.Mutex
	conflicts map[conflictMemoKey][]metadata.Conflict
}

// conflictMemoKey is a pod at one resourceVersion and a group at one
// generation: a change of either makes what was remembered useless.
type conflictMemoKey struct {
	namespace       string
	pod             types.UID
	resourceVersion string
	group           types.UID
	generation      int64
}

func memoKey(pod *metav1.PartialObjectMetadata, group *v1alpha1.LabelGroup) conflictMemoKey {
	return conflictMemoKey{pod.Namespace, pod.UID, pod.ResourceVersion, group.UID, group.Generation}
}

func (m *MemberMetadata) rememberedConflicts(key conflictMemoKey) []metadata.Conflict {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.conflicts[key]
}

func (m *MemberMetadata) rememberConflicts(key conflictMemoKey, conflicts []metadata.Conflict) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.conflicts == nil {
		m.conflicts = map[conflictMemoKey][]metadata.Conflict{}
	}
	m.conflicts[key] = conflicts
}

// forgetConflictsExcept drops what was remembered of the pods of namespace
// that are gone or no longer at the resourceVersion remembered; current maps
// the namespace's pods to their resourceVersions.
func (m *MemberMetadata) forgetConflictsExcept(namespace string, current map[types.UID]string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.conflicts {
		if rv, ok := current[k.pod]; k.namespace == namespace && (!ok || rv != k.resourceVersion) {
			delete(m.conflicts, k)
		}
	}
}

// metadataOutcome is what stamping tells a group's status: nil fields for a
// group without memberMetadata, whose status stays as it always was.
type metadataOutcome struct {
	summary   *v1alpha1.MemberMetadataStatus
	condition *metav1.Condition
}

// stamps says whether group asks for metadata on its members.
func stamps(group *v1alpha1.LabelGroup) bool {
	md := group.Spec.MemberMetadata
	return md != nil && (len(md.Labels) > 0 || len(md.Annotations) > 0)
}

// stampingGroup is one group's part of a namespace's stamping.
type stampingGroup struct {
	group    *v1alpha1.LabelGroup
	planned  metadata.Group
	selector labels.Selector // nil: no pod is a member (invalid selector, or deleting)
	refused  []string
	plans    []metadata.PodPlan
	pods     []*metav1.PartialObjectMetadata // the pod of each plan
	release  bool                            // the group is deleted or stamps nothing: it only releases
	groupOf  func(manager string) string
}

// stampMetadata carries out every group's stamping plan for the namespace and
// returns what each group's status should say about it, also when some pod
// write failed (with the error, to be retried). pods are the namespace's pods
// as the reconcile read them, which this only reads. Groups that neither
// stamp nor hold the release finalizer cost nothing.
func (r *LabelGroupReconciler) stampMetadata(ctx context.Context, namespace string, groups []v1alpha1.LabelGroup, pods []metav1.PartialObjectMetadata) ([]metadataOutcome, error) {
	outcomes := make([]metadataOutcome, len(groups))
	involved := false
	for i := range groups {
		involved = involved || stamps(&groups[i]) || controllerutil.ContainsFinalizer(&groups[i], v1alpha1.FinalizerReleaseMetadata)
	}
	if !involved {
		return outcomes, nil
	}
	if r.MemberMetadata == nil {
		for i := range groups {
			if stamps(&groups[i]) {
				outcomes[i].condition = stampingDisabledCondition(groups[i].Generation)
			}
		}
		return outcomes, nil
	}

	work, err := r.planGroups(ctx, namespace, groups, pods)
	if err != nil {
		return nil, err
	}
	writeErr := r.carryOut(ctx, work)
	for i, w := range work {
		if w == nil && stamps(&groups[i]) && groups[i].DeletionTimestamp.IsZero() {
			outcomes[i] = previousOutcome(&groups[i]) // skipped this time (see prepareGroup)
			continue
		}
		if w == nil || w.release {
			continue
		}
		outcomes[i].summary = metadata.Summarize(w.plans, w.refused)
		outcomes[i].condition = metadataCondition(outcomes[i].summary, groups[i].Generation)
	}
	if writeErr != nil {
		return outcomes, writeErr
	}
	return outcomes, r.removeReleasedFinalizers(ctx, work)
}

// previousOutcome is what the group's status already says, for a group that
// was skipped: its status stays as it is until the group comes back.
func previousOutcome(group *v1alpha1.LabelGroup) metadataOutcome {
	outcome := metadataOutcome{summary: group.Status.MemberMetadata}
	if c := meta.FindStatusCondition(group.Status.Conditions, v1alpha1.ConditionMetadataApplied); c != nil {
		outcome.condition = c.DeepCopy()
	}
	return outcome
}

// planGroups plans every involved group over the namespace's pods; work[i]
// is nil for a group that takes no part.
func (r *LabelGroupReconciler) planGroups(ctx context.Context, namespace string, groups []v1alpha1.LabelGroup, pods []metav1.PartialObjectMetadata) ([]*stampingGroup, error) {
	selectors := make([]v1alpha1.LabelSelector, len(groups))
	groupOfManager := map[string]string{}
	for i := range groups {
		selectors[i] = groups[i].Spec.Selector
		groupOfManager[metadata.ManagerFor(groups[i].Name)] = groups[i].Name
	}
	selectorKeys := metadata.SelectorKeys(selectors)
	groupOf := func(manager string) string {
		if name, ok := groupOfManager[manager]; ok {
			return name
		}
		return manager // a manager of a group that is gone: name it as it is
	}

	work := make([]*stampingGroup, len(groups))
	for i := range groups {
		w, err := r.prepareGroup(ctx, &groups[i], selectorKeys)
		if err != nil {
			return nil, err
		}
		if w != nil {
			w.groupOf = groupOf
		}
		work[i] = w
	}

	current := make(map[types.UID]string, len(pods))
	for p := range pods {
		pod := &pods[p]
		current[pod.UID] = pod.ResourceVersion
		planned := metadata.Pod{Name: pod.Name, Labels: pod.Labels, Annotations: pod.Annotations, Owned: metadata.OwnedByGroups(pod.ManagedFields)}
		for _, w := range work {
			if w == nil {
				continue
			}
			member := w.selector != nil && w.selector.Matches(labels.Set(pod.Labels))
			plan := metadata.PlanPod(w.planned, planned, member, groupOf)
			if remembered := r.MemberMetadata.rememberedConflicts(memoKey(pod, w.group)); plan.Write && remembered != nil {
				plan = metadata.WithoutConflicts(plan, remembered, groupOf)
				plan.Write = metadata.NeedsWrite(plan.Apply, planned, w.planned.Manager)
			}
			if plan.Member || plan.Write {
				w.plans = append(w.plans, plan)
				w.pods = append(w.pods, pod)
			}
		}
	}
	r.MemberMetadata.forgetConflictsExcept(namespace, current)
	return work, nil
}

// prepareGroup decides a group's part: stamping (with its finalizer in place
// first, so that it cannot be deleted before it has released), releasing only,
// or none.
func (r *LabelGroupReconciler) prepareGroup(ctx context.Context, group *v1alpha1.LabelGroup, selectorKeys map[string]bool) (*stampingGroup, error) {
	hasFinalizer := controllerutil.ContainsFinalizer(group, v1alpha1.FinalizerReleaseMetadata)
	deleting := !group.DeletionTimestamp.IsZero()
	if !stamps(group) || deleting {
		if !hasFinalizer {
			return nil, nil
		}
		return &stampingGroup{group: group, planned: metadata.Group{Name: group.Name, Manager: metadata.ManagerFor(group.Name)}, release: true}, nil
	}
	if !hasFinalizer {
		before := group.DeepCopy()
		controllerutil.AddFinalizer(group, v1alpha1.FinalizerReleaseMetadata)
		if err := r.Patch(ctx, group, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
			if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
				// The group changed since the cache read it; its watch event
				// brings the namespace back. Until then it stamps nothing.
				*group = *before
				return nil, nil
			}
			return nil, fmt.Errorf("adding the finalizer of LabelGroup %s: %w", klog.KObj(group), err)
		}
	}
	md := group.Spec.MemberMetadata
	refused := metadata.Refused(md, selectorKeys)
	refusedSet := map[string]bool{}
	for _, k := range refused {
		refusedSet[k] = true
	}
	w := &stampingGroup{
		group:   group,
		planned: metadata.Group{Name: group.Name, Manager: metadata.ManagerFor(group.Name), Desired: metadata.DesiredOf(md, refusedSet)},
		refused: refused,
	}
	r.MemberMetadata.AnnotationKeys.addStampedBy(group)
	if sel, err := selector.ToLabelsSelector(group.Spec.Selector); err == nil {
		w.selector = sel
	}
	return w, nil
}

// carryOut applies every planned write, at most Concurrency at a time, and
// records in each plan the keys the API server left to someone else.
func (r *LabelGroupReconciler) carryOut(ctx context.Context, work []*stampingGroup) error {
	type write struct {
		group *stampingGroup
		plan  *metadata.PodPlan
		pod   *metav1.PartialObjectMetadata
	}
	var writes []write
	for _, w := range work {
		if w == nil {
			continue
		}
		for p := range w.plans {
			if w.plans[p].Write {
				writes = append(writes, write{w, &w.plans[p], w.pods[p]})
			}
		}
	}
	if len(writes) == 0 {
		return nil
	}
	concurrency := r.MemberMetadata.Concurrency
	if concurrency <= 0 {
		concurrency = DefaultStampConcurrency
	}
	errs := make([]error, len(writes))
	workqueue.ParallelizeUntil(ctx, concurrency, len(writes), func(i int) {
		errs[i] = r.applyPlan(ctx, writes[i].group, writes[i].plan, writes[i].pod)
	})
	return reconcileError(errs)
}

// applyPlan applies one pod's plan with the group's field manager, never
// forced. A conflict names keys someone else holds: they move to the plan's
// kept keys and the rest is applied again. The conflicts are remembered for
// the pod as the cache holds it: a cached pod may predate the group's newest
// annotation key and not show the pod's value, and should not be asked again
// until it changes.
func (r *LabelGroupReconciler) applyPlan(ctx context.Context, w *stampingGroup, plan *metadata.PodPlan, pod *metav1.PartialObjectMetadata) error {
	log := logf.FromContext(ctx).WithValues("labelgroup", klog.KObj(w.group), "pod", klog.KObj(pod))
	var conflicts []metadata.Conflict
	for range maxApplyTries {
		log.V(4).Info("Applying member metadata", "keys", len(plan.Apply))
		err := r.Apply(ctx, podApplyConfiguration(pod.Namespace, plan), client.FieldOwner(w.planned.Manager))
		if err == nil {
			if len(conflicts) > 0 {
				r.MemberMetadata.rememberConflicts(memoKey(pod, w.group), conflicts)
			}
			return nil
		}
		if apierrors.IsNotFound(err) {
			return nil // the pod is gone; there is nothing to stamp or release
		}
		found, ok := metadata.ApplyConflicts(err)
		if !ok {
			return fmt.Errorf("applying the metadata of LabelGroup %s to pod %s: %w", klog.KObj(w.group), plan.Pod, err)
		}
		conflicts = append(conflicts, found...)
		*plan = metadata.WithoutConflicts(*plan, found, w.groupOf)
	}
	log.V(4).Info("Leaving a pod whose metadata keeps changing to its next event", "conflicts", len(conflicts))
	return nil
}

// podApplyConfiguration is the whole set of labels and annotations the group
// owns on the pod after the apply; an empty one releases everything it owned.
// It carries the pod's name only: an apply to a pod that was deleted since the
// cache read fails validation instead of creating anything.
func podApplyConfiguration(namespace string, plan *metadata.PodPlan) *corev1ac.PodApplyConfiguration {
	ac := corev1ac.Pod(plan.Pod, namespace)
	podLabels, podAnnotations := map[string]string{}, map[string]string{}
	for k, v := range plan.Apply {
		if k.Kind == v1alpha1.MetadataKindLabel {
			podLabels[k.Name] = v
		} else {
			podAnnotations[k.Name] = v
		}
	}
	if len(podLabels) > 0 {
		ac.WithLabels(podLabels)
	}
	if len(podAnnotations) > 0 {
		ac.WithAnnotations(podAnnotations)
	}
	return ac
}

// removeReleasedFinalizers lets a group that only released (it is being
// deleted, or no longer stamps anything) go once every release succeeded.
func (r *LabelGroupReconciler) removeReleasedFinalizers(ctx context.Context, work []*stampingGroup) error {
	for _, w := range work {
		if w == nil || !w.release {
			continue
		}
		before := w.group.DeepCopy()
		controllerutil.RemoveFinalizer(w.group, v1alpha1.FinalizerReleaseMetadata)
		if err := r.Patch(ctx, w.group, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
			if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
				continue // the group's next event brings the namespace back
			}
			return fmt.Errorf("removing the finalizer of LabelGroup %s: %w", klog.KObj(w.group), err)
		}
	}
	return nil
}

// AnnotationKeys is the set of annotation keys some group stamps, shared by the
// reconciler, which adds to it, and the cache transform, which keeps only these
// annotations of a pod. It only grows while the manager runs: a key some group
// stopped stamping costs a little memory until the next restart, which is
// simpler than having the cache forget it.
type AnnotationKeys struct {
	mu   sync.RWMutex
	keys map[string]bool
}

// Add puts key in the set.
func (a *AnnotationKeys) Add(key string) {
	a.mu.RLock()
	has := a.keys[key]
	a.mu.RUnlock()
	if has {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	keys := maps.Clone(a.keys)
	if keys == nil {
		keys = map[string]bool{}
	}
	keys[key] = true
	a.keys = keys
}

// addStampedBy adds the annotation keys group stamps.
func (a *AnnotationKeys) addStampedBy(group *v1alpha1.LabelGroup) {
	if md := group.Spec.MemberMetadata; md != nil {
		for k := range md.Annotations {
			a.Add(k)
		}
	}
}

// filter returns the annotations whose keys are in the set; nil when none is.
func (a *AnnotationKeys) filter(annotations map[string]string) map[string]string {
	if len(annotations) == 0 {
		return nil
	}
	a.mu.RLock()
	keys := a.keys
	a.mu.RUnlock()
	var kept map[string]string
	for k := range keys {
		if v, ok := annotations[k]; ok {
			if kept == nil {
				kept = map[string]string{}
			}
			kept[k] = v
		}
	}
	return kept
}

// podPredicate lets through the pod changes that matter: labels, and with
// stamping on, the stamped annotations and the groups' managed fields (the
// cache keeps nothing else of them, so any change of these is one).
func (r *LabelGroupReconciler) podPredicate() predicate.Predicate {
	if r.MemberMetadata == nil {
		return predicate.LabelChangedPredicate{}
	}
	return predicate.Or[client.Object](
		predicate.LabelChangedPredicate{},
		predicate.AnnotationChangedPredicate{},
		predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
			return !equality.Semantic.DeepEqual(e.ObjectOld.GetManagedFields(), e.ObjectNew.GetManagedFields())
		}},
	)
}

// CacheOptionsWithMemberMetadata are CacheOptions for a manager that stamps
// member metadata: a pod's cached metadata also keeps the annotations some group
// stamps and the managed fields entries of the groups' own managers, nothing
// more, so that a pod costs what it did unless a group stamps it.
func CacheOptionsWithMemberMetadata(m *MemberMetadata) cache.Options {
	opts := CacheOptions()
	slimDefault := opts.DefaultTransform
	opts.DefaultTransform = func(obj any) (any, error) {
		pod, ok := obj.(*metav1.PartialObjectMetadata)
		if !ok {
			return slimDefault(obj)
		}
		slim := slimMetadata(pod)
		slim.Annotations = m.AnnotationKeys.filter(pod.Annotations)
		for _, e := range pod.ManagedFields {
			if metadata.IsGroupManager(e.Manager) {
				slim.ManagedFields = append(slim.ManagedFields, e)
			}
		}
		return slim, nil
	}
	return opts
}
