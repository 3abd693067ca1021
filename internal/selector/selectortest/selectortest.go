// Package selectortest draws random selectors over a small universe of keys
// and values, for the differential tests of selector intersection: the unit
// tests against brute force, and the admission policy's test against
// selector.Intersects on a real API server. Both draw their pairs here, so
// they cover the same shapes: repeated keys, the empty value, every operator,
// matchLabels and matchExpressions on one key, and the empty selector.
package selectortest

import (
	"math/rand/v2"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

// The small universe: few keys and values make collisions, and so
// interesting pairs, common. The empty value is a valid label value.
var (
	Keys   = []string{"a", "b", "c"}
	Values = []string{"x", "y", "z", ""}
)

// MaxRequirements is the most requirements DecodePair gives each selector.
const MaxRequirements = 4

// DecodePair turns bytes into two selectors over the universe: the first byte
// says how many requirements (0 to 4) go to the first selector, the rest go to
// the second, up to 4. Every byte string decodes, so a fuzzer can drive it.
func DecodePair(data []byte) (a, b v1alpha1.LabelSelector) {
	if len(data) == 0 {
		return a, b
	}
	a, rest := DecodeSelector(data[1:], int(data[0])%(MaxRequirements+1))
	b, _ = DecodeSelector(rest, MaxRequirements)
	return a, b
}

// RandomPair draws a pair from rng: DecodePair of up to 17 random bytes.
func RandomPair(rng *rand.Rand) (a, b v1alpha1.LabelSelector) {
	data := make([]byte, rng.IntN(18))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	return DecodePair(data)
}

// DecodeSelector reads up to n requirements from data, two bytes each, and
// returns the selector and the bytes it did not read. The first byte picks the
// key and the kind (a matchLabels entry or one of the four operators), the
// second the value or, for In and NotIn, a non-empty subset of the values.
func DecodeSelector(data []byte, n int) (v1alpha1.LabelSelector, []byte) {
	var sel v1alpha1.LabelSelector
	for ; n > 0 && len(data) >= 2; n-- {
		key := Keys[int(data[0])%len(Keys)]
		valueBits := int(data[1])
		switch int(data[0]) / len(Keys) % 5 {
		case 0:
			if sel.MatchLabels == nil {
				sel.MatchLabels = map[string]v1alpha1.LabelValue{}
			}
			sel.MatchLabels[key] = v1alpha1.LabelValue(Values[valueBits%len(Values)])
		case 1:
			sel.MatchExpressions = append(sel.MatchExpressions, requirement(key, v1alpha1.LabelSelectorOpIn, valueSubset(valueBits)...))
		case 2:
			sel.MatchExpressions = append(sel.MatchExpressions, requirement(key, v1alpha1.LabelSelectorOpNotIn, valueSubset(valueBits)...))
		case 3:
			sel.MatchExpressions = append(sel.MatchExpressions, requirement(key, v1alpha1.LabelSelectorOpExists))
		case 4:
			sel.MatchExpressions = append(sel.MatchExpressions, requirement(key, v1alpha1.LabelSelectorOpDoesNotExist))
		}
		data = data[2:]
	}
	return sel, data
}

func requirement(key string, op v1alpha1.LabelSelectorOperator, values ...string) v1alpha1.LabelSelectorRequirement {
	req := v1alpha1.LabelSelectorRequirement{Key: v1alpha1.LabelKey(key), Operator: op}
	for _, v := range values {
		req.Values = append(req.Values, v1alpha1.LabelValue(v))
	}
	return req
}

// valueSubset maps bits to one of the non-empty subsets of Values.
func valueSubset(bits int) []string {
	mask := bits%(1<<len(Values)-1) + 1
	var values []string
	for i, v := range Values {
		if mask&(1<<i) != 0 {
			values = append(values, v)
		}
	}
	return values
}
