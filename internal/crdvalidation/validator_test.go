package crdvalidation_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/labelgroup/labelgroup-operator/config/crd"
	"github.com/labelgroup/labelgroup-operator/internal/crdvalidation"
	"github.com/labelgroup/labelgroup-operator/internal/crdvalidation/corpus"
)

func newValidator(t *testing.T) *crdvalidation.Validator {
	t.Helper()
	v, err := crdvalidation.New(crd.Bases)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The verdicts of the corpus are proved against a real API server by
// test/integration/validation; here the offline validator must reach each of
// them, naming the same field.
func TestCorpusRefused(t *testing.T) {
	v := newValidator(t)
	for _, c := range corpus.Refused {
		t.Run(c.Name, func(t *testing.T) {
			obj, err := corpus.LabelGroup("invalid", c.SpecYAML)
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Validate(obj)
			if err == nil {
				t.Fatal("accepted an input the API server refuses")
			}
			if !strings.Contains(err.Error(), c.Field) {
				t.Errorf("error %q does not name %q", err, c.Field)
			}
		})
	}
}

func TestCorpusAccepted(t *testing.T) {
	v := newValidator(t)
	for _, c := range corpus.Accepted {
		t.Run(c.Name, func(t *testing.T) {
			obj, err := corpus.LabelGroup("valid", c.SpecYAML)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Validate(obj); err != nil {
				t.Fatalf("refused an input the API server accepts: %v", err)
			}
		})
	}
}

func TestValidateLeavesTheInputAlone(t *testing.T) {
	v := newValidator(t)
	obj, err := corpus.LabelGroup("valid", "selector: {}\nstatus: {memberCount: 3}")
	if err != nil {
		t.Fatal(err)
	}
	before := obj.DeepCopy()
	if _, err := v.Validate(obj); err == nil {
		t.Fatal("want the unknown field spec.status refused")
	}
	if !equalObjects(before, obj) {
		t.Errorf("Validate changed its input: %v", obj.Object)
	}
}

func TestMetadataAndTypeAreValidated(t *testing.T) {
	v := newValidator(t)
	for name, mutate := range map[string]func(*unstructured.Unstructured){
		"metadata.name":           func(u *unstructured.Unstructured) { u.SetName("Not_A_Name") },
		"metadata.name: Required": func(u *unstructured.Unstructured) { u.SetName("") },
	} {
		t.Run(name, func(t *testing.T) {
			obj, err := corpus.LabelGroup("web", "selector: {}")
			if err != nil {
				t.Fatal(err)
			}
			mutate(obj)
			_, err = v.Validate(obj)
			if err == nil || !strings.Contains(err.Error(), strings.Split(name, ":")[0]) {
				t.Fatalf("want an error naming %s, got %v", name, err)
			}
		})
	}
}

func TestHandles(t *testing.T) {
	v := newValidator(t)
	obj, _ := corpus.LabelGroup("web", "selector: {}")
	if !v.Handles(obj.GroupVersionKind()) {
		t.Error("does not handle LabelGroup")
	}
	obj.SetAPIVersion("grouping.labelgroup.io/v9")
	if v.Handles(obj.GroupVersionKind()) {
		t.Error("handles a version the CRD does not serve")
	}
	_, err := v.Validate(obj)
	if want := `no matches for kind "LabelGroup" in version "grouping.labelgroup.io/v9"`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want it to contain %s", err, want)
	}
}

func equalObjects(a, b *unstructured.Unstructured) bool {
	ja, _ := a.MarshalJSON()
	jb, _ := b.MarshalJSON()
	return string(ja) == string(jb)
}

// The API server prunes a null map value before its CEL rules run, so a
// matchLabels key it would refuse with a value passes when the value is null;
// Validate returns the object as stored, without the entry, and with the
// default overlapPolicy.
func TestValidateReturnsTheObjectAsStored(t *testing.T) {
	v := newValidator(t)
	obj, err := corpus.LabelGroup("web", "selector: {matchLabels: {\"tier-\": null, app: web}}")
	if err != nil {
		t.Fatal(err)
	}
	stored, err := v.Validate(obj)
	if err != nil {
		t.Fatal(err)
	}
	labels, _, _ := unstructured.NestedStringMap(stored.Object, "spec", "selector", "matchLabels")
	if len(labels) != 1 || labels["app"] != "web" {
		t.Errorf("stored matchLabels = %v, want only app=web", labels)
	}
	if policy, _, _ := unstructured.NestedString(stored.Object, "spec", "overlapPolicy"); policy != "Members" {
		t.Errorf("stored overlapPolicy = %q, want the default Members", policy)
	}
	if stored.GetGeneration() != 1 {
		t.Errorf("stored generation = %d, want 1", stored.GetGeneration())
	}
}

func TestNewRefusesWhatIsNoCRD(t *testing.T) {
	for name, files := range map[string]fstest.MapFS{
		"no CustomResourceDefinition found": {},
		"bad.yaml":                          {"bad.yaml": {Data: []byte("spec: {group: [")}},
		"unknown field":                     {"crd.yaml": {Data: []byte("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspek: {}\n")}},
	} {
		if _, err := crdvalidation.New(files); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("New(%s) error = %v, want it to name %q", name, err, name)
		}
	}
}
