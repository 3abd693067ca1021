package grouping

import (
	"maps"
	"reflect"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/selector"
)

// Incremental computes the results of one namespace exactly as Compute does,
// reusing the work of its previous call: a reconcile triggered by one pod
// event then costs a diff of the pod list (a map lookup a pod) plus the work
// of the pods that changed, instead of matching every pod against every group.
//
// It keeps, from its last call: a copy of the groups and memberLimit; each
// group's parsed selector and the selector index; for each pod its name, a
// reference to its labels map and the groups it matched; each group's members
// sorted by name; for each group the other groups it shares pods with, and
// how many; for each group with the Selectors policy, the groups whose
// selectors intersect its own (answered once, as selectors only change with a
// rebuild); and the last results.
//
// It rebuilds all of that from scratch, with the primitives Compute uses, on
// the first call and whenever the groups (names, order, selectors, policies)
// or memberLimit differ from the last call. Otherwise it diffs the pods by
// name: each pod added, removed or whose labels differ is matched through the
// selector index, moved between member sets, and the shared counts of the
// pairs of groups it entered or left are adjusted; only the member lists
// and overlap entries it touched are built again. The state is thus always what a rebuild
// from this call's input would give, which is why the results are exact
// whatever the earlier calls were. Inputs outside Compute's contract (two pods
// or two groups of one name) are handed to Compute itself.
//
// Labels are compared with maps.Equal, a map being its own equal: the engine
// keeps a reference to each pod's labels map, so a caller must replace, never
// mutate, a pod's labels map between calls, as the informer cache does.
//
// Memory: about 110 bytes a pod in one group (its slot, 56 bytes; its entry
// in the name map, about 40; its slot in its group's member list and the
// group in its matched list, 4 bytes each), plus 8 a further group it is in,
// plus two map entries for each pair of groups that share pods. Pod names and
// labels maps are the caller's, referenced, not copied. Measured with the
// selectors and results: 150 bytes a pod at 10,000 pods and 1,200 groups,
// each pod in one group; 400 at 10,000 pods and 200 groups, each pod in 26
// groups on average. The returned slices are never written after they are
// returned, so callers may keep them.
//
// An Incremental is not safe for concurrent use.
type Incremental struct {
	built       bool
	rebuilds    int
	groups      []Group // a deep copy of the groups of the last rebuild
	memberLimit int

	selectors []labels.Selector // nil for an invalid selector
	index     *selectorIndex
	rank      []int32 // each group's place in name order
	// intersecting lists, for each group with the Selectors policy, the valid
	// groups whose selector intersects its own.
	intersecting [][]int32

	byName map[string]int32 // pod name -> its slot in pods
	pods   []podState
	free   []int32 // slots of removed pods
	live   int     // pods in slots
	epoch  uint64  // counts the calls; a slot seen in this call has seen == epoch

	members [][]int32         // each group's pods, as slots, sorted by name
	shared  []map[int32]int32 // each group's other groups that share pods with it -> how many
	results []Result          // the last results; their slices are never written again

	// Since the last results: the groups whose members changed, and the
	// pairs (a, b) whose shared count changed, each way round.
	membersChanged []bool
	changedMembers []int32
	changedPairs   []pair
	scratch        []int
	matched        []int32   // match's result, reused
	partners       []partner // overlapsOf's, reused
}

type pair struct{ a, b int32 }

// partner is a group that overlaps another, with the pods they share.
type partner struct{ rank, group, shared int32 }

// podState is what the engine remembers of a pod. A free slot has seen == 0.
type podState struct {
	name    string
	labels  map[string]string
	matched []int32 // the groups whose selector matches labels, ascending
	seen    uint64
}

// Compute returns what Compute(pods, groups, memberLimit) returns.
func (e *Incremental) Compute(pods []Pod, groups []Group, memberLimit int) []Result {
	var ok bool
	if !e.built || memberLimit != e.memberLimit || !equalGroups(e.groups, groups) {
		ok = e.rebuild(pods, groups, memberLimit)
	} else {
		ok = e.update(pods)
	}
	if !ok {
		*e = Incremental{rebuilds: e.rebuilds}
		return Compute(pods, groups, memberLimit)
	}
	e.refreshResults()
	return slices.Clone(e.results)
}

// Rebuilds says how many times the engine has started over from scratch: on
// its first call, and whenever the groups (in order) or memberLimit changed.
// A caller that passes the same groups in a new order makes it start over.
func (e *Incremental) Rebuilds() int { return e.rebuilds }

// rebuild makes the state of pods and groups from scratch. It returns false,
// leaving a state that must be dropped, when two pods or two groups share a
// name.
func (e *Incremental) rebuild(pods []Pod, groups []Group, memberLimit int) bool {
	*e = Incremental{built: true, rebuilds: e.rebuilds + 1, groups: copyGroups(groups), memberLimit: memberLimit, epoch: 1}
	if repeatsName(groups) {
		return false
	}
	sorted := slices.Clone(pods)
	slices.SortFunc(sorted, func(a, b Pod) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(sorted); i++ {
		if sorted[i].Name == sorted[i-1].Name {
			return false
		}
	}
	e.results = make([]Result, len(groups))
	e.selectors = make([]labels.Selector, len(groups))
	for i, group := range groups {
		e.results[i].Name = group.Name
		sel, err := selector.ToLabelsSelector(group.Selector)
		if err != nil {
			e.results[i].SelectorErr = err
			continue
		}
		e.selectors[i] = sel
		e.results[i].Selector = sel.String()
	}
	e.index = newSelectorIndex(e.selectors)
	e.rank = nameRanks(groups)
	members, counted := membersOf(e.selectors, sorted)
	e.rebuildPods(sorted, members)
	e.rebuildShared(members, counted)
	e.rebuildIntersecting()
	e.membersChanged = make([]bool, len(groups))
	for g := range groups {
		if e.selectors[g] != nil {
			e.markMembers(int32(g))
			e.results[g].Overlaps = e.overlapsOf(int32(g))
		}
	}
	return true
}

// rebuildPods fills the pod slots, in name order, and the member lists from
// the member sets of the pods sorted by name.
func (e *Incremental) rebuildPods(sorted []Pod, members []bitset) {
	e.byName = make(map[string]int32, len(sorted))
	e.pods = make([]podState, len(sorted))
	e.members = make([][]int32, len(members))
	counts := make([]int, len(sorted))
	total := 0
	for g, set := range members {
		e.members[g] = make([]int32, 0, set.count())
		for i := range set.all() {
			e.members[g] = append(e.members[g], int32(i))
			counts[i]++
			total++
		}
	}
	// One array holds every pod's matched groups; a pod relabelled later
	// gets a slice of its own, as each slice is capped at its length.
	matched := make([]int32, total)
	for i, p := range sorted {
		e.byName[p.Name] = int32(i)
		e.pods[i] = podState{name: p.Name, labels: p.Labels, matched: matched[:0:counts[i]], seen: e.epoch}
		matched = matched[counts[i]:]
	}
	for g, set := range members {
		for i := range set.all() {
			e.pods[i].matched = append(e.pods[i].matched, int32(g))
		}
	}
	e.live = len(sorted)
}

// rebuildShared fills the shared counts, from counted when membersOf counted
// them pod by pod, else from the member sets as addOverlaps does.
func (e *Incremental) rebuildShared(members []bitset, counted sharedCounts) {
	e.shared = make([]map[int32]int32, len(members))
	if counted != nil {
		for a, row := range counted {
			for _, pc := range row {
				e.setShared(int32(a), pc.other, pc.count)
			}
		}
		return
	}
	for a := range members {
		if e.selectors[a] == nil {
			continue
		}
		for b := a + 1; b < len(members); b++ {
			if e.selectors[b] == nil {
				continue
			}
			if n := members[a].sharedCount(members[b]); n > 0 {
				e.setShared(int32(a), int32(b), int32(n))
			}
		}
	}
}

func (e *Incremental) setShared(a, b, n int32) {
	for _, p := range [2][2]int32{{a, b}, {b, a}} {
		if e.shared[p[0]] == nil {
			e.shared[p[0]] = map[int32]int32{}
		}
		e.shared[p[0]][p[1]] = n
	}
}

// rebuildIntersecting answers, for each pair of valid groups of which one has
// the Selectors policy, whether their selectors intersect. A shared pod proves
// they do; the selector algebra is asked, as in addOverlaps with the lower
// index first, only when none is.
func (e *Incremental) rebuildIntersecting() {
	e.intersecting = make([][]int32, len(e.groups))
	for a, group := range e.groups {
		if e.selectors[a] == nil || !isSelectors(group.Policy) {
			continue
		}
		for b := range e.groups {
			if b == a || e.selectors[b] == nil || (b < a && isSelectors(e.groups[b].Policy)) {
				continue // b's own turn answers this pair
			}
			lo, hi := min(a, b), max(a, b)
			if e.shared[a][int32(b)] > 0 || selector.Intersects(e.selectors[lo], e.selectors[hi]) {
				e.intersecting[a] = append(e.intersecting[a], int32(b))
				if isSelectors(e.groups[b].Policy) {
					e.intersecting[b] = append(e.intersecting[b], int32(a))
				}
			}
		}
	}
	for _, row := range e.intersecting {
		slices.Sort(row) // for updateOverlap's binary search
	}
}

// update brings the state from the last call's pods to pods. It returns false
// when two pods share a name.
func (e *Incremental) update(pods []Pod) bool {
	e.epoch++
	seen := 0
	for _, p := range pods {
		slot, ok := e.byName[p.Name]
		if !ok {
			e.addPod(p)
			seen++
			continue
		}
		st := &e.pods[slot]
		if st.seen == e.epoch {
			return false
		}
		st.seen = e.epoch
		seen++
		if !sameLabels(st.labels, p.Labels) {
			e.relabel(slot, p.Labels)
		}
	}
	if seen < e.live {
		for slot := range e.pods {
			if st := &e.pods[slot]; st.seen != 0 && st.seen != e.epoch {
				e.removePod(int32(slot))
			}
		}
	}
	return true
}

func (e *Incremental) addPod(p Pod) {
	var slot int32
	if n := len(e.free); n > 0 {
		slot, e.free = e.free[n-1], e.free[:n-1]
	} else {
		slot = int32(len(e.pods))
		e.pods = append(e.pods, podState{})
	}
	matched := slices.Clone(e.match(p.Labels))
	e.pods[slot] = podState{name: p.Name, labels: p.Labels, matched: matched, seen: e.epoch}
	e.byName[p.Name] = slot
	e.live++
	e.movePod(slot, nil, matched)
}

func (e *Incremental) relabel(slot int32, podLabels map[string]string) {
	st := &e.pods[slot]
	st.labels = podLabels
	if matched := e.match(podLabels); !slices.Equal(matched, st.matched) {
		matched = slices.Clone(matched)
		e.movePod(slot, st.matched, matched)
		st.matched = matched
	}
}

func (e *Incremental) removePod(slot int32) {
	st := e.pods[slot]
	e.movePod(slot, st.matched, nil)
	delete(e.byName, st.name)
	e.pods[slot] = podState{}
	e.free = append(e.free, slot)
	e.live--
}

// match returns the groups whose selector matches podLabels, ascending, in a
// slice that the next call reuses.
func (e *Incremental) match(podLabels map[string]string) []int32 {
	e.scratch = e.index.matching(e.selectors, podLabels, e.scratch[:0])
	slices.Sort(e.scratch)
	e.matched = e.matched[:0]
	for _, g := range e.scratch {
		e.matched = append(e.matched, int32(g))
	}
	return e.matched
}

// movePod moves the pod called name from the groups in old to those in new
// (both ascending), and adjusts the shared counts of the pairs it left or
// entered.
func (e *Incremental) movePod(slot int32, old, new []int32) {
	name := e.pods[slot].name
	byName := func(member int32, name string) int { return strings.Compare(e.pods[member].name, name) }
	in := func(set []int32, g int32) bool {
		_, found := slices.BinarySearch(set, g)
		return found
	}
	for _, g := range old {
		if !in(new, g) {
			i, _ := slices.BinarySearchFunc(e.members[g], name, byName)
			e.members[g] = slices.Delete(e.members[g], i, i+1)
			e.markMembers(g)
		}
	}
	for _, g := range new {
		if !in(old, g) {
			i, _ := slices.BinarySearchFunc(e.members[g], name, byName)
			e.members[g] = slices.Insert(e.members[g], i, slot)
			e.markMembers(g)
		}
	}
	for i, a := range old {
		for _, b := range old[i+1:] {
			if !in(new, a) || !in(new, b) {
				e.addShared(a, b, -1)
			}
		}
	}
	for i, a := range new {
		for _, b := range new[i+1:] {
			if !in(old, a) || !in(old, b) {
				e.addShared(a, b, 1)
			}
		}
	}
}

// addShared adds delta to the pods groups a and b share, dropping the pair
// when they share none.
func (e *Incremental) addShared(a, b, delta int32) {
	for _, p := range [2][2]int32{{a, b}, {b, a}} {
		row := e.shared[p[0]]
		if row == nil {
			row = map[int32]int32{}
			e.shared[p[0]] = row
		}
		if n := row[p[1]] + delta; n == 0 {
			delete(row, p[1])
		} else {
			row[p[1]] = n
		}
		e.changedPairs = append(e.changedPairs, pair{p[0], p[1]})
	}
}

func (e *Incremental) markMembers(g int32) {
	if !e.membersChanged[g] {
		e.membersChanged[g] = true
		e.changedMembers = append(e.changedMembers, g)
	}
}

// refreshResults builds again the parts of the results that changed, in new
// slices: the old ones may still be held by a caller.
func (e *Incremental) refreshResults() {
	for _, g := range e.changedMembers {
		e.membersChanged[g] = false
		r := &e.results[g]
		r.MemberCount = int32(len(e.members[g]))
		r.Members = nil
		if r.MemberCount > 0 && e.memberLimit > 0 {
			r.Members = make([]string, min(len(e.members[g]), e.memberLimit))
			for i := range r.Members {
				r.Members[i] = e.pods[e.members[g][i]].name
			}
		}
	}
	e.changedMembers = e.changedMembers[:0]
	slices.SortFunc(e.changedPairs, func(x, y pair) int { return int(x.a - y.a) })
	for run := e.changedPairs; len(run) > 0; {
		a := run[0].a
		n := 1
		for n < len(run) && run[n].a == a {
			n++
		}
		overlaps := slices.Clone(e.results[a].Overlaps)
		for _, p := range run[:n] {
			overlaps = e.updateOverlap(overlaps, a, p.b)
		}
		if len(overlaps) == 0 {
			overlaps = nil
		}
		e.results[a].Overlaps = overlaps
		run = run[n:]
	}
	e.changedPairs = e.changedPairs[:0]
}

// updateOverlap brings the entry for group b in overlaps, group a's overlaps
// sorted by name, in line with the pods a and b share now. Patching the
// entries that changed, rather than sorting a's overlaps again, matters when
// groups overlap many others: at 10,000 pods and 200 groups, sorting took
// most of a call's time.
func (e *Incremental) updateOverlap(overlaps []v1alpha1.Overlap, a, b int32) []v1alpha1.Overlap {
	name := e.groups[b].Name
	i, found := slices.BinarySearchFunc(overlaps, name, func(o v1alpha1.Overlap, name string) int { return strings.Compare(o.Name, name) })
	shared := e.shared[a][b]
	overlapping := shared > 0
	if !overlapping && isSelectors(e.groups[a].Policy) {
		_, overlapping = slices.BinarySearch(e.intersecting[a], b)
	}
	switch {
	case overlapping && found:
		overlaps[i].SharedMembers = shared
	case overlapping:
		overlaps = slices.Insert(overlaps, i, v1alpha1.Overlap{Name: name, SharedMembers: shared})
	case found:
		overlaps = slices.Delete(overlaps, i, i+1)
	}
	return overlaps
}

// overlapsOf returns group a's overlaps as addOverlaps has them: the groups it
// shares pods with and, under the Selectors policy, those whose selector
// intersects its own; sorted by name, nil when none.
//
// The partners are sorted by their place in name order, as comparing ints is
// several times cheaper than comparing names: at 10,000 pods and 200 groups
// that share many pods, sorting by name was most of a call's time.
func (e *Incremental) overlapsOf(a int32) []v1alpha1.Overlap {
	e.partners = e.partners[:0]
	for b, n := range e.shared[a] {
		e.partners = append(e.partners, partner{rank: e.rank[b], group: b, shared: n})
	}
	if isSelectors(e.groups[a].Policy) {
		for _, b := range e.intersecting[a] {
			if _, sharing := e.shared[a][b]; !sharing {
				e.partners = append(e.partners, partner{rank: e.rank[b], group: b})
			}
		}
	}
	if len(e.partners) == 0 {
		return nil
	}
	slices.SortFunc(e.partners, func(x, y partner) int { return int(x.rank - y.rank) })
	out := make([]v1alpha1.Overlap, len(e.partners))
	for i, p := range e.partners {
		out[i] = v1alpha1.Overlap{Name: e.groups[p.group].Name, SharedMembers: p.shared}
	}
	return out
}

// nameRanks returns each group's place in the groups sorted by name, which
// are distinct.
func nameRanks(groups []Group) []int32 {
	order := make([]int32, len(groups))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(x, y int32) int { return strings.Compare(groups[x].Name, groups[y].Name) })
	rank := make([]int32, len(groups))
	for r, g := range order {
		rank[g] = int32(r)
	}
	return rank
}

// sameLabels says whether two pods' labels are equal. The same map is equal
// to itself without a look at its entries: labels maps are replaced, never
// mutated (see Incremental).
func sameLabels(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	if reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer() {
		return true
	}
	return maps.Equal(a, b)
}

// equalGroups says whether two lists of groups are the same, field by field.
// It treats a nil map or list as equal to an empty one, as the conversion to
// a labels.Selector does.
func equalGroups(a, b []Group) bool {
	return slices.EqualFunc(a, b, func(x, y Group) bool {
		return x.Name == y.Name && x.Policy == y.Policy &&
			maps.Equal(x.Selector.MatchLabels, y.Selector.MatchLabels) &&
			slices.EqualFunc(x.Selector.MatchExpressions, y.Selector.MatchExpressions, func(r, s v1alpha1.LabelSelectorRequirement) bool {
				return r.Key == s.Key && r.Operator == s.Operator && slices.Equal(r.Values, s.Values)
			})
	})
}

// copyGroups copies groups deeply, so that a caller's later change to a
// selector cannot change what the engine compares with.
func copyGroups(groups []Group) []Group {
	out := make([]Group, len(groups))
	for i, g := range groups {
		out[i] = Group{Name: g.Name, Policy: g.Policy}
		g.Selector.DeepCopyInto(&out[i].Selector)
	}
	return out
}

func repeatsName(groups []Group) bool {
	names := make(map[string]struct{}, len(groups))
	for _, g := range groups {
		if _, ok := names[g.Name]; ok {
			return true
		}
		names[g.Name] = struct{}{}
	}
	return false
}
