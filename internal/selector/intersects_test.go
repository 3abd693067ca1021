package selector

import (
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/selector/selectortest"
)

func mustParse(t testing.TB, s string) labels.Selector {
	t.Helper()
	sel, err := labels.Parse(s)
	if err != nil {
		t.Fatalf("labels.Parse(%q) error = %v", s, err)
	}
	return sel
}

// The selectors are written as kubectl would show them: "tier=web" is what a
// matchLabels entry becomes, "tier==web" and "tier!=web" come only from
// parsed strings.
func TestIntersects(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{"empty and empty", "", "", true},
		{"empty and matchLabels", "", "tier=web", true},
		{"empty and DoesNotExist", "", "!tier", true},
		{"same matchLabels", "tier=web", "tier=web", true},
		{"conflicting matchLabels", "tier=web", "tier=db", false},
		{"matchLabels inside In", "tier=web", "tier in (db,web)", true},
		{"matchLabels against NotIn of its value", "tier=web", "tier notin (web)", false},
		{"DoubleEquals against NotEquals", "tier==web", "tier!=web", false},
		{"Equals against NotEquals of another value", "tier=web", "tier!=db", true},
		{"disjoint In sets", "env in (qa,prod)", "env in (dev,staging)", false},
		{"overlapping In sets", "env in (qa,prod)", "env in (prod,dev)", true},
		{"NotIn covering every In value", "env in (qa,prod)", "env notin (prod,qa)", false},
		{"NotIn leaving an In value", "env in (qa,prod)", "env notin (qa)", true},
		{"NotIn excluding the only value two In sets share", "env in (qa,prod),env in (prod,dev)", "env notin (prod)", false},
		{"In and Exists", "env in (qa)", "env", true},
		{"In and DoesNotExist", "env in (qa)", "!env", false},
		{"NotIn and DoesNotExist meet on absence", "env notin (qa)", "!env", true},
		{"NotIn and NotIn", "env notin (qa)", "env notin (prod)", true},
		{"NotIn and Exists meet on a fresh value", "env notin (qa,prod)", "env", true},
		{"Exists and DoesNotExist", "env", "!env", false},
		{"Exists and Exists", "env", "env", true},
		{"DoesNotExist and DoesNotExist", "!env", "!env", true},
		{"different keys", "tier=web", "env=prod", true},
		{"one of two keys conflicts", "tier=web,env=prod", "tier=web,env=qa", false},
		{"DoesNotExist against Exists on a second key", "tier=web,!canary", "env in (qa),canary", false},
		{"NotEquals and NotEquals", "tier!=web", "tier!=db", true},
		{"a selector that contradicts itself", "env in (qa),env notin (qa)", "", false},
		{"typical overlapping groups", "env=qa", "env in (qa),track notin (canary),!debug", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := mustParse(t, tt.a), mustParse(t, tt.b)
			if got := Intersects(a, b); got != tt.want {
				t.Errorf("Intersects(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
			if got := Intersects(b, a); got != tt.want {
				t.Errorf("Intersects(%q, %q) = %v, want %v", tt.b, tt.a, got, tt.want)
			}
			// The oracle of the differential tests must agree with these cases too.
			if got := bruteForceIntersects(a, b); got != tt.want {
				t.Errorf("bruteForceIntersects(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

// TestIntersectsBeyondLabelGroups pins the documented answers for selectors a
// LabelGroup cannot produce.
func TestIntersectsBeyondLabelGroups(t *testing.T) {
	tests := []struct {
		name string
		a, b labels.Selector
		want bool
	}{
		{"GreaterThan needs the key", mustParse(t, "replicas>3"), mustParse(t, "!replicas"), false},
		{"GreaterThan is treated as Exists, a false positive", mustParse(t, "replicas>3"), mustParse(t, "replicas<2"), true},
		{"GreaterThan and In", mustParse(t, "replicas>3"), mustParse(t, "replicas in (5)"), true},
		{"Nothing and Everything", labels.Nothing(), labels.Everything(), false},
		{"Everything and Nothing", labels.Everything(), labels.Nothing(), false},
		{"a set-based selector", labels.SelectorFromSet(labels.Set{"tier": "web"}), mustParse(t, "tier=db"), false},
		{"a validated set selector", labels.ValidatedSetSelector{"tier": "web"}, mustParse(t, "tier in (web)"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Intersects(tt.a, tt.b); got != tt.want {
				t.Errorf("Intersects(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

// TestIntersectsAgainstBruteForce compares Intersects with the brute-force
// oracle on many random pairs, which are decoded from random bytes the same
// way FuzzIntersects decodes its input.
func TestIntersectsAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const pairs = 5000
	intersecting := 0
	for range pairs {
		a, b := selectortest.RandomPair(rng)
		if checkAgainstOracle(t, a, b) {
			intersecting++
		}
	}
	// Both answers must be common, or the comparison proves little.
	if intersecting < pairs/10 || intersecting > pairs*9/10 {
		t.Errorf("%d of %d random pairs intersect; the generator is lopsided", intersecting, pairs)
	}
}

func FuzzIntersects(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 0, 0, 0, 1})                   // a=x against a=y
	f.Add([]byte{1, 3, 2, 6, 2})                   // a in (x,y) against a notin (x,y)
	f.Add([]byte{2, 9, 0, 12, 0, 10, 0})           // a, !a against b
	f.Add([]byte{0, 7, 6, 9, 0, 2, 2})             // everything against b notin (x,y,z), a, c=z
	f.Add([]byte{4, 4, 1, 1, 5, 3, 5, 7, 2, 0, 0}) // several keys against a=x
	f.Fuzz(func(t *testing.T, data []byte) {
		a, b := selectortest.DecodePair(data)
		checkAgainstOracle(t, a, b)
	})
}

func BenchmarkIntersects(b *testing.B) {
	x, err := ToLabelsSelector(v1alpha1.LabelSelector{
		MatchLabels:      map[string]v1alpha1.LabelValue{"app": "shop", "tier": "web"},
		MatchExpressions: []v1alpha1.LabelSelectorRequirement{in("env", "qa", "prod")},
	})
	if err != nil {
		b.Fatal(err)
	}
	y, err := ToLabelsSelector(v1alpha1.LabelSelector{
		MatchLabels:      map[string]v1alpha1.LabelValue{"app": "shop"},
		MatchExpressions: []v1alpha1.LabelSelectorRequirement{notIn("env", "prod"), exists("tier"), doesNotExist("canary")},
	})
	if err != nil {
		b.Fatal(err)
	}
	if !Intersects(x, y) {
		b.Fatalf("Intersects(%q, %q) = false, want true", x, y)
	}
	b.ReportAllocs()
	for b.Loop() {
		Intersects(x, y)
	}
}

// checkAgainstOracle converts a and b, fails t unless Intersects agrees with
// the brute-force oracle (both ways round) and unless each string round-trips,
// and returns the answer.
func checkAgainstOracle(t testing.TB, a, b v1alpha1.LabelSelector) bool {
	t.Helper()
	selA, err := ToLabelsSelector(a)
	if err != nil {
		t.Fatalf("ToLabelsSelector(%+v) error = %v", a, err)
	}
	selB, err := ToLabelsSelector(b)
	if err != nil {
		t.Fatalf("ToLabelsSelector(%+v) error = %v", b, err)
	}
	want := bruteForceIntersects(selA, selB)
	if got := Intersects(selA, selB); got != want {
		t.Fatalf("Intersects(%q, %q) = %v, brute force says %v", selA, selB, got, want)
	}
	if got := Intersects(selB, selA); got != want {
		t.Fatalf("Intersects(%q, %q) = %v, brute force says %v", selB, selA, got, want)
	}
	assertRoundTrips(t, selA)
	assertRoundTrips(t, selB)
	return want
}

// bruteForceIntersects is the oracle: it tries every label set that
// labelSetsOver lists.
func bruteForceIntersects(a, b labels.Selector) bool {
	for _, set := range labelSetsOver(a, b) {
		if a.Matches(set) && b.Matches(set) {
			return true
		}
	}
	return false
}

// unnamedValue is a label value that no selector of these tests names.
const unnamedValue = "unnamed"

// labelSetsOver lists every label set in which each key the selectors name is
// absent or has a value they name or unnamedValue. That is enough to decide
// anything about them: keys they do not name do not matter, and values they
// do not name all behave alike.
func labelSetsOver(sels ...labels.Selector) []labels.Set {
	keys := map[string]bool{}
	values := map[string]bool{unnamedValue: true}
	for _, sel := range sels {
		reqs, _ := sel.Requirements()
		for _, r := range reqs {
			keys[r.Key()] = true
			for _, v := range r.ValuesUnsorted() {
				if v == unnamedValue {
					panic("a test selector names " + unnamedValue)
				}
				values[v] = true
			}
		}
	}
	sets := []labels.Set{{}}
	for _, key := range slices.Sorted(maps.Keys(keys)) {
		var next []labels.Set
		for _, set := range sets {
			next = append(next, set) // key absent
			for _, v := range slices.Sorted(maps.Keys(values)) {
				withKey := maps.Clone(set)
				withKey[key] = v
				next = append(next, withKey)
			}
		}
		sets = next
	}
	return sets
}

func TestSatisfiable(t *testing.T) {
	tests := []struct {
		selector string
		want     bool
	}{
		{"", true},
		{"tier in (a)", true},
		{"tier in (a),!tier", false},
		{"tier=a,tier=b", false},
		{"tier in (a,b),tier notin (a,b)", false},
		{"tier in (a,b),tier notin (a)", true},
		{"tier,!tier", false},
		{"tier notin (a),!tier", true},
		{"tier in (a),env in (b),!env", false},
	}
	for _, tt := range tests {
		if got := Satisfiable(mustParse(t, tt.selector)); got != tt.want {
			t.Errorf("Satisfiable(%q) = %v, want %v", tt.selector, got, tt.want)
		}
	}
	if Satisfiable(labels.Nothing()) {
		t.Error("Satisfiable(labels.Nothing()) = true")
	}
}

// TestSatisfiableAgainstBruteForce checks Satisfiable on random selectors
// against the oracle: some label set the selector matches.
func TestSatisfiableAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const selectors = 3000
	satisfiable := 0
	for range selectors {
		data := make([]byte, 2*rng.IntN(6))
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		s, _ := selectortest.DecodeSelector(data, 5)
		sel, err := ToLabelsSelector(s)
		if err != nil {
			t.Fatal(err)
		}
		want := bruteForceIntersects(sel, labels.Everything())
		if got := Satisfiable(sel); got != want {
			t.Fatalf("Satisfiable(%q) = %v, brute force says %v", sel, got, want)
		}
		if want {
			satisfiable++
		}
	}
	if satisfiable < selectors/10 || satisfiable > selectors*9/10 {
		t.Errorf("%d of %d random selectors are satisfiable; the generator is lopsided", satisfiable, selectors)
	}
}
