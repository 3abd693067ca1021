package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

// podMetadataSource is the LabelGroup reconciler's watch of the pods'
// metadata: every pod event feeds the namespace's index, then is queued.
func (r *LabelGroupReconciler) podMetadataSource(c cache.Cache) source.SyncingSource {
	return r.MemberMetadata.podSource(c, indexing(r.index.podChanged, r.index.podDeleted, r.enqueueNamespace(true)), r.podPredicate())
}

// podSource is a watch of the pods' metadata for any reconciler of a manager
// that may stamp: all of them share one pod informer, and whichever starts it
// first must have the stamped annotation keys first. m is nil without
// stamping.
//
// With stamping on, the cache keeps only the annotations whose keys some group
// stamps (AnnotationKeys). Those keys must be known before the pod informer
// makes its first list: a manager that starts, or becomes leader, in a
// namespace another manager already stamped would otherwise cache the pods
// without their stamped annotations, see them missing, and apply them again;
// an apply that changes nothing brings no watch event to correct the cache, so
// it would do so on every reconcile until each pod changed. So the pod
// informer is started only once the keys of every LabelGroup the cache holds
// are in AnnotationKeys. A group created later adds its keys when it is
// reconciled, before any of them is applied, so the pods' watch events after
// the applies carry them.
func (m *MemberMetadata) podSource(c cache.Cache, h handler.EventHandler, predicates ...predicate.Predicate) source.SyncingSource {
	pod := &metav1.PartialObjectMetadata{}
	pod.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Pod"))
	pods := source.Kind[client.Object](c, pod, h, predicates...)
	if m == nil {
		return pods
	}
	return &afterStampedKeys{cache: c, keys: &m.AnnotationKeys, pods: pods, seeded: make(chan error, 1)}
}

// afterStampedKeys starts pods once keys holds the annotation keys of every
// LabelGroup in the cache.
type afterStampedKeys struct {
	cache  cache.Cache
	keys   *AnnotationKeys
	pods   source.SyncingSource
	seeded chan error
}

// Start returns at once, as a source must; the pod watch starts once the
// LabelGroup informer has synced.
func (s *afterStampedKeys) Start(ctx context.Context, queue workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
	go func() {
		if err := s.addKeysOfEveryGroup(ctx); err != nil {
			s.seeded <- err
			return
		}
		s.seeded <- s.pods.Start(ctx, queue)
	}()
	return nil
}

func (s *afterStampedKeys) addKeysOfEveryGroup(ctx context.Context) error {
	// The cache's List waits for the LabelGroup informer to sync.
	var groups v1alpha1.LabelGroupList
	if err := s.cache.List(ctx, &groups); err != nil {
		return fmt.Errorf("listing LabelGroups for the annotation keys they stamp: %w", err)
	}
	for i := range groups.Items {
		s.keys.addStampedBy(&groups.Items[i])
	}
	return nil
}

// WaitForSync waits for the keys, then for the pod informer to sync.
func (s *afterStampedKeys) WaitForSync(ctx context.Context) error {
	select {
	case err := <-s.seeded:
		if err != nil {
			return err
		}
	case <-ctx.Done():
		return fmt.Errorf("waiting for the annotation keys of the LabelGroups: %w", ctx.Err())
	}
	return s.pods.WaitForSync(ctx)
}

func (s *afterStampedKeys) String() string {
	return fmt.Sprintf("%s, after the annotation keys of every LabelGroup", s.pods)
}
