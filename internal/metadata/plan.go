// Package metadata plans how a LabelGroup stamps its spec.memberMetadata on
// pods with server-side apply: for every pod, which keys the group's field
// manager should own after the write (the apply configuration), which keys it
// leaves to the pod or to another group, and whether a write is needed at all.
// It reads no cluster state; the reconciler hands it what its cache holds and
// carries the plan out.
//
// The precedence rule is the one server-side apply already enforces when the
// apply is not forced: a key owned by anyone else with a different value stays
// as it is. The planner predicts that from the pod's values and the managed
// fields of the groups' own managers, so that a pod already as it should be
// is not written; the API server's conflict answer settles the rest.
package metadata

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"strings"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

// ManagerPrefix begins the field manager of every LabelGroup.
const ManagerPrefix = "labelgroup.io/"

// maxManagerLength is the longest field manager the API server accepts.
const maxManagerLength = 128

// ManagerFor returns the field manager of the group named group:
// labelgroup.io/<group>, or, when that would be longer than the 128 characters
// the API server allows, the group name cut short and followed by a hash of
// the whole name, so that it stays the same across restarts and distinct
// between groups.
func ManagerFor(group string) string {
	manager := ManagerPrefix + group
	if len(manager) <= maxManagerLength {
		return manager
	}
	sum := sha256.Sum256([]byte(group))
	suffix := "-" + hex.EncodeToString(sum[:])[:16]
	return manager[:maxManagerLength-len(suffix)] + suffix
}

// Key is one label or annotation key.
type Key struct {
	Kind v1alpha1.MetadataKind
	Name string
}

func compareKeys(a, b Key) int {
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
}

// Pod is what the planner needs of a pod.
type Pod struct {
	Name   string
	Labels map[string]string
	// Annotations hold at least the keys the groups stamp.
	Annotations map[string]string
	// Owned maps the field manager of each group (ManagerPrefix...) that owns
	// labels or annotations of the pod to those keys. Other managers are not
	// needed: a key the pod has that no group owns is the pod's own.
	Owned map[string]map[Key]bool
}

func (p Pod) value(k Key) (string, bool) {
	m := p.Labels
	if k.Kind == v1alpha1.MetadataKindAnnotation {
		m = p.Annotations
	}
	v, ok := m[k.Name]
	return v, ok
}

// Group is what the planner needs of a group that stamps metadata.
type Group struct {
	Name string
	// Manager is ManagerFor(Name).
	Manager string
	// Desired are the keys and values of spec.memberMetadata, refused label
	// keys already taken out (see Refused).
	Desired map[Key]string
}

// DesiredOf returns the keys of memberMetadata with their values, leaving out
// the label keys in refused.
func DesiredOf(md *v1alpha1.MemberMetadata, refused map[string]bool) map[Key]string {
	desired := map[Key]string{}
	if md == nil {
		return desired
	}
	for k, v := range md.Labels {
		if !refused[k] {
			desired[Key{v1alpha1.MetadataKindLabel, k}] = string(v)
		}
	}
	for k, v := range md.Annotations {
		desired[Key{v1alpha1.MetadataKindAnnotation, k}] = string(v)
	}
	return desired
}

// Refused returns the keys of memberMetadata.labels that some selector of the
// namespace uses, sorted: stamping one would move pods in or out of a group,
// and the stamp would then follow, a feedback loop.
func Refused(md *v1alpha1.MemberMetadata, selectorKeys map[string]bool) []string {
	if md == nil {
		return nil
	}
	var refused []string
	for k := range md.Labels {
		if selectorKeys[k] {
			refused = append(refused, k)
		}
	}
	slices.Sort(refused)
	return refused
}

// SelectorKeys returns every label key the selectors use.
func SelectorKeys(selectors []v1alpha1.LabelSelector) map[string]bool {
	keys := map[string]bool{}
	for _, s := range selectors {
		for k := range s.MatchLabels {
			keys[k] = true
		}
		for _, r := range s.MatchExpressions {
			keys[string(r.Key)] = true
		}
	}
	return keys
}

// PodPlan is what a group does to one pod.
type PodPlan struct {
	Pod string
	// Apply is the whole set of keys and values the group's manager should
	// own after the write; keys it owns and are not here are released.
	Apply map[Key]string
	// Write says an apply is needed: the pod lacks a value of Apply, or the
	// manager owns a key not in Apply.
	Write bool
	// Kept are the keys whose value stays someone else's.
	Kept []v1alpha1.KeptKey
	// Member says the pod is a member of the group.
	Member bool
}

// PlanPod plans what group does to pod. A member gets every desired key,
// except those the pod has with another value that the group does not own: the
// member's own value wins, and so does another group's that got there first
// (its manager owns the key). A non-member, or any pod of a group that is being
// deleted (member false), gets an empty apply, which releases what the group
// owns. groupOf names the group of another group's manager.
func PlanPod(group Group, pod Pod, member bool, groupOf func(manager string) string) PodPlan {
	plan := PodPlan{Pod: pod.Name, Apply: map[Key]string{}, Member: member}
	mine := pod.Owned[group.Manager]
	if member {
		for _, k := range slices.SortedFunc(maps.Keys(group.Desired), compareKeys) {
			want := group.Desired[k]
			have, has := pod.value(k)
			if !has || have == want {
				plan.Apply[k] = want
				continue
			}
			// The pod has another value. The group may change a value that
			// it alone set; a value anyone else holds is kept.
			if other := otherOwner(pod, group.Manager, k); other != "" {
				plan.Kept = append(plan.Kept, keptKey(pod.Name, k, groupOf(other)))
				continue
			}
			if mine[k] {
				plan.Apply[k] = want
				continue
			}
			plan.Kept = append(plan.Kept, keptKey(pod.Name, k, ""))
		}
	}
	plan.Write = NeedsWrite(plan.Apply, pod, group.Manager)
	return plan
}

// NeedsWrite says whether applying apply with manager would change the pod: a
// value to set, or a key the manager owns to release.
func NeedsWrite(apply map[Key]string, pod Pod, manager string) bool {
	mine := pod.Owned[manager]
	if len(mine) != len(apply) {
		return true
	}
	for k, want := range apply {
		have, has := pod.value(k)
		if !mine[k] || !has || have != want {
			return true
		}
	}
	return false
}

// otherOwner returns the first, by name, of the other groups' managers that
// own k on pod; "" when none does.
func otherOwner(pod Pod, manager string, k Key) string {
	for _, m := range slices.Sorted(maps.Keys(pod.Owned)) {
		if m != manager && pod.Owned[m][k] {
			return m
		}
	}
	return ""
}

func keptKey(pod string, k Key, keptBy string) v1alpha1.KeptKey {
	return v1alpha1.KeptKey{Pod: pod, Kind: k.Kind, Key: k.Name, KeptBy: keptBy}
}

// Conflict is a key that a write could not take, and who holds it: the
// server-side apply conflict the API server answered with.
type Conflict struct {
	Key     Key
	Manager string
}

// WithoutConflicts returns plan with the conflicting keys moved from Apply to
// Kept, ready for the next try. A conflict with a group's manager is kept by
// that group, any other by the member.
func WithoutConflicts(plan PodPlan, conflicts []Conflict, groupOf func(manager string) string) PodPlan {
	plan.Apply = maps.Clone(plan.Apply)
	plan.Kept = slices.Clone(plan.Kept)
	for _, c := range conflicts {
		if _, ok := plan.Apply[c.Key]; !ok {
			continue
		}
		delete(plan.Apply, c.Key)
		keptBy := ""
		if strings.HasPrefix(c.Manager, ManagerPrefix) {
			keptBy = groupOf(c.Manager)
		}
		plan.Kept = append(plan.Kept, keptKey(plan.Pod, c.Key, keptBy))
	}
	slices.SortFunc(plan.Kept, compareKept)
	return plan
}

func compareKept(a, b v1alpha1.KeptKey) int {
	return cmp.Or(cmp.Compare(a.Pod, b.Pod), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Key, b.Key))
}

// Summarize counts, over the members' plans (as carried out), the members that
// carry all of the group's metadata and the keys kept by members or by other
// groups, with the first MaxKeptExamples kept keys as examples.
func Summarize(plans []PodPlan, refused []string) *v1alpha1.MemberMetadataStatus {
	status := &v1alpha1.MemberMetadataStatus{RefusedLabelKeys: refused}
	var kept []v1alpha1.KeptKey
	for _, p := range plans {
		if !p.Member {
			continue
		}
		if len(p.Kept) == 0 {
			status.MembersComplete++
		}
		for _, k := range p.Kept {
			if k.KeptBy == "" {
				status.KeptByMember++
			} else {
				status.KeptByGroup++
			}
		}
		kept = append(kept, p.Kept...)
	}
	slices.SortFunc(kept, compareKept)
	if len(kept) > v1alpha1.MaxKeptExamples {
		kept = kept[:v1alpha1.MaxKeptExamples]
	}
	if len(kept) > 0 {
		status.Kept = kept
	}
	return status
}
