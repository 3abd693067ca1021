package grouping

import (
	"maps"
	"slices"
	"strings"

	"github.com/google/btree"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/selector"
)

// Engine keeps the members and overlaps of the groups of one namespace
// current as its pods and groups change, one event at a time. Compute is an
// Engine run from empty. A group is anything with a name, a selector and an
// overlap policy; the engine knows no other kind.
//
// What it keeps:
//   - each distinct label set of the namespace once (a copy, so a caller's
//     later change to a labels map cannot change what the engine knows),
//     with the groups whose selector matches it and the pods that carry it;
//   - for each pod, its name and its label set;
//   - for each group, its selector, its members in a B-tree ordered by pod
//     name (the first memberLimit names are the status's list), the number of
//     pods it shares with each group it shares any with, and, where either
//     side has the Selectors policy, the groups whose selectors intersect its
//     own, and the number of its members that any other group also selects;
//   - each group's last Result, and which groups' Results changed since
//     Changed was last asked.
//
// What an event costs:
//   - a pod added, removed or relabelled: a look-up of its new label set
//     (built from its labels; matched through the selector index only the
//     first time the namespace holds that set), a B-tree insert or delete in
//     each group it enters or leaves, one shared count per pair of those
//     groups and one count of shared members per group, and, when results are read, a patch of the overlap entries of
//     the pairs whose counts changed. A pod whose labels did not change costs
//     one comparison of its labels. Nothing scales with the pods of the
//     namespace, only with the groups the pod is in (the logarithm of their
//     sizes for the B-tree) and the overlaps of the groups it touched.
//   - a group added, removed or whose selector or policy changed: each label
//     set of the namespace matched against its selector, its members
//     inserted, its overlaps built again, and those of the groups it
//     overlaps; O(label sets + its members + groups).
//
// Results returned are never written afterwards, so callers may keep them.
// An Engine is not safe for concurrent use.
type Engine struct {
	memberLimit int

	groupSlot  map[string]int32
	groups     []groupState
	freeGroups []int32
	selectors  []labels.Selector // by group slot; nil for an invalid selector or a free slot
	index      *selectorIndex

	podSlot  map[string]int32
	pods     []podState
	freePods []int32
	sets     map[string]*labelSet // by labels.Set's canonical string
	// pendingSets are the label sets whose pod count changed since their
	// pairs of groups were last counted (see flushPairs).
	pendingSets []*labelSet

	queued       []int32 // groups whose Result must be brought up to date
	changedPairs []pair  // (a, b): the pods a shares with b changed
	changed      map[string]struct{}
	freeList     *btree.FreeListG[int32]
	scratch      []int
}

type groupState struct {
	live         bool
	group        Group
	members      *btree.BTreeG[int32] // nil for an invalid selector
	shared       map[int32]int32      // other group -> pods both select
	intersecting map[int32]struct{}   // groups whose selector intersects, where either has policy Selectors
	result       Result
	// sharedMembers are its members that at least one other group also
	// selects; sharedReported is what Changed last answered for.
	sharedMembers, sharedReported int32

	queued          bool
	countChanged    bool // MemberCount must be taken again
	listChanged     bool // Members must be listed again
	overlapsChanged bool // Overlaps must be built again in full
}

type podState struct {
	name string
	set  *labelSet // nil for a free slot
	pos  int       // index in set.pods
}

// labelSet is one distinct set of labels of the namespace's pods.
type labelSet struct {
	key     string
	labels  map[string]string
	matched []int32 // the groups whose selector matches, ascending
	pods    []int32
	counted int  // len(pods) when its pairs were last counted
	pending bool // in Engine.pendingSets
}

type pair struct{ a, b int32 }

// NewEngine returns an empty engine whose Results list at most memberLimit
// member names (none when memberLimit is zero or less).
func NewEngine(memberLimit int) *Engine {
	e := &Engine{
		memberLimit: memberLimit,
		groupSlot:   map[string]int32{},
		podSlot:     map[string]int32{},
		sets:        map[string]*labelSet{},
		changed:     map[string]struct{}{},
		index:       newSelectorIndex(),
		freeList:    btree.NewFreeListG[int32](btree.DefaultFreeListSize),
	}
	return e
}

// Compute returns one Result per group, in the order of groups: an Engine
// run from empty. The pods and groups must all be of one namespace, so their
// names are unique.
func Compute(pods []Pod, groups []Group, memberLimit int) []Result {
	e := NewEngine(memberLimit)
	for _, g := range groups {
		e.SetGroup(g)
	}
	for _, p := range pods {
		e.SetPod(p.Name, p.Labels)
	}
	e.refresh()
	results := make([]Result, len(groups))
	for i, g := range groups {
		results[i] = e.groups[e.groupSlot[g.Name]].result
	}
	return results
}

// SetPod adds the pod called name, or gives it podLabels. The engine keeps a
// copy of the labels it has not seen yet.
func (e *Engine) SetPod(name string, podLabels map[string]string) {
	slot, known := e.podSlot[name]
	if known && maps.Equal(e.pods[slot].set.labels, podLabels) {
		return
	}
	set := e.intern(podLabels)
	if !known {
		slot = e.allocPod(name)
		e.movePod(slot, nil, set.matched)
	} else {
		old := e.pods[slot].set
		e.movePod(slot, old.matched, set.matched)
		e.leaveSet(slot)
	}
	e.joinSet(slot, set)
}

// RemovePod removes the pod called name; nothing when there is none.
func (e *Engine) RemovePod(name string) {
	slot, known := e.podSlot[name]
	if !known {
		return
	}
	e.movePod(slot, e.pods[slot].set.matched, nil)
	e.leaveSet(slot)
	delete(e.podSlot, name)
	e.pods[slot] = podState{}
	e.freePods = append(e.freePods, slot)
}

// SetGroup adds the group, or changes its selector and policy. The engine
// keeps a copy of the selector.
func (e *Engine) SetGroup(g Group) {
	slot, known := e.groupSlot[g.Name]
	if known && equalGroup(e.groups[slot].group, g) {
		return
	}
	e.flushPairs()
	if known {
		e.detach(slot)
	} else {
		slot = e.allocGroup(g.Name)
	}
	e.attach(slot, copyGroup(g))
}

// RemoveGroup removes the group called name; nothing when there is none.
func (e *Engine) RemoveGroup(name string) {
	slot, known := e.groupSlot[name]
	if !known {
		return
	}
	e.flushPairs()
	e.detach(slot)
	delete(e.groupSlot, name)
	queued := e.groups[slot].queued
	e.groups[slot] = groupState{queued: queued}
	e.freeGroups = append(e.freeGroups, slot)
	e.changed[name] = struct{}{}
}

// Result returns the group's Result; ok is false when there is no such group.
func (e *Engine) Result(name string) (result Result, ok bool) {
	e.refresh()
	slot, ok := e.groupSlot[name]
	if !ok {
		return Result{}, false
	}
	return e.groups[slot].result, true
}

// SharedMemberCount returns the number of the group's members that at least
// one other group of the engine also selects, each counted once however many
// groups select it; ok is false when there is no such group. Where the groups
// are PodDisruptionBudgets, these are the pods the eviction API refuses to
// evict.
func (e *Engine) SharedMemberCount(name string) (count int32, ok bool) {
	e.flushPairs()
	slot, ok := e.groupSlot[name]
	if !ok {
		return 0, false
	}
	return e.groups[slot].sharedMembers, true
}

// Changed returns the names of the groups whose Result or SharedMemberCount
// changed, or that were added or removed, since the last call, in no
// particular order.
func (e *Engine) Changed() []string {
	e.refresh()
	names := make([]string, 0, len(e.changed))
	for name := range e.changed {
		names = append(names, name)
	}
	clear(e.changed)
	return names
}

// Groups returns the names of the engine's groups, in no particular order.
func (e *Engine) Groups() []string {
	return slices.Collect(maps.Keys(e.groupSlot))
}

func (e *Engine) allocPod(name string) int32 {
	var slot int32
	if n := len(e.freePods); n > 0 {
		slot, e.freePods = e.freePods[n-1], e.freePods[:n-1]
	} else {
		slot = int32(len(e.pods))
		e.pods = append(e.pods, podState{})
	}
	e.pods[slot].name = name
	e.podSlot[name] = slot
	return slot
}

func (e *Engine) allocGroup(name string) int32 {
	var slot int32
	if n := len(e.freeGroups); n > 0 {
		slot, e.freeGroups = e.freeGroups[n-1], e.freeGroups[:n-1]
	} else {
		slot = int32(len(e.groups))
		e.groups = append(e.groups, groupState{})
		e.selectors = append(e.selectors, nil)
	}
	e.groupSlot[name] = slot
	return slot
}

// intern returns the namespace's label set equal to podLabels, made and
// matched against the groups if it is new.
func (e *Engine) intern(podLabels map[string]string) *labelSet {
	key := labels.Set(podLabels).String()
	if set, ok := e.sets[key]; ok {
		return set
	}
	set := &labelSet{key: key, labels: maps.Clone(podLabels)}
	e.scratch = e.index.matching(e.selectors, set.labels, e.scratch[:0])
	slices.Sort(e.scratch)
	for _, g := range e.scratch {
		set.matched = append(set.matched, int32(g))
	}
	e.sets[key] = set
	return set
}

func (e *Engine) joinSet(slot int32, set *labelSet) {
	e.pods[slot].set = set
	e.pods[slot].pos = len(set.pods)
	set.pods = append(set.pods, slot)
	e.markPending(set)
}

func (e *Engine) leaveSet(slot int32) {
	set, pos := e.pods[slot].set, e.pods[slot].pos
	last := set.pods[len(set.pods)-1]
	set.pods[pos] = last
	e.pods[last].pos = pos
	set.pods = set.pods[:len(set.pods)-1]
	e.markPending(set)
}

func (e *Engine) markPending(set *labelSet) {
	if !set.pending {
		set.pending = true
		e.pendingSets = append(e.pendingSets, set)
	}
}

// flushPairs brings the shared counts up to date with the pods of the label
// sets that gained or lost pods: every pair of groups matching a set shares
// its pods. Counting by label set rather than by pod makes a full computation
// cost one count per pair and label set; the pods of a ReplicaSet share one.
func (e *Engine) flushPairs() {
	for _, set := range e.pendingSets {
		set.pending = false
		if delta := int32(len(set.pods) - set.counted); delta != 0 {
			for i, a := range set.matched {
				for _, b := range set.matched[i+1:] {
					e.addShared(a, b, delta)
				}
			}
			if len(set.matched) > 1 {
				for _, g := range set.matched {
					e.addSharedMembers(g, delta)
				}
			}
			set.counted = len(set.pods)
		}
		if len(set.pods) == 0 {
			delete(e.sets, set.key)
		}
	}
	e.pendingSets = e.pendingSets[:0]
}

// addSharedMembers changes the count of group g's members that another group
// also selects.
func (e *Engine) addSharedMembers(g, delta int32) {
	e.groups[g].sharedMembers += delta
	e.queue(g)
}

func (e *Engine) addShared(a, b, delta int32) {
	for _, p := range [2]pair{{a, b}, {b, a}} {
		gs := &e.groups[p.a]
		if gs.shared == nil {
			gs.shared = map[int32]int32{}
		}
		if n := gs.shared[p.b] + delta; n == 0 {
			delete(gs.shared, p.b)
		} else {
			gs.shared[p.b] = n
		}
		e.changedPairs = append(e.changedPairs, p)
		e.queue(p.a)
	}
}

// movePod moves the pod in slot from the groups in old to those in new (both
// ascending).
func (e *Engine) movePod(slot int32, old, new []int32) {
	name := e.pods[slot].name
	for _, g := range old {
		if _, stays := slices.BinarySearch(new, g); !stays {
			e.groups[g].members.Delete(slot)
			e.membersChanged(g, name)
		}
	}
	for _, g := range new {
		if _, stayed := slices.BinarySearch(old, g); !stayed {
			e.groups[g].members.ReplaceOrInsert(slot)
			e.membersChanged(g, name)
		}
	}
}

// membersChanged notes that the pod called name entered or left group g: its
// count changed, and its list too when the pod is or would be listed.
func (e *Engine) membersChanged(g int32, name string) {
	gs := &e.groups[g]
	gs.countChanged = true
	if listed := gs.result.Members; e.memberLimit > 0 && (len(listed) < e.memberLimit || name <= listed[len(listed)-1]) {
		gs.listChanged = true
	}
	e.queue(g)
}

func (e *Engine) queue(g int32) {
	if !e.groups[g].queued {
		e.groups[g].queued = true
		e.queued = append(e.queued, g)
	}
}

// detach takes the group in slot out of every label set, pair and index,
// leaving it with no members; the groups it overlapped build their overlaps
// again.
func (e *Engine) detach(slot int32) {
	gs := &e.groups[slot]
	if sel := e.selectors[slot]; sel != nil {
		e.index.remove(int(slot), sel)
		for _, set := range e.sets {
			if i, found := slices.BinarySearch(set.matched, slot); found {
				set.matched = slices.Delete(set.matched, i, i+1)
				if len(set.matched) == 1 {
					// Its pods are no longer shared by the group left.
					e.addSharedMembers(set.matched[0], -int32(set.counted))
				}
			}
		}
	}
	for b := range gs.shared {
		delete(e.groups[b].shared, slot)
		e.rebuildOverlaps(b)
	}
	for b := range gs.intersecting {
		delete(e.groups[b].intersecting, slot)
		e.rebuildOverlaps(b)
	}
	e.selectors[slot] = nil
	gs.shared, gs.intersecting, gs.members = nil, nil, nil
	gs.sharedMembers = 0
}

// attach makes g the group in slot, which has no members: it matches every
// label set of the namespace against g's selector and counts what it shares
// with the other groups.
func (e *Engine) attach(slot int32, g Group) {
	gs := &e.groups[slot]
	gs.live, gs.group = true, g
	gs.result = Result{Name: g.Name}
	e.changed[g.Name] = struct{}{}
	e.rebuildOverlaps(slot)
	gs.countChanged, gs.listChanged = true, true
	sel, err := selector.ToLabelsSelector(g.Selector)
	if err != nil {
		gs.result.SelectorErr = err
		return
	}
	gs.result.Selector = sel.String()
	e.selectors[slot] = sel
	e.index.add(int(slot), sel)
	gs.members = btree.NewWithFreeListG(16, e.byName, e.freeList)
	for _, set := range e.sets {
		if len(set.pods) == 0 || !sel.Matches(labels.Set(set.labels)) {
			continue
		}
		i, _ := slices.BinarySearch(set.matched, slot)
		set.matched = slices.Insert(set.matched, i, slot)
		for _, b := range set.matched {
			if b != slot && set.counted > 0 {
				e.addShared(slot, b, int32(set.counted))
			}
		}
		switch {
		case len(set.matched) == 2:
			// Both groups now share the set's pods; the other did not before.
			e.addSharedMembers(set.matched[0], int32(set.counted))
			e.addSharedMembers(set.matched[1], int32(set.counted))
		case len(set.matched) > 2:
			e.addSharedMembers(slot, int32(set.counted))
		}
		for _, p := range set.pods {
			gs.members.ReplaceOrInsert(p)
		}
	}
	for b := range e.groups {
		other := &e.groups[b]
		if int32(b) == slot || e.selectors[b] == nil || !(isSelectors(g.Policy) || isSelectors(other.group.Policy)) {
			continue
		}
		if selector.Intersects(sel, e.selectors[b]) {
			if gs.intersecting == nil {
				gs.intersecting = map[int32]struct{}{}
			}
			if other.intersecting == nil {
				other.intersecting = map[int32]struct{}{}
			}
			gs.intersecting[int32(b)] = struct{}{}
			other.intersecting[slot] = struct{}{}
			e.rebuildOverlaps(int32(b))
		}
	}
}

func (e *Engine) byName(a, b int32) bool { return e.pods[a].name < e.pods[b].name }

func (e *Engine) rebuildOverlaps(g int32) {
	e.groups[g].overlapsChanged = true
	e.queue(g)
}

// refresh brings the Results of the queued groups up to date and notes those
// that changed. Slices of earlier Results are never written: a changed list
// is a new slice.
func (e *Engine) refresh() {
	e.flushPairs()
	slices.SortFunc(e.changedPairs, func(x, y pair) int { return int(x.a - y.a) })
	for run := e.changedPairs; len(run) > 0; {
		a := run[0].a
		n := 1
		for n < len(run) && run[n].a == a {
			n++
		}
		if gs := &e.groups[a]; gs.live && !gs.overlapsChanged {
			overlaps := slices.Clone(gs.result.Overlaps)
			for _, p := range run[:n] {
				if e.groups[p.b].live {
					overlaps = e.updateOverlap(overlaps, a, p.b)
				}
			}
			if !slices.Equal(overlaps, gs.result.Overlaps) {
				gs.result.Overlaps = nilIfEmpty(overlaps)
				e.changed[gs.group.Name] = struct{}{}
			}
		}
		run = run[n:]
	}
	e.changedPairs = e.changedPairs[:0]
	for _, g := range e.queued {
		gs := &e.groups[g]
		gs.queued = false
		if !gs.live {
			continue
		}
		before := gs.result
		if gs.overlapsChanged {
			gs.result.Overlaps = e.overlapsOf(g)
		}
		if gs.countChanged {
			gs.result.MemberCount = 0
			if gs.members != nil {
				gs.result.MemberCount = int32(gs.members.Len())
			}
		}
		if gs.listChanged {
			gs.result.Members = e.memberNames(gs.members)
		}
		gs.countChanged, gs.listChanged, gs.overlapsChanged = false, false, false
		if !sameResult(before, gs.result) || gs.sharedMembers != gs.sharedReported {
			e.changed[gs.group.Name] = struct{}{}
		}
		gs.sharedReported = gs.sharedMembers
	}
	e.queued = e.queued[:0]
}

// memberNames returns the names of the first memberLimit members; nil when it
// lists none, as a status read back from the API server has.
func (e *Engine) memberNames(members *btree.BTreeG[int32]) []string {
	if members == nil || members.Len() == 0 || e.memberLimit <= 0 {
		return nil
	}
	names := make([]string, 0, min(members.Len(), e.memberLimit))
	members.Ascend(func(slot int32) bool {
		names = append(names, e.pods[slot].name)
		return len(names) < cap(names)
	})
	return names
}

// updateOverlap brings the entry for group b in overlaps, group a's overlaps
// sorted by name, in line with the pods a and b share now. Patching the
// entries that changed, rather than building a's overlaps again, matters when
// groups overlap many others.
func (e *Engine) updateOverlap(overlaps []v1alpha1.Overlap, a, b int32) []v1alpha1.Overlap {
	name := e.groups[b].group.Name
	i, found := slices.BinarySearchFunc(overlaps, name, func(o v1alpha1.Overlap, name string) int { return strings.Compare(o.Name, name) })
	shared, overlapping := e.overlapOf(a, b)
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

// overlapOf says whether group b overlaps group a under a's policy, and how
// many pods they share.
func (e *Engine) overlapOf(a, b int32) (shared int32, overlapping bool) {
	gs := &e.groups[a]
	shared = gs.shared[b]
	if shared > 0 {
		return shared, true
	}
	if isSelectors(gs.group.Policy) {
		_, overlapping = gs.intersecting[b]
	}
	return 0, overlapping
}

// overlapsOf returns group a's overlaps in full, sorted by name; nil when none.
func (e *Engine) overlapsOf(a int32) []v1alpha1.Overlap {
	gs := &e.groups[a]
	var out []v1alpha1.Overlap
	for b, n := range gs.shared {
		out = append(out, v1alpha1.Overlap{Name: e.groups[b].group.Name, SharedMembers: n})
	}
	if isSelectors(gs.group.Policy) {
		for b := range gs.intersecting {
			if _, sharing := gs.shared[b]; !sharing {
				out = append(out, v1alpha1.Overlap{Name: e.groups[b].group.Name})
			}
		}
	}
	slices.SortFunc(out, func(x, y v1alpha1.Overlap) int { return strings.Compare(x.Name, y.Name) })
	return out
}

func nilIfEmpty(overlaps []v1alpha1.Overlap) []v1alpha1.Overlap {
	if len(overlaps) == 0 {
		return nil
	}
	return overlaps
}

func sameResult(a, b Result) bool {
	return a.Name == b.Name && a.Selector == b.Selector && (a.SelectorErr == nil) == (b.SelectorErr == nil) &&
		a.MemberCount == b.MemberCount && slices.Equal(a.Members, b.Members) && slices.Equal(a.Overlaps, b.Overlaps)
}

func isSelectors(policy v1alpha1.OverlapPolicy) bool {
	return policy == v1alpha1.OverlapPolicySelectors
}

// equalGroup says whether two groups are the same, field by field. It treats
// a nil map or list as equal to an empty one, as the conversion to a
// labels.Selector does.
func equalGroup(x, y Group) bool {
	return x.Name == y.Name && x.Policy == y.Policy &&
		maps.Equal(x.Selector.MatchLabels, y.Selector.MatchLabels) &&
		slices.EqualFunc(x.Selector.MatchExpressions, y.Selector.MatchExpressions, func(r, s v1alpha1.LabelSelectorRequirement) bool {
			return r.Key == s.Key && r.Operator == s.Operator && slices.Equal(r.Values, s.Values)
		})
}

// copyGroup copies a group deeply, so that a caller's later change to its
// selector cannot change what the engine compares with.
func copyGroup(g Group) Group {
	out := Group{Name: g.Name, Policy: g.Policy}
	g.Selector.DeepCopyInto(&out.Selector)
	return out
}
