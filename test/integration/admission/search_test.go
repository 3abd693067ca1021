package admission

import (
	"math/rand/v2"
	"testing"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/test/builders"
)

// TestNoCostlierShapeAtTheBounds evaluates random pairs of bounds-sized
// selectors (32 long matchLabels and 32 expressions of 64 long values on each
// side, random operators over 1 to 64 shared long keys) with the API server's
// library, and fails if any costs more than the worst of boundsShapes, which
// the suite has the API server judge.
func TestNoCostlierShapeAtTheBounds(t *testing.T) {
	policy, _, err := loadAdmission()
	if err != nil {
		t.Fatal(err)
	}
	p, err := newInProcessPolicy(policy)
	if err != nil {
		t.Fatal(err)
	}
	var worstExpression, worstTotal int64
	for _, s := range boundsShapes() {
		report, err := p.evaluate(toUnstructured(s.object), toUnstructured(s.params))
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		_, most := report.Max()
		worstExpression, worstTotal = max(worstExpression, most), max(worstTotal, report.Total)
	}

	rng := rand.New(rand.NewPCG(2026, 11))
	operators := []v1alpha1.LabelSelectorOperator{
		v1alpha1.LabelSelectorOpIn, v1alpha1.LabelSelectorOpNotIn, v1alpha1.LabelSelectorOpExists, v1alpha1.LabelSelectorOpDoesNotExist,
	}
	for i := range 60 {
		keys := 1 + rng.IntN(2*v1alpha1.MaxMatchExpressions)
		// Half the pairs use In and NotIn only, the costly operators.
		kinds := len(operators)
		if i%2 == 0 {
			kinds = 2
		}
		side := func(name string) *v1alpha1.LabelGroup {
			b := withLabels(builders.MakeGroup(name))
			for range v1alpha1.MaxMatchExpressions {
				op := operators[rng.IntN(kinds)]
				var values []string
				if op == v1alpha1.LabelSelectorOpIn || op == v1alpha1.LabelSelectorOpNotIn {
					values = longValues(v1alpha1.MaxValues)
				}
				b = b.Expression(longKey(rng.IntN(keys)), op, values...)
			}
			return b.Obj()
		}
		object, params := side("object"), side("params")
		report, err := p.evaluate(toUnstructured(object), toUnstructured(params))
		if err != nil {
			t.Fatalf("pair %d: %v", i, err)
		}
		name, most := report.Max()
		if most > worstExpression || report.Total > worstTotal {
			t.Errorf("pair %d (%d keys) costs %d in %s and %d in all, more than the worst shape judged by the API server (%d, %d)",
				i, keys, most, name, report.Total, worstExpression, worstTotal)
		}
	}
}
