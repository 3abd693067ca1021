package grouping

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

// TestEngineMatchesReference feeds random sequences of namespace events to
// one Engine, as an informer's event handlers would, and after every step
// compares its results with the naive reference's and with Compute's (an
// Engine run from empty). Some steps relist: every pod and group is delivered
// again, changed or not, with deletions of pods already gone, as an informer
// does after a relist. Some change a pod's labels map in place before
// delivering it. It also checks that Changed names every group whose result
// changed, and that results returned earlier are never changed.
func TestEngineMatchesReference(t *testing.T) {
	const sequences, steps = 200, 100
	kinds := map[string]int{}
	for seq := range sequences {
		rng := rand.New(rand.NewPCG(uint64(seq), 9))
		ns := newRandomNamespace(rng)
		var feed *engineFeed
		var held []heldResults
		for step := range steps {
			kind := "initial"
			if step > 0 {
				kind = ns.step()
			}
			kinds[kind]++
			if feed == nil || feed.limit != ns.limit {
				feed = newEngineFeed(ns.limit)
			}
			feed.deliver(rng, ns, kind == "relist")
			got := make([]Result, len(ns.groups))
			for i, g := range ns.groups {
				got[i], _ = feed.engine.Result(g.Name)
			}
			if diff := resultsDiff(got, naiveCompute(ns.pods, ns.groups, max(ns.limit, 0))); diff != "" {
				t.Fatalf("sequence %d step %d (%s): differs from the naive reference: %s\npods %v\ngroups %+v\nlimit %d", seq, step, kind, diff, ns.pods, ns.groups, ns.limit)
			}
			if diff := resultsDiff(got, Compute(ns.pods, ns.groups, ns.limit)); diff != "" {
				t.Fatalf("sequence %d step %d (%s): differs from Compute: %s", seq, step, kind, diff)
			}
			if missed := feed.checkChanged(got); missed != "" {
				t.Fatalf("sequence %d step %d (%s): %s", seq, step, kind, missed)
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

// engineFeed is an Engine and what was delivered to it, so that each step
// delivers only what changed, as an informer does; a relist delivers all.
type engineFeed struct {
	engine    *Engine
	limit     int
	pods      map[string]map[string]string // copies of the labels delivered
	groups    map[string]Group             // copies of the groups delivered
	last      map[string]Result            // the results checked last
	delivered int
}

func newEngineFeed(limit int) *engineFeed {
	return &engineFeed{engine: NewEngine(limit), limit: limit, pods: map[string]map[string]string{}, groups: map[string]Group{}, last: map[string]Result{}}
}

func (f *engineFeed) deliver(rng *rand.Rand, ns *randomNamespace, relist bool) {
	var events []func()
	current := map[string]bool{}
	for _, p := range ns.pods {
		current[p.Name] = true
		if old, ok := f.pods[p.Name]; relist || !ok || !maps.Equal(old, p.Labels) {
			events = append(events, func() { f.engine.SetPod(p.Name, p.Labels) })
			f.pods[p.Name] = maps.Clone(p.Labels)
		}
	}
	for name := range f.pods {
		if !current[name] {
			events = append(events, func() { f.engine.RemovePod(name) })
			delete(f.pods, name)
		}
	}
	if relist {
		// Tombstones of pods the engine never had, or no longer has.
		events = append(events, func() { f.engine.RemovePod("gone-" + randomName(rng, 3)) })
	}
	currentGroups := map[string]bool{}
	for _, g := range ns.groups {
		currentGroups[g.Name] = true
		if old, ok := f.groups[g.Name]; relist || !ok || !equalGroup(old, g) {
			events = append(events, func() { f.engine.SetGroup(g) })
			f.groups[g.Name] = copyGroup(g)
		}
	}
	for name := range f.groups {
		if !currentGroups[name] {
			events = append(events, func() { f.engine.RemoveGroup(name) })
			delete(f.groups, name)
		}
	}
	rng.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
	for _, event := range events {
		event()
	}
	f.delivered++
}

// checkChanged says which group Changed failed to name: one whose result
// differs from the last checked, or that came or went.
func (f *engineFeed) checkChanged(results []Result) string {
	changed := map[string]bool{}
	for _, name := range f.engine.Changed() {
		changed[name] = true
	}
	now := map[string]Result{}
	for _, r := range results {
		now[r.Name] = r
		if before, ok := f.last[r.Name]; (!ok || resultsDiff([]Result{before}, []Result{r}) != "") && !changed[r.Name] {
			return fmt.Sprintf("Changed does not name %s, whose result changed from %+v to %+v", r.Name, before, r)
		}
	}
	for name := range f.last {
		if _, ok := now[name]; !ok && !changed[name] {
			return fmt.Sprintf("Changed does not name %s, which is gone", name)
		}
	}
	f.last = now
	return ""
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

// randomNamespace is a namespace's pods and groups, changed step by step as
// its cache would be, and also with labels maps and selectors changed in
// place, which the informer cache never does.
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
	"labels changed in place", "change selector", "mutate selector in place", "change policy",
	"add group", "remove group", "reorder groups", "change limit", "reorder pods", "same input",
	"relist",
}

// step changes the namespace at random and says how.
func (ns *randomNamespace) step() string {
	rng := ns.rng
	kind := stepKinds[rng.IntN(len(stepKinds))]
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
	case "labels changed in place":
		// Pods share label maps (see randomLabels): changing one in place
		// relabels every pod that holds it, and all are delivered again.
		if len(ns.pods) > 0 {
			m := ns.pods[rng.IntN(len(ns.pods))].Labels
			k := pick(rng, smallKeys)
			if _, ok := m[k]; ok && rng.IntN(2) == 0 {
				delete(m, k)
			} else {
				m[k] = pick(rng, smallValues)
			}
		}
	case "relist":
		ns.relabel(rng.IntN(3))
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
