package admission

import (
	"fmt"
	"math/rand/v2"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/selector"
	"github.com/labelgroup/labelgroup-operator/internal/selector/selectortest"
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
// does (selectortest.DecodePair of random bytes).
func randomPairs(n int) []pair {
	rng := rand.New(rand.NewPCG(12, 2026))
	pairs := make([]pair, n)
	for i := range pairs {
		data := make([]byte, rng.IntN(18))
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		a, b := selectortest.DecodePair(data)
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
		const workers = 4
		pairs := randomPairs(differentialPairs)
		want := make([]bool, len(pairs))
		for i, p := range pairs {
			want[i] = intersects(p.existing, p.created)
		}
		got := make([]bool, len(pairs))
		errs := make([]error, len(pairs))
		var wg sync.WaitGroup
		for w := range workers {
			wk := newWorker()
			wg.Go(func() {
				defer GinkgoRecover()
				for i := w; i < len(pairs); i += workers {
					p := pairs[i]
					got[i], errs[i] = wk.verdict(p.existing, p.policies[0], p.created, p.policies[1])
				}
			})
		}
		wg.Wait()

		refused := 0
		var mismatches []string
		for i, p := range pairs {
			Expect(errs[i]).NotTo(HaveOccurred(), "pair %d", i)
			if got[i] {
				refused++
			}
			if got[i] != want[i] {
				mismatches = append(mismatches, fmt.Sprintf("existing %+v (%s), new %+v (%s): refused %v, selector.Intersects %v",
					p.existing, p.policies[0], p.created, p.policies[1], got[i], want[i]))
			}
		}
		Expect(mismatches).To(BeEmpty())
		GinkgoWriter.Printf("%d random pairs: %d refused, %d admitted, all as selector.Intersects says\n",
			len(pairs), refused, len(pairs)-refused)
		AddReportEntry("differential", fmt.Sprintf("%d pairs, %d refused", len(pairs), refused))
		// Both answers must be common, or the comparison proves little.
		Expect(refused).To(BeNumerically(">", len(pairs)/10))
		Expect(refused).To(BeNumerically("<", len(pairs)*9/10))
	})
})
