package controller

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/grouping"
)

func TestTruncate(t *testing.T) {
	tests := []struct {
		name  string
		s     string
		limit int
		want  string
	}{
		{name: "shorter than the limit", s: "abc", limit: 10, want: "abc"},
		{name: "exactly the limit", s: strings.Repeat("a", 1024), limit: 1024, want: strings.Repeat("a", 1024)},
		{name: "one byte over", s: strings.Repeat("a", 1025), limit: 1024, want: strings.Repeat("a", 999) + " [26 more characters cut]"},
		{name: "a short limit", s: strings.Repeat("a", 30), limit: 29, want: strings.Repeat("a", 4) + " [26 more characters cut]"},
		{name: "a rune at the end", s: strings.Repeat("a", 40) + "日", limit: 40, want: strings.Repeat("a", 15) + " [26 more characters cut]"},
		{name: "does not split a 3-byte rune", s: strings.Repeat("日", 20), limit: 40, want: strings.Repeat("日", 5) + " [15 more characters cut]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := truncate(tt.s, tt.limit)
			if got != tt.want {
				t.Errorf("truncate() = %q (%d bytes), want %q", got, len(got), tt.want)
			}
			if len(got) > tt.limit {
				t.Errorf("truncate() has %d bytes, over the limit %d", len(got), tt.limit)
			}
		})
	}
}

// TestTruncateAtTheAPILimits cuts strings of every rune width at the two limits
// the API server enforces, one byte under, at and over each: the result is
// valid UTF-8, within the limit, a prefix of the input, and says exactly how
// many characters it cut.
func TestTruncateAtTheAPILimits(t *testing.T) {
	for _, limit := range []int{MaxEventNoteBytes, MaxConditionMessageBytes} {
		for _, r := range []string{"a", "é", "日", "🙂"} {
			for _, size := range []int{limit - 1, limit, limit + 1, limit + len(r), 3 * limit} {
				s := strings.Repeat(r, size/len(r)) + strings.Repeat("b", size%len(r))
				got := truncate(s, limit)
				switch {
				case len(s) <= limit && got != s:
					t.Errorf("limit %d, %d bytes of %q: cut although it fits", limit, len(s), r)
				case len(got) > limit:
					t.Errorf("limit %d, %d bytes of %q: %d bytes", limit, len(s), r, len(got))
				case !utf8.ValidString(got):
					t.Errorf("limit %d, %d bytes of %q: cut inside a rune", limit, len(s), r)
				case len(s) > limit:
					kept, suffix, _ := strings.Cut(got, " [")
					if !strings.HasPrefix(s, kept) {
						t.Fatalf("limit %d: result is not a prefix of the input", limit)
					}
					want := fmt.Sprintf("%d more characters cut]", utf8.RuneCountInString(s)-utf8.RuneCountInString(kept))
					if suffix != want {
						t.Errorf("limit %d, %d bytes of %q: suffix %q, want %q", limit, len(s), r, suffix, want)
					}
					if limit-len(got) >= len(r) {
						t.Errorf("limit %d, %d bytes of %q: cut %d bytes more than needed", limit, len(s), r, limit-len(got))
					}
				}
			}
		}
	}
}

func overlapsNamed253(n int) []v1alpha1.Overlap {
	overlaps := make([]v1alpha1.Overlap, n)
	for i := range overlaps {
		overlaps[i] = overlap(name253(i), int32(i%7))
	}
	return overlaps
}

// name253 is a valid 253-character name, distinct for each i and sorted by i.
func name253(i int) string {
	prefix := fmt.Sprintf("g%05d.", i)
	return prefix + strings.Repeat("x", 253-len(prefix))
}

func TestOverlappingMessageNamesAFewGroups(t *testing.T) {
	tests := []struct {
		name     string
		overlaps []v1alpha1.Overlap
		want     string
	}{{
		name:     "three are all named",
		overlaps: []v1alpha1.Overlap{overlap("a", 1), overlap("b", 0), overlap("c", 2)},
		want:     "Overlaps 3 other LabelGroups: a (1 shared pod), b (selectors intersect, no pod shared yet), c (2 shared pods)",
	}, {
		name:     "the fourth is counted",
		overlaps: []v1alpha1.Overlap{overlap("a", 1), overlap("b", 0), overlap("c", 2), overlap("d", 9)},
		want:     "Overlaps 4 other LabelGroups: a (1 shared pod), b (selectors intersect, no pod shared yet), c (2 shared pods), and 1 more",
	}, {
		name:     "1,200 groups: three named, the rest counted",
		overlaps: append([]v1alpha1.Overlap{overlap("a", 1), overlap("b", 1), overlap("c", 1)}, overlapsNamed253(1197)...),
		want:     "Overlaps 1200 other LabelGroups: a (1 shared pod), b (1 shared pod), c (1 shared pod), and 1197 more",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := overlappingCondition(grouping.Result{Overlaps: tt.overlaps}, 1).Message
			if got != tt.want {
				t.Errorf("message =\n %q, want\n %q", got, tt.want)
			}
		})
	}
}

// TestOverlappingMessageWith253CharacterNames: three names of the longest kind
// still give a message, and so an event note, under 1,024 bytes.
func TestOverlappingMessageWith253CharacterNames(t *testing.T) {
	c := overlappingCondition(grouping.Result{Overlaps: overlapsNamed253(1200)}, 1)
	if len(c.Message) > MaxEventNoteBytes || eventNote(c.Message) != c.Message {
		t.Errorf("message has %d bytes, over the event note limit %d", len(c.Message), MaxEventNoteBytes)
	}
	if !strings.HasPrefix(c.Message, "Overlaps 1200 other LabelGroups: "+name253(0)+" (selectors intersect, no pod shared yet), ") || !strings.HasSuffix(c.Message, ", and 1197 more") {
		t.Errorf("message = %q", c.Message)
	}
}

func TestComputeStatusCapsOverlapsAndCountsThemAll(t *testing.T) {
	all := overlapsNamed253(1200)
	for _, limit := range []int{0, 1, 100, 1200, 5000} {
		s := computeStatus(v1alpha1.LabelGroupStatus{}, 1, grouping.Result{Overlaps: all}, limit, metav1.Now())
		if s.OverlapCount != 1200 {
			t.Errorf("limit %d: overlapCount = %d, want 1200", limit, s.OverlapCount)
		}
		want := all[:min(limit, len(all))]
		if limit == 0 {
			want = nil
		}
		if fmt.Sprint(s.Overlaps) != fmt.Sprint(want) {
			t.Errorf("limit %d: overlaps has %d entries, want the first %d by name", limit, len(s.Overlaps), len(want))
		}
	}
}

func TestComputeStatusStalledWhileTheSelectorIsInvalid(t *testing.T) {
	now := metav1.Now()
	invalid := computeStatus(v1alpha1.LabelGroupStatus{}, 1, grouping.Result{SelectorErr: errors.New("bad")}, 100, now)
	stalled := meta.FindStatusCondition(invalid.Conditions, v1alpha1.ConditionStalled)
	if stalled == nil || stalled.Status != metav1.ConditionTrue || stalled.Reason != v1alpha1.ReasonInvalidSelector || stalled.ObservedGeneration != 1 {
		t.Fatalf("Stalled = %+v, want True/InvalidSelector at generation 1", stalled)
	}
	fixed := computeStatus(invalid, 2, grouping.Result{MemberCount: 1}, 100, now)
	if c := meta.FindStatusCondition(fixed.Conditions, v1alpha1.ConditionStalled); c != nil {
		t.Errorf("a fixed selector left %+v", c)
	}
	if len(fixed.Conditions) != 2 {
		t.Errorf("conditions = %+v, want Ready and Overlapping", fixed.Conditions)
	}
}

// TestKstatusReadsComputedStatus runs cli-utils' kstatus, what Flux and kpt
// use, on statuses computeStatus writes and on the one the API server
// defaults for a group nobody reconciled (see the integration suite for the
// same on a real API server).
func TestKstatusReadsComputedStatus(t *testing.T) {
	tests := []struct {
		name       string
		generation int64
		status     v1alpha1.LabelGroupStatus
		want       status.Status
	}{
		{name: "never reconciled (API server default)", generation: 1, status: v1alpha1.LabelGroupStatus{}, want: status.InProgressStatus},
		{name: "reconciled", generation: 1, status: computeStatus(v1alpha1.LabelGroupStatus{}, 1, grouping.Result{MemberCount: 2}, 100, metav1.Now()), want: status.CurrentStatus},
		{name: "reconciled, overlapping", generation: 1, status: computeStatus(v1alpha1.LabelGroupStatus{}, 1, grouping.Result{Overlaps: overlapsNamed253(3)}, 100, metav1.Now()), want: status.CurrentStatus},
		{name: "spec edited since", generation: 2, status: computeStatus(v1alpha1.LabelGroupStatus{}, 1, grouping.Result{MemberCount: 2}, 100, metav1.Now()), want: status.InProgressStatus},
		{name: "invalid selector", generation: 1, status: computeStatus(v1alpha1.LabelGroupStatus{}, 1, grouping.Result{SelectorErr: errors.New("bad")}, 100, metav1.Now()), want: status.FailedStatus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			group := &v1alpha1.LabelGroup{ObjectMeta: metav1.ObjectMeta{Name: "g", Namespace: "ns", Generation: tt.generation}, Status: tt.status}
			obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(group)
			if err != nil {
				t.Fatal(err)
			}
			u := &unstructured.Unstructured{Object: obj}
			// The API server's default: observedGeneration 0 is written out.
			if err := unstructured.SetNestedField(u.Object, tt.status.ObservedGeneration, "status", "observedGeneration"); err != nil {
				t.Fatal(err)
			}
			u.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("LabelGroup"))
			got, err := status.Compute(u)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.want {
				t.Errorf("kstatus = %s (%s), want %s", got.Status, got.Message, tt.want)
			}
		})
	}
}

// TestStatusStaysInsideTheAPILimits computes a namespace of 1,200 groups with
// 253-character names that all select the same 600 pods, also with
// 253-character names, and checks every group's whole object: conditions'
// messages within 32,768 bytes, event notes within 1,024, and the object
// within a twentieth of etcd's 1.5 MiB at the default limits, a fifth at the
// largest limits the flags allow.
func TestStatusStaysInsideTheAPILimits(t *testing.T) {
	const groupCount, podCount, etcdLimit = 1200, 600, 1536 * 1024
	groups := make([]grouping.Group, groupCount)
	for i := range groups {
		groups[i] = grouping.Group{Name: name253(i)}
	}
	pods := make([]grouping.Pod, podCount)
	for i := range pods {
		pods[i] = grouping.Pod{Name: fmt.Sprintf("p%05d-", i) + strings.Repeat("p", 246)}
	}
	for _, limits := range []struct{ members, overlaps, maxBytes int }{
		{members: 100, overlaps: 100, maxBytes: etcdLimit / 20},
		{members: v1alpha1.MaxStatusMembers, overlaps: v1alpha1.MaxStatusOverlaps, maxBytes: etcdLimit / 5},
	} {
		results := grouping.Compute(pods, groups, limits.members)
		largest := 0
		for i, result := range results {
			group := v1alpha1.LabelGroup{
				ObjectMeta: metav1.ObjectMeta{Name: groups[i].Name, Namespace: strings.Repeat("n", 63), Generation: 1},
				Status:     computeStatus(v1alpha1.LabelGroupStatus{}, 1, result, limits.overlaps, metav1.Now()),
			}
			if group.Status.MemberCount != podCount || len(group.Status.Members) != limits.members ||
				group.Status.OverlapCount != groupCount-1 || len(group.Status.Overlaps) != limits.overlaps {
				t.Fatalf("group %d: %d members listed of %d, %d overlaps listed of %d", i, len(group.Status.Members), group.Status.MemberCount, len(group.Status.Overlaps), group.Status.OverlapCount)
			}
			for _, c := range group.Status.Conditions {
				if len(c.Message) > MaxEventNoteBytes {
					t.Errorf("group %d, condition %s: message of %d bytes would be cut in its event", i, c.Type, len(c.Message))
				}
			}
			b, err := json.Marshal(group)
			if err != nil {
				t.Fatal(err)
			}
			largest = max(largest, len(b))
		}
		if largest > limits.maxBytes {
			t.Errorf("limits %+v: the largest object has %d bytes, more than %d", limits, largest, limits.maxBytes)
		}
		t.Logf("limits %+v: largest object %d bytes", limits, largest)
	}
}

// TestComputeStatusCutsEveryMessage: a selector error of any length still
// gives a Ready message the API server accepts.
func TestComputeStatusCutsEveryMessage(t *testing.T) {
	long := errors.New(strings.Repeat("é", MaxConditionMessageBytes))
	s := computeStatus(v1alpha1.LabelGroupStatus{}, 1, grouping.Result{SelectorErr: long}, 100, metav1.Now())
	ready := meta.FindStatusCondition(s.Conditions, v1alpha1.ConditionReady)
	if len(ready.Message) > MaxConditionMessageBytes || !utf8.ValidString(ready.Message) || !strings.HasSuffix(ready.Message, "more characters cut]") {
		t.Errorf("Ready message of %d bytes ends %q", len(ready.Message), ready.Message[len(ready.Message)-40:])
	}
}
