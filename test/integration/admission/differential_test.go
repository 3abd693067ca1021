package admission

import (
	"fmt"
	"math/rand/v2"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/selector"
	"github.com/labelgroup/labelgroup-operator/internal/selector/selectortest"
	"github.com/labelgroup/labelgroup-operator/test/integration/admissiontest"
)

// differentialPairs is how many random pairs the API server judges.
const differentialPairs = 1200

// policyPairs are the (existing, new) overlap policies the pairs cycle
// through: every combination that makes the pair exclusive.
var policyPairs = [][2]v1alpha1.OverlapPolicy{
	{v1alpha1.OverlapPolicySelectors, v1alpha1.OverlapPolicyMembers},
	{v1alpha1.OverlapPolicyMembers, v1alpha1.OverlapPolicySelectors},
	{v1alpha1.OverlapPolicySelectors, v1alpha1.OverlapPolicySelectors},
}

type pair struct {
	existing, created v1alpha1.LabelSelector
	policies          [2]v1alpha1.OverlapPolicy
}

// randomPairs draws pairs the way the selector package's differential test
// does (selectortest.RandomPair).
func randomPairs(n int) []pair {
	rng := rand.New(rand.NewPCG(12, 2026))
	pairs := make([]pair, n)
	for i := range pairs {
		a, b := selectortest.RandomPair(rng)
		pairs[i] = pair{existing: a, created: b, policies: policyPairs[i%len(policyPairs)]}
	}
	return pairs
}

func intersects(a, b v1alpha1.LabelSelector) bool {
	selA, err := selector.ToLabelsSelector(a)
	Expect(err).NotTo(HaveOccurred())
	selB, err := selector.ToLabelsSelector(b)
	Expect(err).NotTo(HaveOccurred())
	return selector.Intersects(selA, selB)
}

var _ = Describe("The policy's verdict on random pairs of selectors", func() {
	It("is selector.Intersects, for every pair", func() {
		admissiontest.Differential[pair]{
			What:   "random pairs",
			Oracle: func(p pair) bool { return intersects(p.existing, p.created) },
			NewJudge: func() func(pair) (bool, error) {
				wk := newWorker()
				return func(p pair) (bool, error) { return wk.verdict(p.existing, p.policies[0], p.created, p.policies[1]) }
			},
			Describe: func(p pair) string {
				return fmt.Sprintf("existing %+v (%s), new %+v (%s)", p.existing, p.policies[0], p.created, p.policies[1])
			},
		}.ExpectAgreement(randomPairs(differentialPairs), 4)
	})
})
