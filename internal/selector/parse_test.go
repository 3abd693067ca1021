package selector

import (
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/selector/selectortest"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in        string
		want      v1alpha1.LabelSelector
		canonical string
	}{
		{
			in: "tier=frontend,environment in (production,qa),!canary",
			want: v1alpha1.LabelSelector{
				MatchLabels: map[string]v1alpha1.LabelValue{"tier": "frontend"},
				MatchExpressions: []v1alpha1.LabelSelectorRequirement{
					{Key: "canary", Operator: v1alpha1.LabelSelectorOpDoesNotExist},
					{Key: "environment", Operator: v1alpha1.LabelSelectorOpIn, Values: []v1alpha1.LabelValue{"production", "qa"}},
				},
			},
			canonical: "!canary,environment in (production,qa),tier=frontend",
		},
		{
			in: "tier==web,track!=canary,app,env notin (dev)",
			want: v1alpha1.LabelSelector{
				MatchLabels: map[string]v1alpha1.LabelValue{"tier": "web"},
				MatchExpressions: []v1alpha1.LabelSelectorRequirement{
					{Key: "app", Operator: v1alpha1.LabelSelectorOpExists},
					{Key: "env", Operator: v1alpha1.LabelSelectorOpNotIn, Values: []v1alpha1.LabelValue{"dev"}},
					{Key: "track", Operator: v1alpha1.LabelSelectorOpNotIn, Values: []v1alpha1.LabelValue{"canary"}},
				},
			},
			canonical: "app,env notin (dev),tier=web,track notin (canary)",
		},
		{
			in: "a=x,a=y",
			want: v1alpha1.LabelSelector{
				MatchLabels:      map[string]v1alpha1.LabelValue{"a": "x"},
				MatchExpressions: []v1alpha1.LabelSelectorRequirement{{Key: "a", Operator: v1alpha1.LabelSelectorOpIn, Values: []v1alpha1.LabelValue{"y"}}},
			},
			canonical: "a in (y),a=x",
		},
		{in: "", want: v1alpha1.LabelSelector{}, canonical: ""},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil {
			t.Fatalf("Parse(%q) error = %v", tt.in, err)
		}
		if !equalSelectors(got, tt.want) {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		sel, err := ToLabelsSelector(got)
		if err != nil {
			t.Fatal(err)
		}
		if sel.String() != tt.canonical {
			t.Errorf("ToLabelsSelector(Parse(%q)) = %q, want %q", tt.in, sel, tt.canonical)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for in, want := range map[string]string{
		"replicas>3":    `the operator ">" is not supported`,
		"tier=web,a<2":  `the operator "<" is not supported`,
		"tier in (web":  "",
		"bad key=value": "",
		"tier=web-":     "",
	} {
		_, err := Parse(in)
		if err == nil {
			t.Errorf("Parse(%q) accepted", in)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) error = %q, want it to contain %q", in, err, want)
		}
	}
}

// TestParseSelectsWhatKubectlSelects checks on random -l strings that the
// LabelGroup selector Parse returns matches exactly the label sets the
// string matches, as labels.Parse reads it: the round trip loses nothing.
func TestParseSelectsWhatKubectlSelects(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	ops := []func(k, v string) string{
		func(k, v string) string { return k + "=" + v },
		func(k, v string) string { return k + "==" + v },
		func(k, v string) string { return k + "!=" + v },
		func(k, v string) string { return k + " in (" + v + ",z)" },
		func(k, v string) string { return k + " notin (" + v + ")" },
		func(k, _ string) string { return k },
		func(k, _ string) string { return "!" + k },
	}
	// The empty value would make "k notin ()", which kubectl's syntax cannot say.
	values := slices.DeleteFunc(slices.Clone(selectortest.Values), func(v string) bool { return v == "" })
	for range 2000 {
		var parts []string
		for range rng.IntN(5) {
			k := selectortest.Keys[rng.IntN(len(selectortest.Keys))]
			v := values[rng.IntN(len(values))]
			parts = append(parts, ops[rng.IntN(len(ops))](k, v))
		}
		in := strings.Join(parts, ",")
		want, err := labels.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := Parse(in)
		if err != nil {
			t.Fatalf("Parse(%q) error = %v", in, err)
		}
		got, err := ToLabelsSelector(parsed)
		if err != nil {
			t.Fatal(err)
		}
		for _, set := range labelSetsOver(want, got) {
			if want.Matches(set) != got.Matches(set) {
				t.Fatalf("%q: labels.Parse matches %v: %v, the LabelGroup selector %q: %v", in, set, want.Matches(set), got, got.Matches(set))
			}
		}
	}
}

func equalSelectors(a, b v1alpha1.LabelSelector) bool {
	return maps.Equal(a.MatchLabels, b.MatchLabels) && slices.EqualFunc(a.MatchExpressions, b.MatchExpressions, func(x, y v1alpha1.LabelSelectorRequirement) bool {
		return x.Key == y.Key && x.Operator == y.Operator && slices.Equal(x.Values, y.Values)
	})
}
