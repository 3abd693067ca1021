package admissionpdb

import (
	"fmt"
	"math/rand/v2"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/selector"
	"github.com/labelgroup/labelgroup-operator/internal/selector/selectortest"
	"github.com/labelgroup/labelgroup-operator/test/integration/admissiontest"
)

// differentialPairs is how many random pairs the API server judges.
const differentialPairs = 600

// pair is two budgets' selectors; nil is a null selector.
type pair struct{ existing, created *metav1.LabelSelector }

// randomPairs draws pairs the way the selector package's differential test and
// the LabelGroup policy's do (selectortest.RandomPair), and makes one side
// null now and then.
func randomPairs(n int) []pair {
	rng := rand.New(rand.NewPCG(19, 2026))
	pairs := make([]pair, n)
	for i := range pairs {
		a, b := selectortest.RandomPair(rng)
		pairs[i] = pair{existing: toMetav1(a), created: toMetav1(b)}
		switch rng.IntN(16) {
		case 0:
			pairs[i].existing = nil
		case 1:
			pairs[i].created = nil
		}
	}
	return pairs
}

func toMetav1(s v1alpha1.LabelSelector) *metav1.LabelSelector {
	out := &metav1.LabelSelector{}
	for k, v := range s.MatchLabels {
		if out.MatchLabels == nil {
			out.MatchLabels = map[string]string{}
		}
		out.MatchLabels[k] = string(v)
	}
	for _, e := range s.MatchExpressions {
		req := metav1.LabelSelectorRequirement{Key: string(e.Key), Operator: metav1.LabelSelectorOperator(e.Operator)}
		for _, v := range e.Values {
			req.Values = append(req.Values, string(v))
		}
		out.MatchExpressions = append(out.MatchExpressions, req)
	}
	return out
}

// intersects is the operator's answer: selector.Intersects on the two
// selectors, as the live check reads them; a null selector covers no pod.
func intersects(a, b *metav1.LabelSelector) bool {
	if a == nil || b == nil {
		return false
	}
	selA, err := selector.ToLabelsSelector(selector.FromMetav1(a))
	Expect(err).NotTo(HaveOccurred())
	selB, err := selector.ToLabelsSelector(selector.FromMetav1(b))
	Expect(err).NotTo(HaveOccurred())
	return selector.Intersects(selA, selB)
}

var _ = Describe("The policy's verdict on random pairs of budget selectors", func() {
	It("is selector.Intersects, for every pair", func() {
		admissiontest.Differential[pair]{
			What:   "random pairs of budgets",
			Oracle: func(p pair) bool { return intersects(p.existing, p.created) },
			NewJudge: func() func(pair) (bool, error) {
				w := admissiontest.NewWorker(ctx, exclusiveBudgets, func(name, namespace string) *policyv1.PodDisruptionBudget {
					return makeBudget(name, namespace, nil)
				})
				return func(p pair) (bool, error) {
					return w.Verdict(func(existing *policyv1.PodDisruptionBudget) { existing.Spec.Selector = p.existing },
						makeBudget("new", w.Namespace(), p.created))
				}
			},
			Describe: func(p pair) string { return fmt.Sprintf("existing %v, new %v", p.existing, p.created) },
		}.ExpectAgreement(randomPairs(differentialPairs), 4)
	})
})
