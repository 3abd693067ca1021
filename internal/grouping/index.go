package grouping

import (
	"slices"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// selectorIndex narrows down which selectors can match a set of labels, so
// that a new label set is tried against a few candidates rather than every
// group of the namespace: the reverse index the Kubernetes label design kept
// selectors simple for. Each selector that requires some key to have one of
// a few values (matchLabels, or In) is filed under that key and each of those
// values; the others (only NotIn, Exists, DoesNotExist, or the empty
// selector) are tried against every label set. A candidate is then matched in
// full, so the index only ever skips selectors that cannot match.
type selectorIndex struct {
	byValue map[string]map[string][]int // key -> value -> selectors
	always  []int
}

func newSelectorIndex() *selectorIndex {
	return &selectorIndex{byValue: map[string]map[string][]int{}}
}

// add files selector i.
func (idx *selectorIndex) add(i int, sel labels.Selector) {
	req, ok := equalityRequirement(sel)
	if !ok {
		idx.always = append(idx.always, i)
		return
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

// remove takes out selector i, filed with add(i, sel).
func (idx *selectorIndex) remove(i int, sel labels.Selector) {
	drop := func(list []int) []int { return slices.DeleteFunc(list, func(j int) bool { return j == i }) }
	req, ok := equalityRequirement(sel)
	if !ok {
		idx.always = drop(idx.always)
		return
	}
	values := idx.byValue[req.Key()]
	for v := range req.Values() {
		if values[v] = drop(values[v]); len(values[v]) == 0 {
			delete(values, v)
		}
	}
	if len(values) == 0 {
		delete(idx.byValue, req.Key())
	}
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
