// Package corpus holds the LabelGroups the project knows the API server's
// verdict on: the refused inputs (each with the field its error must name)
// and the accepted edge cases. The envtest validation suite proves each
// verdict against a real API server; kubectl-labelgroup's lint tests and the
// differential suite check that lint reaches the same verdict offline.
package corpus

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	groupingv1alpha1 "github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

// Refusal is a LabelGroup spec the API server refuses.
type Refusal struct {
	// Name says what is wrong.
	Name string
	// Field is what the API server's error must contain: the offending field.
	Field string
	// SpecYAML is the spec as a user writes it.
	SpecYAML string
}

// Acceptance is a LabelGroup spec the API server accepts.
type Acceptance struct {
	// Name says which edge the case sits on.
	Name string
	// SpecYAML is the spec as a user writes it.
	SpecYAML string
}

// LabelGroup builds a LabelGroup in namespace default from the YAML of its
// spec, the way a user writes it, so that a case can hold input that no Go
// type could (wrong types, misspelt fields, missing required fields).
func LabelGroup(name, specYAML string) (*unstructured.Unstructured, error) {
	spec := map[string]any{}
	if err := yaml.Unmarshal([]byte(specYAML), &spec); err != nil {
		return nil, fmt.Errorf("spec of %s: %w", name, err)
	}
	obj := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	obj.SetGroupVersionKind(groupingv1alpha1.GroupVersion.WithKind("LabelGroup"))
	obj.SetNamespace("default")
	obj.SetName(name)
	return obj, nil
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

// Refused are the invalid LabelGroup specs: the API server refuses each,
// naming Field, and stores nothing.
var Refused = []Refusal{
	{"no spec", "spec.selector", ``},
	{"no selector", "spec.selector", `overlapPolicy: Members`},
	{"misspelt matchLabels", `unknown field "spec.selector.matchLabel"`, `
selector:
  matchLabel: {tier: web}`},
	{"matchLabels value that is a number", "spec.selector.matchLabels.tier", `
selector:
  matchLabels: {tier: 5}`},
	{"matchLabels key with a space", "spec.selector.matchLabels", `
selector:
  matchLabels: {"bad key": web}`},
	{"matchLabels key starting with a dash", "spec.selector.matchLabels", `
selector:
  matchLabels: {"-tier": web}`},
	{"matchLabels key with a 64-character name", "spec.selector.matchLabels", `
selector:
  matchLabels: {` + name64 + `: web}`},
	{"matchLabels key with a 254-character prefix", "spec.selector.matchLabels", `
selector:
  matchLabels: {` + prefix254 + `/tier: web}`},
	{"matchLabels key with an upper-case prefix", "spec.selector.matchLabels", `
selector:
  matchLabels: {Example.com/tier: web}`},
	{"matchLabels key with two slashes", "spec.selector.matchLabels", `
selector:
  matchLabels: {example.com/tier/x: web}`},
	{"matchLabels key with an empty prefix", "spec.selector.matchLabels", `
selector:
  matchLabels: {/tier: web}`},
	{"matchLabels empty key", "spec.selector.matchLabels", `
selector:
  matchLabels: {"": web}`},
	{"matchLabels value of 64 characters", "spec.selector.matchLabels.tier", `
selector:
  matchLabels: {tier: ` + name64 + `}`},
	{"matchLabels value with a space", "spec.selector.matchLabels[tier]", `
selector:
  matchLabels: {tier: "web server"}`},
	{"matchLabels value ending with a dash", "spec.selector.matchLabels[tier]", `
selector:
  matchLabels: {tier: web-}`},
	{"matchLabels value starting with a dot", "spec.selector.matchLabels[tier]", `
selector:
  matchLabels: {tier: .web}`},
	{"more than 32 matchLabels", "spec.selector.matchLabels", manyLabels(33)},
	{"lower-case operator", "spec.selector.matchExpressions[0].operator", `
selector:
  matchExpressions:
  - {key: tier, operator: in, values: [web]}`},
	{"unknown operator", "spec.selector.matchExpressions[0].operator", `
selector:
  matchExpressions:
  - {key: tier, operator: Equals, values: [web]}`},
	{"missing operator", "spec.selector.matchExpressions[0].operator", `
selector:
  matchExpressions:
  - {key: tier, values: [web]}`},
	{"missing key", "spec.selector.matchExpressions[0].key", `
selector:
  matchExpressions:
  - {operator: Exists}`},
	{"expression key with a space", "spec.selector.matchExpressions[0].key", `
selector:
  matchExpressions:
  - {key: "bad key", operator: Exists}`},
	{"expression key with a 64-character name", "spec.selector.matchExpressions[1].key", `
selector:
  matchExpressions:
  - {key: tier, operator: Exists}
  - {key: example.com/` + name64 + `, operator: Exists}`},
	{"expression key with a 254-character prefix", "spec.selector.matchExpressions[0].key", `
selector:
  matchExpressions:
  - {key: ` + prefix254 + `/tier, operator: Exists}`},
	{"In with no values", "spec.selector.matchExpressions[0].values", `
selector:
  matchExpressions:
  - {key: tier, operator: In}`},
	{"NotIn with an empty values list", "spec.selector.matchExpressions[0].values", `
selector:
  matchExpressions:
  - {key: tier, operator: NotIn, values: []}`},
	{"Exists with values", "spec.selector.matchExpressions[0].values", `
selector:
  matchExpressions:
  - {key: tier, operator: Exists, values: [web]}`},
	{"DoesNotExist with values", "spec.selector.matchExpressions[0].values", `
selector:
  matchExpressions:
  - {key: tier, operator: DoesNotExist, values: [web]}`},
	{"a value with a space", "spec.selector.matchExpressions[0].values[1]", `
selector:
  matchExpressions:
  - {key: tier, operator: In, values: [web, "web server"]}`},
	{"a value of 64 characters", "spec.selector.matchExpressions[0].values[0]", `
selector:
  matchExpressions:
  - {key: tier, operator: NotIn, values: [` + name64 + `]}`},
	{"values that are not a list", "spec.selector.matchExpressions[0].values", `
selector:
  matchExpressions:
  - {key: tier, operator: In, values: web}`},
	{"more than 32 matchExpressions", "spec.selector.matchExpressions", manyExpressions(33)},
	{"more than 64 values", "spec.selector.matchExpressions[0].values", manyValues(65)},
	{"unknown overlapPolicy", "spec.overlapPolicy", `
selector: {}
overlapPolicy: Everything`},
	{"memberMetadata label key with a space", "spec.memberMetadata.labels: Invalid value: every key must be a qualified label key", `
selector: {}
memberMetadata:
  labels: {"bad key": x}`},
	{"memberMetadata label key with a 254-character prefix", "spec.memberMetadata.labels", `
selector: {}
memberMetadata:
  labels: {` + prefix254 + `/team: x}`},
	{"memberMetadata label value of 64 characters", "spec.memberMetadata.labels.team", `
selector: {}
memberMetadata:
  labels: {team: ` + name64 + `}`},
	{"memberMetadata label value with a slash", `spec.memberMetadata.labels[team]: Invalid value: "a/b": must be a label value`, `
selector: {}
memberMetadata:
  labels: {team: a/b}`},
	{"memberMetadata annotation key with a 64-character name", "every key must be a qualified annotation key", `
selector: {}
memberMetadata:
  annotations: {example.com/` + name64 + `: x}`},
	{"memberMetadata annotation value of 4097 characters", "spec.memberMetadata.annotations.example.com/note", annotationOfLength(4097)},
	{"more than 32 memberMetadata labels", "spec.memberMetadata.labels: Too many: 33", manyMetadata("labels", 33)},
	{"more than 32 memberMetadata annotations", "spec.memberMetadata.annotations: Too many: 33", manyMetadata("annotations", 33)},
	{"misspelt memberMetadata", `unknown field "spec.memberMetadata.label"`, `
selector: {}
memberMetadata:
  label: {team: x}`},
}

// Accepted are valid LabelGroup specs at the edges of what the schema allows.
var Accepted = []Acceptance{
	{"prefixed keys", `
selector:
  matchLabels: {app.kubernetes.io/name: shop}
  matchExpressions:
  - {key: example.com/tier, operator: In, values: [web, api]}`},
	{"63-character names and values", `
selector:
  matchLabels: {` + name63 + `: ` + name63 + `}
  matchExpressions:
  - {key: example.com/` + name63 + `, operator: NotIn, values: [` + name63 + `]}`},
	{"a 253-character prefix", `
selector:
  matchLabels: {` + prefix253 + `/tier: web}`},
	{"the empty value", `
selector:
  matchLabels: {tier: ""}
  matchExpressions:
  - {key: track, operator: In, values: [""]}`},
	{"every operator", `
selector:
  matchExpressions:
  - {key: tier, operator: In, values: [web]}
  - {key: environment, operator: NotIn, values: [dev, qa]}
  - {key: app, operator: Exists}
  - {key: legacy, operator: DoesNotExist, values: []}`},
	{"values with dots, dashes and underscores", `
selector:
  matchLabels: {ver: 1.2.3-rc_1}`},
	{"the most matchLabels, matchExpressions and values allowed", manyLabels(32)},
	{"32 matchExpressions", manyExpressions(32)},
	{"64 values", manyValues(64)},
	{"policy Selectors", `
selector: {matchLabels: {tier: web}}
overlapPolicy: Selectors`},
	{"the empty selector", `selector: {}`},
	{"memberMetadata with prefixed keys, an empty label value and free-text annotations", `
selector: {}
memberMetadata:
  labels: {team: payments, example.com/tier: "", ` + name63 + `: ` + name63 + `}
  annotations: {cost-center: "CC 1234 / payments", ` + prefix253 + `/note: "any text: here"}`},
	{"32 memberMetadata labels", manyMetadata("labels", 32)},
	{"32 memberMetadata annotations", manyMetadata("annotations", 32)},
	{"an annotation value of 4096 characters", annotationOfLength(4096)},
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
