package validation

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	groupingv1alpha1 "github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/crdvalidation/corpus"
)

// labelGroup builds a LabelGroup from the YAML of its spec (see corpus.LabelGroup).
func labelGroup(name, specYAML string) *unstructured.Unstructured {
	obj, err := corpus.LabelGroup(name, specYAML)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return obj
}

// create sends obj as `kubectl apply` does: unknown fields are an error.
func create(obj client.Object) error {
	return k8sClient.Create(ctx, obj, client.FieldValidation("Strict"))
}

var _ = Describe("LabelGroup schema", func() {
	DescribeTable("refuses an invalid LabelGroup, naming the field, and stores nothing",
		func(field, specYAML string) {
			obj := labelGroup("invalid", specYAML)
			err := create(obj)
			Expect(err).To(HaveOccurred(), "the API server accepted an invalid LabelGroup")
			Expect(apierrors.IsInvalid(err) || apierrors.IsBadRequest(err)).To(BeTrue(), "want an Invalid or BadRequest error, got %v", err)
			Expect(err.Error()).To(ContainSubstring(field), "the error should name the offending field")

			Expect(apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), obj))).To(BeTrue(), "nothing may be stored")
		},
		refusedEntries(),
	)

	DescribeTable("accepts a valid LabelGroup as written",
		func(specYAML string) {
			obj := labelGroup("valid", specYAML)
			Expect(create(obj)).To(Succeed())
			DeferCleanup(func() { Expect(k8sClient.Delete(ctx, obj)).To(Succeed()) })
		},
		acceptedEntries(),
	)

	It("accepts the empty selector, which selects every pod, and defaults overlapPolicy to Members", func() {
		obj := labelGroup("everything", `selector: {}`)
		Expect(create(obj)).To(Succeed())
		DeferCleanup(func() { Expect(k8sClient.Delete(ctx, obj)).To(Succeed()) })

		var stored groupingv1alpha1.LabelGroup
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), &stored)).To(Succeed())
		Expect(stored.Spec.OverlapPolicy).To(Equal(groupingv1alpha1.OverlapPolicyMembers))
		Expect(stored.Spec.Selector.MatchLabels).To(BeEmpty())
		Expect(stored.Spec.Selector.MatchExpressions).To(BeEmpty())
	})

	It("refuses an invalid update and leaves the stored LabelGroup as it was", func() {
		obj := labelGroup("kept", `
selector:
  matchLabels: {tier: web}`)
		Expect(create(obj)).To(Succeed())
		DeferCleanup(func() { Expect(k8sClient.Delete(ctx, obj)).To(Succeed()) })
		before := obj.DeepCopy()

		Expect(unstructured.SetNestedSlice(obj.Object, []any{
			map[string]any{"key": "tier", "operator": "In"},
		}, "spec", "selector", "matchExpressions")).To(Succeed())
		err := k8sClient.Update(ctx, obj)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want Invalid, got %v", err)
		Expect(err.Error()).To(ContainSubstring("spec.selector.matchExpressions[0].values"))

		after := labelGroup("kept", `selector: {}`)
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(after), after)).To(Succeed())
		Expect(after.GetResourceVersion()).To(Equal(before.GetResourceVersion()))
		Expect(after.Object["spec"]).To(Equal(before.Object["spec"]))
	})
})

var _ = Describe("config/samples", func() {
	It("applies, file by file, as kubectl apply -f would", func() {
		files, err := filepath.Glob(filepath.Join("..", "..", "..", "config", "samples", "*.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(files).NotTo(BeEmpty())
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "samples-"}}
		Expect(k8sClient.Create(ctx, ns)).To(Succeed())

		groups := 0
		for _, file := range files {
			for _, obj := range readManifests(file) {
				obj.SetNamespace(ns.Name)
				Expect(create(obj)).To(Succeed(), "%s: %s %s", file, obj.GetKind(), obj.GetName())
				if obj.GetKind() == "LabelGroup" {
					groups++
				}
			}
		}
		Expect(groups).To(BeNumerically(">=", 3), "the samples should show at least three LabelGroups")
	})
})

// readManifests decodes every object of a multi-document YAML file.
func readManifests(path string) []*unstructured.Unstructured {
	data, err := os.ReadFile(path)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	var objects []*unstructured.Unstructured
	decoder := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		obj := &unstructured.Unstructured{}
		err := decoder.Decode(&obj.Object)
		if errors.Is(err, io.EOF) {
			return objects
		}
		ExpectWithOffset(1, err).NotTo(HaveOccurred(), path)
		if len(obj.Object) > 0 {
			objects = append(objects, obj)
		}
	}
}

// refusedEntries are the table entries of corpus.Refused.
func refusedEntries() []TableEntry {
	entries := make([]TableEntry, len(corpus.Refused))
	for i, c := range corpus.Refused {
		entries[i] = Entry(c.Name, c.Field, c.SpecYAML)
	}
	return entries
}

// acceptedEntries are the table entries of corpus.Accepted.
func acceptedEntries() []TableEntry {
	entries := make([]TableEntry, len(corpus.Accepted))
	for i, c := range corpus.Accepted {
		entries[i] = Entry(c.Name, c.SpecYAML)
	}
	return entries
}
