package grouping

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

// pod builds a Pod from its name and label key/value pairs:
// pod("a", "tier", "web").
func pod(name string, keyValues ...string) Pod {
	p := Pod{Name: name, Labels: map[string]string{}}
	for i := 0; i+1 < len(keyValues); i += 2 {
		p.Labels[keyValues[i]] = keyValues[i+1]
	}
	return p
}

// group builds a Group with the Members policy.
func group(name string, labelSelector v1alpha1.LabelSelector) Group {
	return Group{Name: name, Selector: labelSelector, Policy: v1alpha1.OverlapPolicyMembers}
}

// selectorsGroup builds a Group with the Selectors policy.
func selectorsGroup(name string, labelSelector v1alpha1.LabelSelector) Group {
	return Group{Name: name, Selector: labelSelector, Policy: v1alpha1.OverlapPolicySelectors}
}

// sel builds a selector from the string form kubectl -l takes:
// sel("tier in (web,api),!track"). Equalities land in matchLabels and the rest
// in matchExpressions, so tests exercise both; sel("") is the empty selector.
func sel(s string) v1alpha1.LabelSelector {
	parsed, err := metav1.ParseToLabelSelector(s)
	if err != nil {
		panic(err)
	}
	var out v1alpha1.LabelSelector
	if len(parsed.MatchLabels) > 0 {
		out.MatchLabels = map[string]v1alpha1.LabelValue{}
	}
	for k, v := range parsed.MatchLabels {
		out.MatchLabels[k] = v1alpha1.LabelValue(v)
	}
	for _, e := range parsed.MatchExpressions {
		r := v1alpha1.LabelSelectorRequirement{Key: v1alpha1.LabelKey(e.Key), Operator: v1alpha1.LabelSelectorOperator(e.Operator)}
		for _, v := range e.Values {
			r.Values = append(r.Values, v1alpha1.LabelValue(v))
		}
		out.MatchExpressions = append(out.MatchExpressions, r)
	}
	return out
}
