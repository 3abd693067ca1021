package grouping

import "github.com/labelgroup/labelgroup-operator/api/v1alpha1"

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
func group(name string, sel v1alpha1.LabelSelector) Group {
	return Group{Name: name, Selector: sel, Policy: v1alpha1.OverlapPolicyMembers}
}

// selectorsGroup builds a Group with the Selectors policy.
func selectorsGroup(name string, sel v1alpha1.LabelSelector) Group {
	return Group{Name: name, Selector: sel, Policy: v1alpha1.OverlapPolicySelectors}
}

// matchLabels builds a selector from key/value pairs.
func matchLabels(keyValues ...string) v1alpha1.LabelSelector {
	sel := v1alpha1.LabelSelector{MatchLabels: map[string]v1alpha1.LabelValue{}}
	for i := 0; i+1 < len(keyValues); i += 2 {
		sel.MatchLabels[keyValues[i]] = v1alpha1.LabelValue(keyValues[i+1])
	}
	return sel
}

// matchExpressions builds a selector from requirements.
func matchExpressions(reqs ...v1alpha1.LabelSelectorRequirement) v1alpha1.LabelSelector {
	return v1alpha1.LabelSelector{MatchExpressions: reqs}
}

func in(key string, values ...string) v1alpha1.LabelSelectorRequirement {
	return requirement(key, v1alpha1.LabelSelectorOpIn, values...)
}

func notIn(key string, values ...string) v1alpha1.LabelSelectorRequirement {
	return requirement(key, v1alpha1.LabelSelectorOpNotIn, values...)
}

func exists(key string) v1alpha1.LabelSelectorRequirement {
	return requirement(key, v1alpha1.LabelSelectorOpExists)
}

func doesNotExist(key string) v1alpha1.LabelSelectorRequirement {
	return requirement(key, v1alpha1.LabelSelectorOpDoesNotExist)
}

func requirement(key string, op v1alpha1.LabelSelectorOperator, values ...string) v1alpha1.LabelSelectorRequirement {
	r := v1alpha1.LabelSelectorRequirement{Key: v1alpha1.LabelKey(key), Operator: op}
	for _, v := range values {
		r.Values = append(r.Values, v1alpha1.LabelValue(v))
	}
	return r
}
