package grouping

import (
	"math/rand/v2"
	"testing"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/selector"
)

func TestSharedMemberCount(t *testing.T) {
	pods := []Pod{
		pod("web-1", "app", "web", "tier", "front"),
		pod("web-2", "app", "web", "tier", "front"),
		pod("web-3", "app", "web"),
		pod("db-1", "app", "db"),
	}
	cases := []struct {
		name   string
		groups []Group
		want   map[string]int32
	}{{
		name:   "a group alone shares nothing",
		groups: []Group{group("web", sel("app=web"))},
		want:   map[string]int32{"web": 0},
	}, {
		name:   "disjoint groups share nothing",
		groups: []Group{group("web", sel("app=web")), group("db", sel("app=db"))},
		want:   map[string]int32{"web": 0, "db": 0},
	}, {
		name:   "a pod that three groups select counts once in each",
		groups: []Group{group("web", sel("app=web")), group("front", sel("tier=front")), group("app", sel("app"))},
		want:   map[string]int32{"web": 3, "front": 2, "app": 3},
	}, {
		name:   "the empty selector shares every pod another group selects",
		groups: []Group{group("all", sel("")), group("front", sel("tier=front")), group("db", sel("app=db"))},
		want:   map[string]int32{"all": 3, "front": 2, "db": 1},
	}, {
		name:   "an invalid selector shares nothing and makes nothing shared",
		groups: []Group{invalidGroup("bad"), group("all", sel(""))},
		want:   map[string]int32{"bad": 0, "all": 0},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := NewEngine(0)
			for _, g := range tc.groups {
				e.SetGroup(g)
			}
			for _, p := range pods {
				e.SetPod(p.Name, p.Labels)
			}
			for name, want := range tc.want {
				if got, ok := e.SharedMemberCount(name); !ok || got != want {
					t.Errorf("SharedMemberCount(%s) = %d, %v; want %d, true", name, got, ok, want)
				}
			}
		})
	}
	if _, ok := NewEngine(0).SharedMemberCount("none"); ok {
		t.Errorf("SharedMemberCount of a group the engine does not have says ok")
	}
}

// TestSharedMemberCountMatchesReference feeds the random event sequences of
// TestEngineMatchesReference (relists, labels maps changed in place, groups
// added, removed and changed) to one Engine and compares, after every step,
// each group's SharedMemberCount with a brute-force count; Changed must name
// every group whose count changed.
func TestSharedMemberCountMatchesReference(t *testing.T) {
	const sequences, steps = 200, 100
	for seq := range sequences {
		rng := rand.New(rand.NewPCG(uint64(seq), 11))
		ns := newRandomNamespace(rng)
		feed := newEngineFeed(0)
		last := map[string]int32{}
		for step := range steps {
			kind := "initial"
			if step > 0 {
				kind = ns.step()
			}
			feed.deliver(rng, ns, kind == "relist")
			changed := map[string]bool{}
			for _, name := range feed.engine.Changed() {
				changed[name] = true
			}
			want := naiveSharedMemberCounts(ns.pods, ns.groups)
			for _, g := range ns.groups {
				got, ok := feed.engine.SharedMemberCount(g.Name)
				if !ok || got != want[g.Name] {
					t.Fatalf("sequence %d step %d (%s): SharedMemberCount(%s) = %d, %v; want %d\npods %v\ngroups %+v", seq, step, kind, g.Name, got, ok, want[g.Name], ns.pods, ns.groups)
				}
				if before, seen := last[g.Name]; seen && before != got && !changed[g.Name] {
					t.Fatalf("sequence %d step %d (%s): Changed does not name %s, whose SharedMemberCount changed from %d to %d", seq, step, kind, g.Name, before, got)
				}
			}
			last = want
		}
	}
}

// naiveSharedMemberCounts counts, pod by pod, each group's members that
// another group also selects.
func naiveSharedMemberCounts(pods []Pod, groups []Group) map[string]int32 {
	selectors := make([]labels.Selector, len(groups))
	for i, g := range groups {
		selectors[i], _ = selector.ToLabelsSelector(g.Selector)
	}
	counts := map[string]int32{}
	for i, g := range groups {
		counts[g.Name] = 0
		if selectors[i] == nil {
			continue
		}
		for _, p := range pods {
			if !selectors[i].Matches(labels.Set(p.Labels)) {
				continue
			}
			for j := range groups {
				if j != i && selectors[j] != nil && selectors[j].Matches(labels.Set(p.Labels)) {
					counts[g.Name]++
					break
				}
			}
		}
	}
	return counts
}

// invalidGroup builds a group whose selector cannot be converted: In without
// values.
func invalidGroup(name string) Group {
	return group(name, v1alpha1.LabelSelector{MatchExpressions: []v1alpha1.LabelSelectorRequirement{{Key: "app", Operator: v1alpha1.LabelSelectorOpIn}}})
}
