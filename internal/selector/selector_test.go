package selector

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

func requirement(key string, op v1alpha1.LabelSelectorOperator, values ...string) v1alpha1.LabelSelectorRequirement {
	r := v1alpha1.LabelSelectorRequirement{Key: v1alpha1.LabelKey(key), Operator: op}
	for _, v := range values {
		r.Values = append(r.Values, v1alpha1.LabelValue(v))
	}
	return r
}

func in(key string, values ...string) v1alpha1.LabelSelectorRequirement {
	return requirement(key, v1alpha1.LabelSelectorOpIn, values...)
}

func notIn(key string, values ...string) v1alpha1.LabelSelectorRequirement {
	return requirement(key, v1alpha1.LabelSelectorOpNotIn, values...)
}

func exists(key string) v1alpha1.LabelSelectorRequirement {
	return requirement(key, v1alpha1.LabelSelectorOpExists)
}

func doesNotExist(key string) v1alpha1.LabelSelectorRequirement {
	return requirement(key, v1alpha1.LabelSelectorOpDoesNotExist)
}

func expressions(reqs ...v1alpha1.LabelSelectorRequirement) v1alpha1.LabelSelector {
	return v1alpha1.LabelSelector{MatchExpressions: reqs}
}

func TestToLabelsSelector(t *testing.T) {
	tests := []struct {
		name       string
		in         v1alpha1.LabelSelector
		wantString string
		wantErr    string // a substring of the error; empty when none is expected
	}{
		{
			name:       "empty selector selects everything",
			in:         v1alpha1.LabelSelector{},
			wantString: "",
		},
		{
			name: "matchLabels and In",
			in: v1alpha1.LabelSelector{
				MatchLabels:      map[string]v1alpha1.LabelValue{"tier": "web"},
				MatchExpressions: []v1alpha1.LabelSelectorRequirement{in("env", "qa", "prod")},
			},
			wantString: "env in (prod,qa),tier=web",
		},
		{
			name:       "every operator, ordered by key",
			in:         expressions(exists("track"), in("tier", "web", "api"), doesNotExist("canary"), notIn("env", "dev")),
			wantString: "!canary,env notin (dev),tier in (api,web),track",
		},
		{
			name: "one key used several times is ordered by requirement text",
			in: v1alpha1.LabelSelector{
				MatchLabels:      map[string]v1alpha1.LabelValue{"tier": "web"},
				MatchExpressions: []v1alpha1.LabelSelectorRequirement{notIn("tier", "db"), in("tier", "web", "api")},
			},
			wantString: "tier in (api,web),tier notin (db),tier=web",
		},
		{
			name: "prefixed key and empty value",
			in: v1alpha1.LabelSelector{
				MatchLabels: map[string]v1alpha1.LabelValue{"app.kubernetes.io/name": "web", "role": ""},
			},
			wantString: "app.kubernetes.io/name=web,role=",
		},
		{
			name:    "invalid matchLabels key",
			in:      v1alpha1.LabelSelector{MatchLabels: map[string]v1alpha1.LabelValue{"bad key!": "web"}},
			wantErr: `"bad key!"`,
		},
		{
			name:    "invalid matchLabels value",
			in:      v1alpha1.LabelSelector{MatchLabels: map[string]v1alpha1.LabelValue{"tier": "-web-"}},
			wantErr: `"-web-"`,
		},
		{
			name:    "invalid expression key",
			in:      expressions(exists("-tier")),
			wantErr: `"-tier"`,
		},
		{
			name:    "invalid expression value",
			in:      expressions(in("tier", "web", "not valid")),
			wantErr: `"not valid"`,
		},
		{
			name:    "In without values",
			in:      expressions(in("tier")),
			wantErr: "values set can't be empty",
		},
		{
			name:    "NotIn without values",
			in:      expressions(notIn("tier")),
			wantErr: "values set can't be empty",
		},
		{
			name:    "Exists with values",
			in:      expressions(requirement("tier", v1alpha1.LabelSelectorOpExists, "web")),
			wantErr: "values set must be empty",
		},
		{
			name:    "unknown operator",
			in:      expressions(requirement("replicas", "Gt", "3")),
			wantErr: `"Gt"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := ToLabelsSelector(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ToLabelsSelector() error = %v, want one containing %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ToLabelsSelector() error = %v", err)
			}
			if got := sel.String(); got != tt.wantString {
				t.Errorf("String() = %q, want %q", got, tt.wantString)
			}
			assertRoundTrips(t, sel)
		})
	}
}

func TestToLabelsSelectorEmptySelectsEverything(t *testing.T) {
	sel, err := ToLabelsSelector(v1alpha1.LabelSelector{})
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range []labels.Set{{}, {"tier": "web"}, {"env": "prod", "canary": ""}} {
		if !sel.Matches(set) {
			t.Errorf("empty selector does not match %v", set)
		}
	}
}

func TestToLabelsSelectorMatchesLikeTheSpec(t *testing.T) {
	sel, err := ToLabelsSelector(v1alpha1.LabelSelector{
		MatchLabels:      map[string]v1alpha1.LabelValue{"tier": "web"},
		MatchExpressions: []v1alpha1.LabelSelectorRequirement{in("env", "qa", "prod"), notIn("track", "canary"), doesNotExist("debug")},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		labels labels.Set
		want   bool
	}{
		{labels.Set{"tier": "web", "env": "qa"}, true},
		{labels.Set{"tier": "web", "env": "prod", "track": "stable"}, true},
		{labels.Set{"tier": "web", "env": "dev"}, false},
		{labels.Set{"tier": "db", "env": "qa"}, false},
		{labels.Set{"env": "qa"}, false},
		{labels.Set{"tier": "web", "env": "qa", "track": "canary"}, false},
		{labels.Set{"tier": "web", "env": "qa", "debug": "true"}, false},
	}
	for _, tt := range tests {
		if got := sel.Matches(tt.labels); got != tt.want {
			t.Errorf("%q.Matches(%v) = %v, want %v", sel, tt.labels, got, tt.want)
		}
	}
}

// TestToLabelsSelectorIsCanonical pins the string of a spec whatever the order
// of its matchExpressions and the order Go happens to walk its matchLabels in.
// More than 12 requirements make apimachinery's unstable sort reorder requirements
// on one key; status.selector must not flap because of it.
func TestToLabelsSelectorIsCanonical(t *testing.T) {
	matchLabels := map[string]v1alpha1.LabelValue{}
	for i := range 14 {
		matchLabels[fmt.Sprintf("k%02d", i)] = "v"
	}
	forward := v1alpha1.LabelSelector{
		MatchLabels:      matchLabels,
		MatchExpressions: []v1alpha1.LabelSelectorRequirement{in("k05", "v", "w"), exists("k07"), notIn("k05", "a")},
	}
	backward := v1alpha1.LabelSelector{
		MatchLabels:      matchLabels,
		MatchExpressions: []v1alpha1.LabelSelectorRequirement{notIn("k05", "a"), exists("k07"), in("k05", "v", "w")},
	}
	const want = "k00=v,k01=v,k02=v,k03=v,k04=v,k05 in (v,w),k05 notin (a),k05=v,k06=v,k07,k07=v,k08=v,k09=v,k10=v,k11=v,k12=v,k13=v"
	for range 200 {
		for _, spec := range []v1alpha1.LabelSelector{forward, backward} {
			sel, err := ToLabelsSelector(spec)
			if err != nil {
				t.Fatal(err)
			}
			if got := sel.String(); got != want {
				t.Fatalf("String() = %q, want %q", got, want)
			}
		}
	}
}

// assertRoundTrips checks that sel's string, as a user would paste it into
// kubectl, parses back to a selector that matches the same label sets and
// renders the same string.
func assertRoundTrips(t testing.TB, sel labels.Selector) {
	t.Helper()
	parsed, err := labels.Parse(sel.String())
	if err != nil {
		t.Fatalf("labels.Parse(%q) error = %v", sel.String(), err)
	}
	if parsed.String() != sel.String() {
		t.Errorf("labels.Parse(%q).String() = %q", sel.String(), parsed.String())
	}
	for _, set := range labelSetsOver(sel) {
		if sel.Matches(set) != parsed.Matches(set) {
			t.Errorf("on %v: %q matches %v, its parsed string matches %v", set, sel, sel.Matches(set), parsed.Matches(set))
		}
	}
}

func TestFromMetav1RoundTrips(t *testing.T) {
	in := &metav1.LabelSelector{
		MatchLabels: map[string]string{"app": "web"},
		MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "env", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"dev", "qa"}},
			{Key: "canary", Operator: metav1.LabelSelectorOpDoesNotExist},
		},
	}
	if got := toMetav1(FromMetav1(in)); !reflect.DeepEqual(got, in) {
		t.Errorf("toMetav1(FromMetav1(%+v)) = %+v", in, got)
	}
	if got := FromMetav1(nil); got.MatchLabels != nil || got.MatchExpressions != nil {
		t.Errorf("FromMetav1(nil) = %+v, want the empty selector", got)
	}
}
