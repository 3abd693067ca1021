package validation

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	groupingv1alpha1 "github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

// labelGroup builds a LabelGroup from the YAML of its spec, the way a user
// writes it, so that each case can hold input that no Go type could (wrong
// types, misspelt fields, missing required fields).
func labelGroup(name, specYAML string) *unstructured.Unstructured {
	spec := map[string]any{}
	ExpectWithOffset(1, yaml.Unmarshal([]byte(specYAML), &spec)).To(Succeed())
	obj := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	obj.SetGroupVersionKind(groupingv1alpha1.GroupVersion.WithKind("LabelGroup"))
	obj.SetNamespace("default")
	obj.SetName(name)
	return obj
}

// create sends obj as `kubectl apply` does: unknown fields are an error.
func create(obj client.Object) error {
	return k8sClient.Create(ctx, obj, client.FieldValidation("Strict"))
}

var (
	name63    = strings.Repeat("a", 63)
	name64    = strings.Repeat("a", 64)
	prefix253 = strings.Repeat("a", 61) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 63)
	prefix254 = prefix253 + "e"
)

// manyLabels returns a matchLabels block of n distinct entries.
func manyLabels(n int) string {
	var b strings.Builder
	b.WriteString("selector:\n  matchLabels:\n")
	for i := range n {
		fmt.Fprintf(&b, "    key%d: v\n", i)
	}
	return b.String()
}

// manyExpressions returns a matchExpressions block of n requirements.
func manyExpressions(n int) string {
	var b strings.Builder
	b.WriteString("selector:\n  matchExpressions:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {key: key%d, operator: Exists}\n", i)
	}
	return b.String()
}

// manyValues returns one In requirement with n distinct values.
func manyValues(n int) string {
	values := make([]string, n)
	for i := range values {
		values[i] = fmt.Sprintf("v%d", i)
	}
	return "selector:\n  matchExpressions:\n  - {key: tier, operator: In, values: [" + strings.Join(values, ", ") + "]}\n"
}

// manyMetadata returns a memberMetadata block whose kind map (labels or
// annotations) has n distinct entries.
func manyMetadata(kind string, n int) string {
	var b strings.Builder
	b.WriteString("selector: {}\nmemberMetadata:\n  " + kind + ":\n")
	for i := range n {
		fmt.Fprintf(&b, "    key%d: v\n", i)
	}
	return b.String()
}

// annotationOfLength returns a memberMetadata block with one annotation whose
// value is n characters long.
func annotationOfLength(n int) string {
	return "selector: {}\nmemberMetadata:\n  annotations:\n    example.com/note: " + strings.Repeat("x", n) + "\n"
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
		Entry("no spec", "spec.selector", ``),
		Entry("no selector", "spec.selector", `overlapPolicy: Members`),
		Entry("misspelt matchLabels", `unknown field "spec.selector.matchLabel"`, `
selector:
  matchLabel: {tier: web}`),
		Entry("matchLabels value that is a number", "spec.selector.matchLabels.tier", `
selector:
  matchLabels: {tier: 5}`),
		Entry("matchLabels key with a space", "spec.selector.matchLabels", `
selector:
  matchLabels: {"bad key": web}`),
		Entry("matchLabels key starting with a dash", "spec.selector.matchLabels", `
selector:
  matchLabels: {"-tier": web}`),
		Entry("matchLabels key with a 64-character name", "spec.selector.matchLabels", `
selector:
  matchLabels: {`+name64+`: web}`),
		Entry("matchLabels key with a 254-character prefix", "spec.selector.matchLabels", `
selector:
  matchLabels: {`+prefix254+`/tier: web}`),
		Entry("matchLabels key with an upper-case prefix", "spec.selector.matchLabels", `
selector:
  matchLabels: {Example.com/tier: web}`),
		Entry("matchLabels key with two slashes", "spec.selector.matchLabels", `
selector:
  matchLabels: {example.com/tier/x: web}`),
		Entry("matchLabels key with an empty prefix", "spec.selector.matchLabels", `
selector:
  matchLabels: {/tier: web}`),
		Entry("matchLabels empty key", "spec.selector.matchLabels", `
selector:
  matchLabels: {"": web}`),
		Entry("matchLabels value of 64 characters", "spec.selector.matchLabels.tier", `
selector:
  matchLabels: {tier: `+name64+`}`),
		Entry("matchLabels value with a space", "spec.selector.matchLabels[tier]", `
selector:
  matchLabels: {tier: "web server"}`),
		Entry("matchLabels value ending with a dash", "spec.selector.matchLabels[tier]", `
selector:
  matchLabels: {tier: web-}`),
		Entry("matchLabels value starting with a dot", "spec.selector.matchLabels[tier]", `
selector:
  matchLabels: {tier: .web}`),
		Entry("more than 32 matchLabels", "spec.selector.matchLabels", manyLabels(33)),
		Entry("lower-case operator", "spec.selector.matchExpressions[0].operator", `
selector:
  matchExpressions:
  - {key: tier, operator: in, values: [web]}`),
		Entry("unknown operator", "spec.selector.matchExpressions[0].operator", `
selector:
  matchExpressions:
  - {key: tier, operator: Equals, values: [web]}`),
		Entry("missing operator", "spec.selector.matchExpressions[0].operator", `
selector:
  matchExpressions:
  - {key: tier, values: [web]}`),
		Entry("missing key", "spec.selector.matchExpressions[0].key", `
selector:
  matchExpressions:
  - {operator: Exists}`),
		Entry("expression key with a space", "spec.selector.matchExpressions[0].key", `
selector:
  matchExpressions:
  - {key: "bad key", operator: Exists}`),
		Entry("expression key with a 64-character name", "spec.selector.matchExpressions[1].key", `
selector:
  matchExpressions:
  - {key: tier, operator: Exists}
  - {key: example.com/`+name64+`, operator: Exists}`),
		Entry("expression key with a 254-character prefix", "spec.selector.matchExpressions[0].key", `
selector:
  matchExpressions:
  - {key: `+prefix254+`/tier, operator: Exists}`),
		Entry("In with no values", "spec.selector.matchExpressions[0].values", `
selector:
  matchExpressions:
  - {key: tier, operator: In}`),
		Entry("NotIn with an empty values list", "spec.selector.matchExpressions[0].values", `
selector:
  matchExpressions:
  - {key: tier, operator: NotIn, values: []}`),
		Entry("Exists with values", "spec.selector.matchExpressions[0].values", `
selector:
  matchExpressions:
  - {key: tier, operator: Exists, values: [web]}`),
		Entry("DoesNotExist with values", "spec.selector.matchExpressions[0].values", `
selector:
  matchExpressions:
  - {key: tier, operator: DoesNotExist, values: [web]}`),
		Entry("a value with a space", "spec.selector.matchExpressions[0].values[1]", `
selector:
  matchExpressions:
  - {key: tier, operator: In, values: [web, "web server"]}`),
		Entry("a value of 64 characters", "spec.selector.matchExpressions[0].values[0]", `
selector:
  matchExpressions:
  - {key: tier, operator: NotIn, values: [`+name64+`]}`),
		Entry("values that are not a list", "spec.selector.matchExpressions[0].values", `
selector:
  matchExpressions:
  - {key: tier, operator: In, values: web}`),
		Entry("more than 32 matchExpressions", "spec.selector.matchExpressions", manyExpressions(33)),
		Entry("more than 64 values", "spec.selector.matchExpressions[0].values", manyValues(65)),
		Entry("unknown overlapPolicy", "spec.overlapPolicy", `
selector: {}
overlapPolicy: Everything`),
		Entry("memberMetadata label key with a space", "spec.memberMetadata.labels: Invalid value: every key must be a qualified label key", `
selector: {}
memberMetadata:
  labels: {"bad key": x}`),
		Entry("memberMetadata label key with a 254-character prefix", "spec.memberMetadata.labels", `
selector: {}
memberMetadata:
  labels: {`+prefix254+`/team: x}`),
		Entry("memberMetadata label value of 64 characters", "spec.memberMetadata.labels.team", `
selector: {}
memberMetadata:
  labels: {team: `+name64+`}`),
		Entry("memberMetadata label value with a slash", "spec.memberMetadata.labels[team]: Invalid value: \"a/b\": must be a label value", `
selector: {}
memberMetadata:
  labels: {team: a/b}`),
		Entry("memberMetadata annotation key with a 64-character name", "every key must be a qualified annotation key", `
selector: {}
memberMetadata:
  annotations: {example.com/`+name64+`: x}`),
		Entry("memberMetadata annotation value of 4097 characters", "spec.memberMetadata.annotations.example.com/note", annotationOfLength(4097)),
		Entry("more than 32 memberMetadata labels", "spec.memberMetadata.labels: Too many: 33", manyMetadata("labels", 33)),
		Entry("more than 32 memberMetadata annotations", "spec.memberMetadata.annotations: Too many: 33", manyMetadata("annotations", 33)),
		Entry("misspelt memberMetadata", `unknown field "spec.memberMetadata.label"`, `
selector: {}
memberMetadata:
  label: {team: x}`),
	)

	DescribeTable("accepts a valid LabelGroup as written",
		func(specYAML string) {
			obj := labelGroup("valid", specYAML)
			Expect(create(obj)).To(Succeed())
			DeferCleanup(func() { Expect(k8sClient.Delete(ctx, obj)).To(Succeed()) })
		},
		Entry("prefixed keys", `
selector:
  matchLabels: {app.kubernetes.io/name: shop}
  matchExpressions:
  - {key: example.com/tier, operator: In, values: [web, api]}`),
		Entry("63-character names and values", `
selector:
  matchLabels: {`+name63+`: `+name63+`}
  matchExpressions:
  - {key: example.com/`+name63+`, operator: NotIn, values: [`+name63+`]}`),
		Entry("a 253-character prefix", `
selector:
  matchLabels: {`+prefix253+`/tier: web}`),
		Entry("the empty value", `
selector:
  matchLabels: {tier: ""}
  matchExpressions:
  - {key: track, operator: In, values: [""]}`),
		Entry("every operator", `
selector:
  matchExpressions:
  - {key: tier, operator: In, values: [web]}
  - {key: environment, operator: NotIn, values: [dev, qa]}
  - {key: app, operator: Exists}
  - {key: legacy, operator: DoesNotExist, values: []}`),
		Entry("values with dots, dashes and underscores", `
selector:
  matchLabels: {ver: 1.2.3-rc_1}`),
		Entry("the most matchLabels, matchExpressions and values allowed", manyLabels(32)),
		Entry("32 matchExpressions", manyExpressions(32)),
		Entry("64 values", manyValues(64)),
		Entry("policy Selectors", `
selector: {matchLabels: {tier: web}}
overlapPolicy: Selectors`),
		Entry("memberMetadata with prefixed keys, an empty label value and free-text annotations", `
selector: {}
memberMetadata:
  labels: {team: payments, example.com/tier: "", `+name63+`: `+name63+`}
  annotations: {cost-center: "CC 1234 / payments", `+prefix253+`/note: "any text: here"}`),
		Entry("32 memberMetadata labels", manyMetadata("labels", 32)),
		Entry("32 memberMetadata annotations", manyMetadata("annotations", 32)),
		Entry("an annotation value of 4096 characters", annotationOfLength(4096)),
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
