package selector

import (
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// Intersects reports whether some set of labels satisfies both a and b, that
// is whether the two selectors could ever select the same pod. The answer is
// exact for selectors built by ToLabelsSelector or parsed from the operators
// =, ==, !=, in, notin, exists and !: keys are independent, so the selectors
// intersect exactly when, for every key either one names, the key's absence or
// some value of it meets all requirements of both on that key.
//
// GreaterThan and LessThan (which a LabelGroup cannot express) are treated as
// Exists, so with them a true answer may be a false positive; false is always
// right. labels.Nothing() intersects nothing.
func Intersects(a, b labels.Selector) bool {
	reqsA, selectableA := a.Requirements()
	reqsB, selectableB := b.Requirements()
	if !selectableA || !selectableB {
		return false
	}
	all := slices.Concat(reqsA, reqsB)
	slices.SortFunc(all, func(x, y labels.Requirement) int {
		return strings.Compare(x.Key(), y.Key())
	})
	for start := 0; start < len(all); {
		end := start + 1
		for end < len(all) && all[end].Key() == all[start].Key() {
			end++
		}
		if !satisfiable(all[start:end]) {
			return false
		}
		start = end
	}
	return true
}

// satisfiable reports whether the absence of one key, or some value of it,
// meets every requirement in reqs, all of which are on that key.
func satisfiable(reqs []labels.Requirement) bool {
	var (
		mustExist, mustNotExist bool
		restricted              bool     // some In or = limits the values
		allowed                 []string // the values every In and = allows, once restricted
		excluded                []string // the values some NotIn or != forbids
	)
	for i := range reqs {
		// ValuesUnsorted returns a copy, so allowed may be filtered in place.
		values := reqs[i].ValuesUnsorted()
		switch reqs[i].Operator() {
		case selection.In, selection.Equals, selection.DoubleEquals:
			mustExist = true
			if !restricted {
				allowed, restricted = values, true
			} else {
				allowed = slices.DeleteFunc(allowed, func(v string) bool { return !slices.Contains(values, v) })
			}
		case selection.NotIn, selection.NotEquals:
			excluded = append(excluded, values...)
		case selection.DoesNotExist:
			mustNotExist = true
		default:
			// Exists, and GreaterThan and LessThan, which need the key but whose
			// numeric bounds are ignored: only false positives can come of it.
			mustExist = true
		}
	}
	switch {
	case !mustExist:
		// Absence satisfies NotIn, != and DoesNotExist.
		return true
	case mustNotExist:
		return false
	case !restricted:
		// There are far more label values than any NotIn can list.
		return true
	}
	return slices.ContainsFunc(allowed, func(v string) bool { return !slices.Contains(excluded, v) })
}

// Satisfiable reports whether some set of labels satisfies s, that is whether
// s could ever select a pod. It is Intersects(s, s), which is exact: listing
// each requirement twice changes no key's verdict. For example
// `tier in (web), !tier` and `tier in (a), tier in (b)` are unsatisfiable.
func Satisfiable(s labels.Selector) bool {
	return Intersects(s, s)
}
