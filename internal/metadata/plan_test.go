package metadata

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

func label(name string) Key      { return Key{v1alpha1.MetadataKindLabel, name} }
func annotation(name string) Key { return Key{v1alpha1.MetadataKindAnnotation, name} }

func groupOf(manager string) string { return strings.TrimPrefix(manager, ManagerPrefix) }

func TestPlanPod(t *testing.T) {
	payments := Group{Name: "payments", Manager: "labelgroup.io/payments", Desired: map[Key]string{
		label("team"):             "payments",
		annotation("cost-center"): "cc-1",
	}}
	owns := func(keys ...Key) map[Key]bool {
		m := map[Key]bool{}
		for _, k := range keys {
			m[k] = true
		}
		return m
	}
	tests := []struct {
		name      string
		pod       Pod
		member    bool
		wantApply map[Key]string
		wantWrite bool
		wantKept  []v1alpha1.KeptKey
	}{{
		name:      "a bare member gets everything",
		pod:       Pod{Name: "p"},
		member:    true,
		wantApply: payments.Desired,
		wantWrite: true,
	}, {
		name: "a member that already carries everything it should is not written",
		pod: Pod{Name: "p", Labels: map[string]string{"team": "payments"}, Annotations: map[string]string{"cost-center": "cc-1"},
			Owned: map[string]map[Key]bool{"labelgroup.io/payments": owns(label("team"), annotation("cost-center"))}},
		member:    true,
		wantApply: payments.Desired,
	}, {
		name:      "the member's own value wins",
		pod:       Pod{Name: "p", Labels: map[string]string{"team": "checkout"}},
		member:    true,
		wantApply: map[Key]string{annotation("cost-center"): "cc-1"},
		wantWrite: true,
		wantKept:  []v1alpha1.KeptKey{{Pod: "p", Kind: v1alpha1.MetadataKindLabel, Key: "team"}},
	}, {
		name: "the member's own value wins, and nothing else to do means no write",
		pod: Pod{Name: "p", Labels: map[string]string{"team": "checkout"}, Annotations: map[string]string{"cost-center": "cc-1"},
			Owned: map[string]map[Key]bool{"labelgroup.io/payments": owns(annotation("cost-center"))}},
		member:    true,
		wantApply: map[Key]string{annotation("cost-center"): "cc-1"},
		wantKept:  []v1alpha1.KeptKey{{Pod: "p", Kind: v1alpha1.MetadataKindLabel, Key: "team"}},
	}, {
		name:      "a member with the same value of its own is co-owned",
		pod:       Pod{Name: "p", Labels: map[string]string{"team": "payments"}, Annotations: map[string]string{"cost-center": "cc-1"}},
		member:    true,
		wantApply: payments.Desired,
		wantWrite: true,
	}, {
		name: "two groups with equal values share the key",
		pod: Pod{Name: "p", Labels: map[string]string{"team": "payments"},
			Owned: map[string]map[Key]bool{"labelgroup.io/billing": owns(label("team"))}},
		member:    true,
		wantApply: payments.Desired,
		wantWrite: true,
	}, {
		name: "two groups with different values: the first keeps the key",
		pod: Pod{Name: "p", Labels: map[string]string{"team": "billing"},
			Owned: map[string]map[Key]bool{"labelgroup.io/billing": owns(label("team"))}},
		member:    true,
		wantApply: map[Key]string{annotation("cost-center"): "cc-1"},
		wantWrite: true,
		wantKept:  []v1alpha1.KeptKey{{Pod: "p", Kind: v1alpha1.MetadataKindLabel, Key: "team", KeptBy: "billing"}},
	}, {
		name: "a value the group alone set follows the spec",
		pod: Pod{Name: "p", Labels: map[string]string{"team": "old"}, Annotations: map[string]string{"cost-center": "cc-1"},
			Owned: map[string]map[Key]bool{"labelgroup.io/payments": owns(label("team"), annotation("cost-center"))}},
		member:    true,
		wantApply: payments.Desired,
		wantWrite: true,
	}, {
		name: "a value shared with another group is left to it when the spec changes",
		pod: Pod{Name: "p", Labels: map[string]string{"team": "old"}, Annotations: map[string]string{"cost-center": "cc-1"},
			Owned: map[string]map[Key]bool{
				"labelgroup.io/payments": owns(label("team"), annotation("cost-center")),
				"labelgroup.io/billing":  owns(label("team")),
			}},
		member:    true,
		wantApply: map[Key]string{annotation("cost-center"): "cc-1"},
		wantWrite: true,
		wantKept:  []v1alpha1.KeptKey{{Pod: "p", Kind: v1alpha1.MetadataKindLabel, Key: "team", KeptBy: "billing"}},
	}, {
		name: "a key that left memberMetadata is released",
		pod: Pod{Name: "p", Labels: map[string]string{"team": "payments", "old": "x"}, Annotations: map[string]string{"cost-center": "cc-1"},
			Owned: map[string]map[Key]bool{"labelgroup.io/payments": owns(label("team"), label("old"), annotation("cost-center"))}},
		member:    true,
		wantApply: payments.Desired,
		wantWrite: true,
	}, {
		name: "a pod that left the group is released",
		pod: Pod{Name: "p", Labels: map[string]string{"team": "payments"},
			Owned: map[string]map[Key]bool{"labelgroup.io/payments": owns(label("team"))}},
		wantApply: map[Key]string{},
		wantWrite: true,
	}, {
		name: "a non-member the group owns nothing on is not written",
		pod: Pod{Name: "p", Labels: map[string]string{"team": "billing"},
			Owned: map[string]map[Key]bool{"labelgroup.io/billing": owns(label("team"))}},
		wantApply: map[Key]string{},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PlanPod(payments, tt.pod, tt.member, groupOf)
			if diff := cmp.Diff(tt.wantApply, got.Apply); diff != "" {
				t.Errorf("Apply (-want +got):\n%s", diff)
			}
			if got.Write != tt.wantWrite {
				t.Errorf("Write = %v, want %v", got.Write, tt.wantWrite)
			}
			if diff := cmp.Diff(tt.wantKept, got.Kept); diff != "" {
				t.Errorf("Kept (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRefusedLabelKeys(t *testing.T) {
	md := &v1alpha1.MemberMetadata{
		Labels:      map[string]v1alpha1.LabelValue{"tier": "web", "team": "payments", "env": "prod"},
		Annotations: map[string]v1alpha1.AnnotationValue{"tier": "annotations never select"},
	}
	selectorKeys := SelectorKeys([]v1alpha1.LabelSelector{
		{MatchLabels: map[string]v1alpha1.LabelValue{"tier": "web"}},
		{MatchExpressions: []v1alpha1.LabelSelectorRequirement{{Key: "env", Operator: v1alpha1.LabelSelectorOpExists}}},
	})
	refused := Refused(md, selectorKeys)
	if diff := cmp.Diff([]string{"env", "tier"}, refused); diff != "" {
		t.Errorf("Refused (-want +got):\n%s", diff)
	}
	refusedSet := map[string]bool{"env": true, "tier": true}
	want := map[Key]string{label("team"): "payments", annotation("tier"): "annotations never select"}
	if diff := cmp.Diff(want, DesiredOf(md, refusedSet)); diff != "" {
		t.Errorf("DesiredOf (-want +got):\n%s", diff)
	}
	if got := Refused(nil, selectorKeys); got != nil {
		t.Errorf("Refused(nil) = %v, want nil", got)
	}
}

func TestWithoutConflicts(t *testing.T) {
	plan := PodPlan{Pod: "p", Member: true, Write: true, Apply: map[Key]string{label("team"): "payments", label("tier"): "web", annotation("note"): "x"}}
	got := WithoutConflicts(plan, []Conflict{
		{Key: label("team"), Manager: "kubectl-client-side-apply"},
		{Key: annotation("note"), Manager: "labelgroup.io/billing"},
	}, groupOf)
	if diff := cmp.Diff(map[Key]string{label("tier"): "web"}, got.Apply); diff != "" {
		t.Errorf("Apply (-want +got):\n%s", diff)
	}
	wantKept := []v1alpha1.KeptKey{
		{Pod: "p", Kind: v1alpha1.MetadataKindAnnotation, Key: "note", KeptBy: "billing"},
		{Pod: "p", Kind: v1alpha1.MetadataKindLabel, Key: "team"},
	}
	if diff := cmp.Diff(wantKept, got.Kept); diff != "" {
		t.Errorf("Kept (-want +got):\n%s", diff)
	}
	if len(plan.Apply) != 3 {
		t.Errorf("WithoutConflicts changed the plan it was given: %v", plan.Apply)
	}
}

func TestSummarize(t *testing.T) {
	var plans []PodPlan
	for i := range 12 {
		plans = append(plans, PodPlan{Pod: fmt.Sprintf("p%02d", i), Member: true, Kept: []v1alpha1.KeptKey{
			{Pod: fmt.Sprintf("p%02d", i), Kind: v1alpha1.MetadataKindLabel, Key: "team", KeptBy: map[bool]string{true: "billing"}[i%3 == 0]},
		}})
	}
	plans = append(plans,
		PodPlan{Pod: "complete", Member: true},
		PodPlan{Pod: "released", Member: false, Kept: []v1alpha1.KeptKey{{Pod: "released", Key: "ignored"}}},
	)
	got := Summarize(plans, []string{"tier"})
	if got.MembersComplete != 1 || got.KeptByMember != 8 || got.KeptByGroup != 4 {
		t.Errorf("counts = complete %d, by member %d, by group %d; want 1, 8, 4", got.MembersComplete, got.KeptByMember, got.KeptByGroup)
	}
	if len(got.Kept) != v1alpha1.MaxKeptExamples || got.Kept[0].Pod != "p00" || got.Kept[9].Pod != "p09" {
		t.Errorf("Kept examples = %v, want p00..p09", got.Kept)
	}
	if diff := cmp.Diff([]string{"tier"}, got.RefusedLabelKeys); diff != "" {
		t.Errorf("RefusedLabelKeys (-want +got):\n%s", diff)
	}
}

func TestManagerFor(t *testing.T) {
	if got := ManagerFor("payments"); got != "labelgroup.io/payments" {
		t.Errorf("ManagerFor(payments) = %q", got)
	}
	exact := strings.Repeat("a", maxManagerLength-len(ManagerPrefix))
	if got := ManagerFor(exact); got != ManagerPrefix+exact {
		t.Errorf("a name that just fits was changed: %q", got)
	}
	long := strings.Repeat("a", 253)
	other := strings.Repeat("a", 252) + "b"
	got := ManagerFor(long)
	if len(got) != maxManagerLength || !strings.HasPrefix(got, ManagerPrefix+"aaaa") {
		t.Errorf("ManagerFor(253 a's) = %q (%d characters), want 128 beginning with the name", got, len(got))
	}
	if ManagerFor(long) != got {
		t.Error("ManagerFor is not deterministic")
	}
	if ManagerFor(other) == got || ManagerFor(exact+"a") == ManagerFor(exact+"b") {
		t.Error("two long names that share their beginning got one manager")
	}
}

func TestOwnedByGroups(t *testing.T) {
	entry := func(manager string, op metav1.ManagedFieldsOperationType, subresource, fields string) metav1.ManagedFieldsEntry {
		return metav1.ManagedFieldsEntry{Manager: manager, Operation: op, Subresource: subresource, FieldsV1: &metav1.FieldsV1{Raw: []byte(fields)}}
	}
	got := OwnedByGroups([]metav1.ManagedFieldsEntry{
		entry("labelgroup.io/payments", metav1.ManagedFieldsOperationApply, "", `{"f:metadata":{"f:labels":{"f:team":{}},"f:annotations":{"f:example.com/cost-center":{}}}}`),
		entry("kubectl-client-side-apply", metav1.ManagedFieldsOperationUpdate, "", `{"f:metadata":{"f:labels":{"f:app":{}}}}`),
		entry("labelgroup.io/status", metav1.ManagedFieldsOperationApply, "status", `{"f:status":{}}`),
		entry("labelgroup.io/empty", metav1.ManagedFieldsOperationApply, "", `{}`),
	})
	want := map[string]map[Key]bool{"labelgroup.io/payments": {label("team"): true, annotation("example.com/cost-center"): true}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("OwnedByGroups (-want +got):\n%s", diff)
	}
}

func TestApplyConflicts(t *testing.T) {
	// The causes as the API server's field manager writes them.
	err := apierrors.NewApplyConflict([]metav1.StatusCause{
		{Type: metav1.CauseTypeFieldManagerConflict, Message: `conflict with "kubectl-client-side-apply" using v1 at 2001-02-03T04:05:06Z`, Field: ".metadata.labels.team"},
		{Type: metav1.CauseTypeFieldManagerConflict, Message: `conflict with "labelgroup.io/billing"`, Field: ".metadata.annotations.example.com/cost-center"},
	}, "Apply failed with 2 conflicts")
	got, ok := ApplyConflicts(fmt.Errorf("applying: %w", err))
	want := []Conflict{
		{Key: label("team"), Manager: "kubectl-client-side-apply"},
		{Key: annotation("example.com/cost-center"), Manager: "labelgroup.io/billing"},
	}
	if diff := cmp.Diff(want, got); !ok || diff != "" {
		t.Errorf("ApplyConflicts ok=%v (-want +got):\n%s", ok, diff)
	}
	notOurs := apierrors.NewApplyConflict([]metav1.StatusCause{
		{Type: metav1.CauseTypeFieldManagerConflict, Message: `conflict with "x"`, Field: ".spec.containers"},
	}, "Apply failed with 1 conflict")
	if _, ok := ApplyConflicts(notOurs); ok {
		t.Error("a conflict on a field other than labels and annotations was read as one")
	}
	if _, ok := ApplyConflicts(apierrors.NewConflict(schema.GroupResource{Resource: "pods"}, "p", fmt.Errorf("stale"))); ok {
		t.Error("an optimistic-lock conflict was read as an apply conflict")
	}
}
