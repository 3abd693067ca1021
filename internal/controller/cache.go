package controller

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
)

// CacheOptions keep the informer cache small: of a pod's metadata only what the
// reconciler reads is kept (name, namespace, labels, and what the cache itself
// needs), and every other object loses its managed fields.
func CacheOptions() cache.Options {
	stripManagedFields := cache.TransformStripManagedFields()
	return cache.Options{
		DefaultTransform: func(obj any) (any, error) {
			if m, ok := obj.(*metav1.PartialObjectMetadata); ok {
				return slimMetadata(m), nil
			}
			return stripManagedFields(obj)
		},
	}
}

// slimMetadata drops annotations, owner references, finalizers and managed
// fields: on real pods they are most of the metadata, and nothing here reads them.
func slimMetadata(m *metav1.PartialObjectMetadata) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{
		TypeMeta: m.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Name:              m.Name,
			Namespace:         m.Namespace,
			UID:               m.UID,
			ResourceVersion:   m.ResourceVersion,
			Generation:        m.Generation,
			Labels:            m.Labels,
			CreationTimestamp: m.CreationTimestamp,
			DeletionTimestamp: m.DeletionTimestamp,
		},
	}
}
