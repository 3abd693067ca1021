package controller

import (
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// realisticPod is the metadata of a Deployment's pod as the API server sends
// it: kubectl's last-applied annotation, an owner, and managed fields of the
// controller, the kubelet and, when stamped, a group.
func realisticPod(stamped bool) *metav1.PartialObjectMetadata {
	fields := func(raw string) *metav1.FieldsV1 { return &metav1.FieldsV1{Raw: []byte(raw)} }
	pod := &metav1.PartialObjectMetadata{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name: "shop-7d9f8c6b5-x2x9q", Namespace: "shop", UID: "0f5c2d8e-1111-2222-3333-444455556666", ResourceVersion: "123456",
			Labels: map[string]string{"app": "shop", "pod-template-hash": "7d9f8c6b5", "tier": "web"},
			Annotations: map[string]string{
				"kubectl.kubernetes.io/restartedAt": "2026-11-21T10:00:00Z",
				"prometheus.io/scrape":              "true",
				"example.com/cost-center":           "cc-1234",
				"example.com/build":                 strings.Repeat("b", 200),
			},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "shop-7d9f8c6b5", UID: "u"}},
			ManagedFields: []metav1.ManagedFieldsEntry{
				{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate, FieldsV1: fields(`{"f:metadata":{"f:labels":{"f:app":{},"f:pod-template-hash":{},"f:tier":{}},"f:ownerReferences":{}},"f:spec":{"f:containers":{}}}` + strings.Repeat(" ", 1500))},
				{Manager: "kubelet", Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "status", FieldsV1: fields(`{"f:status":{"f:conditions":{}}}` + strings.Repeat(" ", 2000))},
			},
		},
	}
	if stamped {
		pod.ManagedFields = append(pod.ManagedFields, metav1.ManagedFieldsEntry{
			Manager: "labelgroup.io/payments", Operation: metav1.ManagedFieldsOperationApply,
			FieldsV1: fields(`{"f:metadata":{"f:annotations":{"f:example.com/cost-center":{}}}}`),
		})
	}
	return pod
}

func TestCacheWithMemberMetadataKeepsOnlyStampedKeysAndGroupManagers(t *testing.T) {
	m := &MemberMetadata{}
	transform := CacheOptionsWithMemberMetadata(m).DefaultTransform

	out, err := transform(realisticPod(false))
	if err != nil {
		t.Fatal(err)
	}
	today, _ := CacheOptions().DefaultTransform(realisticPod(false))
	if !reflect.DeepEqual(out, today) {
		t.Errorf("with no group stamping, the cached pod differs from today's:\n%+v\nwant\n%+v", out, today)
	}

	m.AnnotationKeys.Add("example.com/cost-center")
	out, err = transform(realisticPod(true))
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*metav1.PartialObjectMetadata)
	if want := map[string]string{"example.com/cost-center": "cc-1234"}; !reflect.DeepEqual(got.Annotations, want) {
		t.Errorf("annotations = %v, want only the stamped key %v", got.Annotations, want)
	}
	if len(got.ManagedFields) != 1 || got.ManagedFields[0].Manager != "labelgroup.io/payments" {
		t.Errorf("managed fields = %v, want only the group's manager", got.ManagedFields)
	}
	if got.Labels["app"] != "shop" || got.OwnerReferences != nil {
		t.Errorf("the transform kept the wrong metadata: %+v", got.ObjectMeta)
	}
}

// BenchmarkCachedPod measures what one pod's cached metadata allocates: with
// the flag off, with it on and no group stamping, and with the pod stamped
// by a group. See docs/performance.md.
func BenchmarkCachedPod(b *testing.B) {
	stamping := &MemberMetadata{}
	stamping.AnnotationKeys.Add("example.com/cost-center")
	cases := []struct {
		name      string
		transform func(any) (any, error)
		stamped   bool
	}{
		{"flag-off", CacheOptions().DefaultTransform, false},
		{"flag-on-no-group-stamps", CacheOptionsWithMemberMetadata(&MemberMetadata{}).DefaultTransform, false},
		{"flag-on-pod-stamped", CacheOptionsWithMemberMetadata(stamping).DefaultTransform, true},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			pod := realisticPod(c.stamped)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.transform(pod); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
