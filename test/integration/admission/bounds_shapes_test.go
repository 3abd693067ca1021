package admission

import (
	"fmt"
	"strings"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/test/builders"
)

// The longest label key the CRD allows: a 253-character DNS subdomain
// prefix, '/', and a 63-character name, the last two characters of which
// number it. Every key shares its first 315 characters, so that comparing
// two of them reads them to the end.
func longKey(n int) string {
	prefix := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 61)
	return fmt.Sprintf("%s/%s%02d", prefix, strings.Repeat("k", 61), n)
}

// longValue is the longest label value the CRD allows (63 characters),
// numbered by its last two characters.
func longValue(n int) string {
	return fmt.Sprintf("%s%02d", strings.Repeat("v", 61), n)
}

// longValues returns the values 0..n-1 of longValue.
func longValues(n int) []string {
	values := make([]string, n)
	for i := range values {
		values[i] = longValue(i)
	}
	return values
}

// otherLongValues returns n long values none of longValues returns.
func otherLongValues(n int) []string {
	values := make([]string, n)
	for i := range values {
		values[i] = fmt.Sprintf("%s%02d", strings.Repeat("w", 61), i)
	}
	return values
}

// boundsShape is a pair of LabelGroups at the CRD's bounds: 32 matchLabels
// and 32 expressions of up to 64 values on each side, with keys and values
// as long as allowed.
type boundsShape struct {
	name          string
	why           string
	object        *v1alpha1.LabelGroup
	params        *v1alpha1.LabelGroup
	wantIntersect bool
}

// withLabels gives the group MaxMatchLabels long keys (numbered from 64, apart
// from the expressions' keys), each with the same long value.
func withLabels(b *builders.GroupBuilder) *builders.GroupBuilder {
	for i := range v1alpha1.MaxMatchLabels {
		b = b.Label(longKey(64+i), longValue(0))
	}
	return b
}

func boundsShapes() []boundsShape {
	all := longValues(v1alpha1.MaxValues)
	oneKey := func(name string, lastNotIn []string) (*v1alpha1.LabelGroup, *v1alpha1.LabelGroup) {
		object := withLabels(builders.MakeGroup(name + "-object"))
		params := withLabels(builders.MakeGroup(name + "-params"))
		for range v1alpha1.MaxMatchExpressions {
			object = object.In(longKey(0), all...)
		}
		for range v1alpha1.MaxMatchExpressions - 1 {
			params = params.In(longKey(0), all...)
		}
		params = params.Expression(longKey(0), v1alpha1.LabelSelectorOpNotIn, lastNotIn...)
		return object.Obj(), params.Obj()
	}
	manyKeys := func(name string, paramsFrom int) (*v1alpha1.LabelGroup, *v1alpha1.LabelGroup) {
		object := withLabels(builders.MakeGroup(name + "-object"))
		params := withLabels(builders.MakeGroup(name + "-params"))
		for i := range v1alpha1.MaxMatchExpressions {
			object = object.In(longKey(i), all...)
			params = params.In(longKey(paramsFrom+i), all...)
		}
		return object.Obj(), params.Obj()
	}
	var shapes []boundsShape
	o, p := oneKey("one-key-disjoint", all)
	shapes = append(shapes, boundsShape{"one key, disjoint",
		"63 In on one key and a NotIn of all 64 values: every candidate value is checked against every other expression, and fails only at the last", o, p, false})
	o, p = oneKey("one-key-intersecting", all[:len(all)-1])
	shapes = append(shapes, boundsShape{"one key, intersecting",
		"as above, but the NotIn spares the last value, which is found last", o, p, true})
	o, p = manyKeys("many-keys-apart", v1alpha1.MaxMatchExpressions)
	shapes = append(shapes, boundsShape{"64 keys, apart",
		"64 In expressions on 64 keys: 64 candidate lists, every key compared with every other", o, p, true})
	o, p = manyKeys("many-keys-last", v1alpha1.MaxMatchExpressions)
	p.Spec.Selector.MatchExpressions[v1alpha1.MaxMatchExpressions-1] = v1alpha1.LabelSelectorRequirement{
		Key: v1alpha1.LabelKey(longKey(v1alpha1.MaxMatchExpressions - 1)), Operator: v1alpha1.LabelSelectorOpIn,
	}
	for _, v := range otherLongValues(v1alpha1.MaxValues) {
		p.Spec.Selector.MatchExpressions[v1alpha1.MaxMatchExpressions-1].Values = append(
			p.Spec.Selector.MatchExpressions[v1alpha1.MaxMatchExpressions-1].Values, v1alpha1.LabelValue(v))
	}
	shapes = append(shapes, boundsShape{"63 keys, disjoint on the last",
		"as above, but the last expression is an In of 64 other values on a key of the other side: found only by the last check", o, p, false})
	o, p = manyKeys("many-keys-shared", 0)
	shapes = append(shapes, boundsShape{"32 keys, shared",
		"each side has In on the same 32 keys: 32 candidate lists of 64 values, each checked against the other side", o, p, true})
	return shapes
}
