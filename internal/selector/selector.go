// Package selector is the label-selector algebra of LabelGroups: conversion of
// a LabelGroup's selector to apimachinery's labels.Selector, whose String() is
// the canonical form shown in status, and an exact test of whether two
// selectors could ever select the same pod.
package selector

import (
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

// ToLabelsSelector converts a LabelGroup selector to a labels.Selector with the
// semantics of metav1.LabelSelector: requirements are ANDed and the empty
// selector selects everything. Keys, values and operators are validated by
// apimachinery, whose errors name the offending key, value or operator.
//
// The result's String() is canonical: requirements are ordered by key, then by
// their own text, so the same spec always renders the same string, whatever
// the order of its matchExpressions. `kubectl get pods -l` accepts that string.
func ToLabelsSelector(s v1alpha1.LabelSelector) (labels.Selector, error) {
	sel, err := metav1.LabelSelectorAsSelector(toMetav1(s))
	if err != nil {
		return nil, err
	}
	return canonical(sel), nil
}

// toMetav1 copies s into the apimachinery type, so that apimachinery's own
// conversion and validation apply rather than a copy of them.
func toMetav1(s v1alpha1.LabelSelector) *metav1.LabelSelector {
	out := &metav1.LabelSelector{}
	if len(s.MatchLabels) > 0 {
		out.MatchLabels = make(map[string]string, len(s.MatchLabels))
		for k, v := range s.MatchLabels {
			out.MatchLabels[k] = string(v)
		}
	}
	for _, e := range s.MatchExpressions {
		var values []string
		for _, v := range e.Values {
			values = append(values, string(v))
		}
		out.MatchExpressions = append(out.MatchExpressions, metav1.LabelSelectorRequirement{
			Key: string(e.Key),
			// The v1alpha1 operator names are exactly the metav1 ones.
			Operator: metav1.LabelSelectorOperator(e.Operator),
			Values:   values,
		})
	}
	return out
}

// canonical returns sel with its requirements ordered by key and then by their
// text. LabelSelectorAsSelector orders them by key alone, with an unstable sort
// fed matchLabels in map order: with more than 12 requirements and a key used
// twice, one spec rendered differently from call to call, so status.selector
// would flap. Selector.Add sorts by key again, which keeps an already sorted
// order.
func canonical(sel labels.Selector) labels.Selector {
	reqs, _ := sel.Requirements()
	reqs = slices.Clone(reqs)
	slices.SortFunc(reqs, func(x, y labels.Requirement) int {
		if c := strings.Compare(x.Key(), y.Key()); c != 0 {
			return c
		}
		return strings.Compare(x.String(), y.String())
	})
	return labels.NewSelector().Add(reqs...)
}

// FromMetav1 copies an apimachinery label selector (a PodDisruptionBudget's,
// say) into the LabelGroup type, whose operator names are the same, so the
// selector algebra and the grouping engine apply to it. nil gives the empty
// selector, which selects everything: callers decide what nil means for their
// kind.
func FromMetav1(s *metav1.LabelSelector) v1alpha1.LabelSelector {
	var out v1alpha1.LabelSelector
	if s == nil {
		return out
	}
	if len(s.MatchLabels) > 0 {
		out.MatchLabels = make(map[string]v1alpha1.LabelValue, len(s.MatchLabels))
		for k, v := range s.MatchLabels {
			out.MatchLabels[k] = v1alpha1.LabelValue(v)
		}
	}
	for _, e := range s.MatchExpressions {
		out.MatchExpressions = append(out.MatchExpressions, newRequirement(e.Key, v1alpha1.LabelSelectorOperator(e.Operator), e.Values))
	}
	return out
}
