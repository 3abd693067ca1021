package grouping

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/selector"
)

// TestComputeMatchesNaiveReference compares Compute with a plain
// reference implementation on random namespaces over a small label universe,
// where label sets and overlaps repeat often.
func TestComputeMatchesNaiveReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range 2000 {
		pods := randomPods(rng, rng.IntN(40))
		groups := make([]Group, rng.IntN(8))
		// Names in random order, so that overlaps come in out of name order.
		names := rng.Perm(len(groups))
		for g := range groups {
			groups[g] = randomSmallGroup(rng, fmt.Sprintf("g%d", names[g]))
		}
		limit := rng.IntN(12)
		if diff := resultsDiff(Compute(pods, groups, limit), naiveCompute(pods, groups, limit)); diff != "" {
			t.Fatalf("case %d: %s\npods %v\ngroups %+v\nlimit %d", i, diff, pods, groups, limit)
		}
	}
}

// naiveCompute is Compute written as plainly as possible: each pod matched
// against each group, each pair of groups counted pod by pod.
func naiveCompute(pods []Pod, groups []Group, limit int) []Result {
	selectors := make([]labels.Selector, len(groups))
	results := make([]Result, len(groups))
	for i, g := range groups {
		results[i].Name = g.Name
		selectors[i], results[i].SelectorErr = selector.ToLabelsSelector(g.Selector)
		if selectors[i] != nil {
			results[i].Selector = selectors[i].String()
		}
	}
	for i := range groups {
		if selectors[i] == nil {
			continue
		}
		var members []string
		for _, p := range pods {
			if selectors[i].Matches(labels.Set(p.Labels)) {
				members = append(members, p.Name)
			}
		}
		slices.Sort(members)
		results[i].MemberCount = int32(len(members))
		if len(members) > limit {
			members = members[:limit]
		}
		if len(members) > 0 {
			results[i].Members = members
		}
		results[i].Overlaps = naiveOverlaps(i, pods, groups, selectors)
	}
	return results
}

func naiveOverlaps(i int, pods []Pod, groups []Group, selectors []labels.Selector) []v1alpha1.Overlap {
	var overlaps []v1alpha1.Overlap
	for j := range groups {
		if j == i || selectors[j] == nil {
			continue
		}
		var shared int32
		for _, p := range pods {
			if selectors[i].Matches(labels.Set(p.Labels)) && selectors[j].Matches(labels.Set(p.Labels)) {
				shared++
			}
		}
		overlapping := shared > 0
		if groups[i].Policy == v1alpha1.OverlapPolicySelectors {
			overlapping = shared > 0 || selector.Intersects(selectors[i], selectors[j])
		}
		if overlapping {
			overlaps = append(overlaps, v1alpha1.Overlap{Name: groups[j].Name, SharedMembers: shared})
		}
	}
	slices.SortFunc(overlaps, func(x, y v1alpha1.Overlap) int { return strings.Compare(x.Name, y.Name) })
	return overlaps
}

// The small universe the differential test draws labels from.
var (
	smallKeys   = []string{"a", "b", "c"}
	smallValues = []string{"1", "2", "3"}
)

// randomPods returns count pods with unique names and labels from the small
// universe. Runs of pods share one label set, as the pods of a ReplicaSet do,
// and equal label sets also turn up apart.
func randomPods(rng *rand.Rand, count int) []Pod {
	pods := make([]Pod, 0, count)
	var runLabels map[string]string
	for i := range count {
		if i == 0 || rng.IntN(3) == 0 {
			runLabels = map[string]string{}
			for _, k := range smallKeys {
				if rng.IntN(3) > 0 {
					runLabels[k] = pick(rng, smallValues)
				}
			}
		}
		// The name's random prefix spreads runs out; the index keeps it unique.
		name := fmt.Sprintf("%s-%03d", randomName(rng, 1), i)
		pods = append(pods, Pod{Name: name, Labels: runLabels})
	}
	return pods
}

// randomSmallGroup returns a group with up to three requirements over the
// small universe and either policy; some selectors are empty, some invalid.
func randomSmallGroup(rng *rand.Rand, name string) Group {
	g := Group{Name: name, Policy: v1alpha1.OverlapPolicyMembers}
	if rng.IntN(2) == 0 {
		g.Policy = v1alpha1.OverlapPolicySelectors
	}
	var reqs []string
	for range rng.IntN(4) {
		key, value := pick(rng, smallKeys), pick(rng, smallValues)
		reqs = append(reqs, pick(rng, []string{
			key + "=" + value,
			fmt.Sprintf("%s in (%s,%s)", key, value, pick(rng, smallValues)),
			fmt.Sprintf("%s notin (%s)", key, value),
			key,
			"!" + key,
		}))
	}
	g.Selector = sel(strings.Join(reqs, ","))
	if rng.IntN(10) == 0 {
		// In without values is invalid, and no selector string can say it.
		g.Selector.MatchExpressions = append(g.Selector.MatchExpressions,
			v1alpha1.LabelSelectorRequirement{Key: v1alpha1.LabelKey(pick(rng, smallKeys)), Operator: v1alpha1.LabelSelectorOpIn})
	}
	return g
}
