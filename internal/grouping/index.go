package grouping

import (
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// selectorIndex narrows down which selectors can match a set of labels, so
// that a pod is tried against a few candidates rather than every group of the
// namespace. Each selector that requires some key to have one of a few values
// (matchLabels, or In) is filed under that key and each of those values; the
// others (only NotIn, Exists, DoesNotExist, or the empty selector) are tried
// against every pod. A candidate is then matched in full, so the index only
// ever skips selectors that cannot match.
//
// At 10,000 pods and 200 groups that each pick pods by one label, trying every
// selector was most of the CPU of a reconcile under make bench-scale.
type selectorIndex struct {
	byValue map[string]map[string][]int // key -> value -> selectors
	always  []int
}

func newSelectorIndex(selectors []labels.Selector) *selectorIndex {
	idx := &selectorIndex{byValue: map[string]map[string][]int{}}
	for i, sel := range selectors {
		if sel == nil {
			continue
		}
		req, ok := equalityRequirement(sel)
		if !ok {
			idx.always = append(idx.always, i)
			continue
		}
		values := idx.byValue[req.Key()]
		if values == nil {
			values = map[string][]int{}
			idx.byValue[req.Key()] = values
		}
		for v := range req.Values() {
			values[v] = append(values[v], i)
		}
	}
	return idx
}

// equalityRequirement returns a requirement of sel that only a few values of
// one key satisfy.
func equalityRequirement(sel labels.Selector) (labels.Requirement, bool) {
	reqs, selectable := sel.Requirements()
	if !selectable {
		return labels.Requirement{}, false
	}
	for _, r := range reqs {
		switch r.Operator() {
		case selection.In, selection.Equals, selection.DoubleEquals:
			return r, true
		}
	}
	return labels.Requirement{}, false
}

// matching appends to matching the indexes of the selectors that match podLabels.
func (idx *selectorIndex) matching(selectors []labels.Selector, podLabels map[string]string, matching []int) []int {
	set := labels.Set(podLabels)
	for _, i := range idx.always {
		if selectors[i].Matches(set) {
			matching = append(matching, i)
		}
	}
	for k, v := range podLabels {
		// A selector is filed under one key only, so it comes up at most once.
		for _, i := range idx.byValue[k][v] {
			if selectors[i].Matches(set) {
				matching = append(matching, i)
			}
		}
	}
	return matching
}
