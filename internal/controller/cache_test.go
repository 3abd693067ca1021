package controller

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestCacheKeepsOnlyWhatTheReconcilerReads(t *testing.T) {
	now := metav1.Now()
	pod := &metav1.PartialObjectMetadata{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name: "web-1", Namespace: "shop", UID: "u1", ResourceVersion: "42",
			Labels:            map[string]string{"tier": "web"},
			Annotations:       map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{...}"},
			OwnerReferences:   []metav1.OwnerReference{{Name: "web-abc"}},
			Finalizers:        []string{"example.com/hold"},
			ManagedFields:     []metav1.ManagedFieldsEntry{{Manager: "kubectl"}},
			DeletionTimestamp: &now,
		},
	}
	out, err := CacheOptions().DefaultTransform(pod)
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*metav1.PartialObjectMetadata)
	if got.Name != "web-1" || got.Namespace != "shop" || got.ResourceVersion != "42" || got.Labels["tier"] != "web" || got.DeletionTimestamp == nil {
		t.Errorf("the transform lost what the reconciler or the cache needs: %+v", got.ObjectMeta)
	}
	if got.Annotations != nil || got.OwnerReferences != nil || got.Finalizers != nil || got.ManagedFields != nil {
		t.Errorf("the transform kept metadata nothing reads: %+v", got.ObjectMeta)
	}
}
