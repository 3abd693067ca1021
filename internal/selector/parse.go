package selector

import (
	"fmt"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

// Parse reads a selector in kubectl's -l syntax (`tier=web,env in (a,b),!canary`)
// with apimachinery's labels.Parse and returns it as a LabelGroup selector:
// `=` and `==` become matchLabels entries (or an In requirement when the key
// already has one), `!=` becomes NotIn, `in`, `notin`, `key` and `!key` become
// In, NotIn, Exists and DoesNotExist. `>` and `<` are refused: a LabelGroup
// cannot express them. ToLabelsSelector of the result selects exactly what the
// input does.
func Parse(s string) (v1alpha1.LabelSelector, error) {
	var out v1alpha1.LabelSelector
	parsed, err := labels.Parse(s)
	if err != nil {
		return out, err
	}
	reqs, _ := parsed.Requirements()
	for _, r := range reqs {
		values := r.Values().List()
		switch r.Operator() {
		case selection.Equals, selection.DoubleEquals:
			if _, taken := out.MatchLabels[r.Key()]; !taken {
				if out.MatchLabels == nil {
					out.MatchLabels = map[string]v1alpha1.LabelValue{}
				}
				out.MatchLabels[r.Key()] = v1alpha1.LabelValue(values[0])
				continue
			}
			out.MatchExpressions = append(out.MatchExpressions, newRequirement(r.Key(), v1alpha1.LabelSelectorOpIn, values))
		case selection.In:
			out.MatchExpressions = append(out.MatchExpressions, newRequirement(r.Key(), v1alpha1.LabelSelectorOpIn, values))
		case selection.NotEquals, selection.NotIn:
			out.MatchExpressions = append(out.MatchExpressions, newRequirement(r.Key(), v1alpha1.LabelSelectorOpNotIn, values))
		case selection.Exists:
			out.MatchExpressions = append(out.MatchExpressions, newRequirement(r.Key(), v1alpha1.LabelSelectorOpExists, nil))
		case selection.DoesNotExist:
			out.MatchExpressions = append(out.MatchExpressions, newRequirement(r.Key(), v1alpha1.LabelSelectorOpDoesNotExist, nil))
		default:
			return v1alpha1.LabelSelector{}, fmt.Errorf("%q: the operator %q is not supported: a LabelGroup selector has only =, ==, !=, in, notin, key and !key (In, NotIn, Exists and DoesNotExist)", r.String(), symbol(r.Operator()))
		}
	}
	return out, nil
}

func newRequirement(key string, op v1alpha1.LabelSelectorOperator, values []string) v1alpha1.LabelSelectorRequirement {
	req := v1alpha1.LabelSelectorRequirement{Key: v1alpha1.LabelKey(key), Operator: op}
	for _, v := range values {
		req.Values = append(req.Values, v1alpha1.LabelValue(v))
	}
	return req
}

// symbol is how kubectl's -l syntax writes op.
func symbol(op selection.Operator) string {
	switch op {
	case selection.GreaterThan:
		return ">"
	case selection.LessThan:
		return "<"
	}
	return string(op)
}
