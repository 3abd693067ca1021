package grouping

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

// TestIncrementalMatchesCompute runs random sequences of namespace events
// through one Incremental and, after every step, compares its results with
// Compute's and the naive reference's on the same input. It also holds on to
// results returned earlier and checks that later calls never change them.
func TestIncrementalMatchesCompute(t *testing.T) {
	defer func(saved int) { wordsPerIncrement = saved }(wordsPerIncrement)
	const sequences, steps = 200, 100
	kinds := map[string]int{}
	for seq := range sequences {
		// Half the sequences rebuild with shared counts counted pod by pod,
		// the other half from the member sets.
		wordsPerIncrement = []int{1, 64}[seq%2]
		ns := newRandomNamespace(rand.New(rand.NewPCG(uint64(seq), 9)))
		var inc Incremental
		var held []heldResults
		for step := range steps {
			kind := "initial"
			if step > 0 {
				kind = ns.step()
			}
			kinds[kind]++
			got := inc.Compute(ns.pods, ns.groups, ns.limit)
			if diff := resultsDiff(got, Compute(ns.pods, ns.groups, ns.limit)); diff != "" {
				t.Fatalf("sequence %d step %d (%s): differs from Compute: %s\npods %v\ngroups %+v\nlimit %d", seq, step, kind, diff, ns.pods, ns.groups, ns.limit)
			}
			if !ns.repeatsName() {
				// The reference knows no negative limit; Compute lists none under one.
				if diff := resultsDiff(got, naiveCompute(ns.pods, ns.groups, max(ns.limit, 0))); diff != "" {
					t.Fatalf("sequence %d step %d (%s): differs from the naive reference: %s", seq, step, kind, diff)
				}
			}
			for _, h := range held {
				if diff := resultsDiff(h.returned, h.snapshot); diff != "" {
					t.Fatalf("sequence %d step %d (%s): results returned at step %d changed since: %s", seq, step, kind, h.step, diff)
				}
			}
			if step%10 == 0 {
				held = append(held, heldResults{step: step, returned: got, snapshot: cloneResults(got)})
			}
		}
	}
	// Every kind of step must have come up often, or the test proves little.
	for _, kind := range stepKinds {
		if kinds[kind] < sequences*steps/len(stepKinds)/4 {
			t.Errorf("step %q ran %d times in %d steps", kind, kinds[kind], sequences*steps)
		}
	}
}

type heldResults struct {
	step     int
	returned []Result
	snapshot []Result
}

func cloneResults(results []Result) []Result {
	out := slices.Clone(results)
	for i := range out {
		out[i].Members = slices.Clone(out[i].Members)
		out[i].Overlaps = slices.Clone(out[i].Overlaps)
	}
	return out
}

// randomNamespace is the input of one call, changed step by step as a
// namespace's cache would be. Labels maps are replaced, never mutated, as the
// informer cache does; group selectors are sometimes mutated in place.
type randomNamespace struct {
	rng      *rand.Rand
	pods     []Pod
	groups   []Group
	limit    int
	nextPod  int
	nextName int
}

func newRandomNamespace(rng *rand.Rand) *randomNamespace {
	ns := &randomNamespace{rng: rng, limit: rng.IntN(12)}
	ns.pods = randomPods(rng, rng.IntN(40))
	ns.nextPod = len(ns.pods)
	for range rng.IntN(8) {
		ns.addGroup()
	}
	return ns
}

var stepKinds = []string{
	"add pods", "delete pods", "relabel pod", "relabel pods", "equal labels in a new map",
	"change selector", "mutate selector in place", "change policy", "add group", "remove group",
	"reorder groups", "change limit", "reorder pods", "same input", "duplicate pod name",
	"duplicate group name",
}

// step changes the namespace at random and says how.
func (ns *randomNamespace) step() string {
	rng := ns.rng
	// The duplicates are outside Compute's contract: rarer, and undone next step.
	ns.dropDuplicates()
	kind := stepKinds[rng.IntN(len(stepKinds))]
	if (kind == "duplicate pod name" || kind == "duplicate group name") && rng.IntN(3) > 0 {
		kind = "same input"
	}
	switch kind {
	case "add pods":
		for range 1 + rng.IntN(3) {
			ns.pods = append(ns.pods, Pod{Name: fmt.Sprintf("%s-%03d", randomName(rng, 1), ns.nextPod), Labels: ns.randomLabels()})
			ns.nextPod++
		}
	case "delete pods":
		for range 1 + rng.IntN(3) {
			if len(ns.pods) > 0 {
				i := rng.IntN(len(ns.pods))
				ns.pods = slices.Delete(slices.Clone(ns.pods), i, i+1)
			}
		}
	case "relabel pod":
		ns.relabel(1)
	case "relabel pods":
		ns.relabel(2 + rng.IntN(8))
	case "equal labels in a new map":
		for i := range ns.pods {
			if rng.IntN(2) == 0 {
				ns.pods[i].Labels = maps.Clone(ns.pods[i].Labels)
			}
		}
	case "change selector":
		if len(ns.groups) > 0 {
			i := rng.IntN(len(ns.groups))
			ns.groups[i].Selector = randomSmallGroup(rng, "").Selector
		}
	case "mutate selector in place":
		ns.mutateSelector()
	case "change policy":
		if len(ns.groups) > 0 {
			i := rng.IntN(len(ns.groups))
			ns.groups[i].Policy = []v1alpha1.OverlapPolicy{v1alpha1.OverlapPolicyMembers, v1alpha1.OverlapPolicySelectors, ""}[rng.IntN(3)]
		}
	case "add group":
		ns.addGroup()
	case "remove group":
		if len(ns.groups) > 0 {
			i := rng.IntN(len(ns.groups))
			ns.groups = slices.Delete(ns.groups, i, i+1)
		}
	case "reorder groups":
		rng.Shuffle(len(ns.groups), func(i, j int) { ns.groups[i], ns.groups[j] = ns.groups[j], ns.groups[i] })
	case "change limit":
		ns.limit = rng.IntN(12) - 1
	case "reorder pods":
		ns.pods = slices.Clone(ns.pods)
		rng.Shuffle(len(ns.pods), func(i, j int) { ns.pods[i], ns.pods[j] = ns.pods[j], ns.pods[i] })
	case "duplicate pod name":
		if len(ns.pods) > 0 {
			p := ns.pods[rng.IntN(len(ns.pods))]
			ns.pods = append(ns.pods, Pod{Name: p.Name, Labels: ns.randomLabels()})
		}
	case "duplicate group name":
		if len(ns.groups) > 0 {
			g := randomSmallGroup(rng, ns.groups[rng.IntN(len(ns.groups))].Name)
			ns.groups = append(ns.groups, g)
		}
	}
	return kind
}

// randomLabels returns a new label set from the small universe, or another
// pod's map, as the pods of one ReplicaSet share theirs.
func (ns *randomNamespace) randomLabels() map[string]string {
	if len(ns.pods) > 0 && ns.rng.IntN(3) == 0 {
		return ns.pods[ns.rng.IntN(len(ns.pods))].Labels
	}
	return randomPods(ns.rng, 1)[0].Labels
}

func (ns *randomNamespace) relabel(count int) {
	for range count {
		if len(ns.pods) == 0 {
			return
		}
		i := ns.rng.IntN(len(ns.pods))
		ns.pods[i].Labels = ns.randomLabels()
	}
}

func (ns *randomNamespace) addGroup() {
	ns.groups = append(ns.groups, randomSmallGroup(ns.rng, fmt.Sprintf("g%02d", ns.nextName)))
	ns.nextName++
}

// mutateSelector changes a group's selector without replacing its maps and
// slices, so that an engine that kept the caller's would not see the change.
func (ns *randomNamespace) mutateSelector() {
	for _, g := range ns.groups {
		if len(g.Selector.MatchLabels) > 0 {
			for k := range g.Selector.MatchLabels {
				g.Selector.MatchLabels[k] = v1alpha1.LabelValue(pick(ns.rng, smallValues))
			}
			return
		}
		for _, r := range g.Selector.MatchExpressions {
			if len(r.Values) > 0 {
				r.Values[0] = v1alpha1.LabelValue(pick(ns.rng, smallValues))
				return
			}
		}
	}
}

func (ns *randomNamespace) repeatsName() bool {
	pods := map[string]bool{}
	for _, p := range ns.pods {
		if pods[p.Name] {
			return true
		}
		pods[p.Name] = true
	}
	return repeatsName(ns.groups)
}

// dropDuplicates removes the second pod or group of a name.
func (ns *randomNamespace) dropDuplicates() {
	podNames, groupNames := map[string]bool{}, map[string]bool{}
	ns.pods = slices.DeleteFunc(slices.Clone(ns.pods), func(p Pod) bool {
		seen := podNames[p.Name]
		podNames[p.Name] = true
		return seen
	})
	ns.groups = slices.DeleteFunc(ns.groups, func(g Group) bool {
		seen := groupNames[g.Name]
		groupNames[g.Name] = true
		return seen
	})
}

// TestIncrementalStartsOverAfterDuplicates checks that a call outside
// Compute's contract, answered by Compute, leaves no state behind.
func TestIncrementalStartsOverAfterDuplicates(t *testing.T) {
	groups := []Group{group("web", sel("tier=web")), selectorsGroup("any", sel(""))}
	var inc Incremental
	pods := []Pod{pod("a", "tier", "web"), pod("b", "tier", "db")}
	assertResults(t, inc.Compute(pods, groups, 10), Compute(pods, groups, 10))
	twice := append(slices.Clone(pods), pod("a", "tier", "db"))
	assertResults(t, inc.Compute(twice, groups, 10), Compute(twice, groups, 10))
	pods = []Pod{pod("b", "tier", "web")}
	assertResults(t, inc.Compute(pods, groups, 10), Compute(pods, groups, 10))
}

// A pod event must not make the engine start over: only a change of the
// groups (their order included) or of the member limit does. The reconciler
// sorts the groups it reads for this reason.
func TestIncrementalStartsOverOnlyWhenGroupsChange(t *testing.T) {
	pods, groups := busyNamespace(3, 500, 20, false)
	var e Incremental
	e.Compute(pods, groups, 10)
	relabelled := slices.Clone(pods)
	relabelled[7] = Pod{Name: pods[7].Name, Labels: map[string]string{"moved": "yes"}}
	e.Compute(relabelled, groups, 10)
	e.Compute(pods[1:], groups, 10)
	if e.Rebuilds() != 1 {
		t.Errorf("%d rebuilds after one first call and two pod changes; want 1", e.Rebuilds())
	}
	reversed := slices.Clone(groups)
	slices.Reverse(reversed)
	if diff := resultsDiff(e.Compute(pods, reversed, 10), Compute(pods, reversed, 10)); diff != "" {
		t.Fatalf("groups in a new order: %s", diff)
	}
	if e.Rebuilds() != 2 {
		t.Errorf("%d rebuilds after the groups came in a new order; want 2", e.Rebuilds())
	}
	e.Compute(pods, reversed, 11)
	if e.Rebuilds() != 3 {
		t.Errorf("%d rebuilds after the member limit changed; want 3", e.Rebuilds())
	}
}
