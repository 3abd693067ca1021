package admissiontest

import (
	"fmt"
	"sync"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
)

// Differential is a differential test of a policy against an oracle on pairs
// of type P.
type Differential[P any] struct {
	// What the pairs are, as the report says it ("random pairs").
	What string
	// Oracle is the operator's answer: whether the pair intersects.
	Oracle func(P) bool
	// NewJudge makes a judge of its own for one goroutine: the policy's
	// verdict on a pair, refused or admitted (a Worker's Verdict).
	NewJudge func() func(P) (bool, error)
	// Describe names a pair in a mismatch.
	Describe func(P) string
}

// ExpectAgreement has the policy judge every pair, workers judges at a time,
// and expects each verdict to be the oracle's. Both answers must be common,
// or the comparison proves little.
func (d Differential[P]) ExpectAgreement(pairs []P, workers int) {
	want := make([]bool, len(pairs))
	for i, p := range pairs {
		want[i] = d.Oracle(p)
	}
	got := make([]bool, len(pairs))
	errs := make([]error, len(pairs))
	var wg sync.WaitGroup
	for w := range workers {
		judge := d.NewJudge()
		wg.Go(func() {
			defer ginkgo.GinkgoRecover()
			for i := w; i < len(pairs); i += workers {
				got[i], errs[i] = judge(pairs[i])
			}
		})
	}
	wg.Wait()

	refused := 0
	var mismatches []string
	for i, p := range pairs {
		gomega.Expect(errs[i]).NotTo(gomega.HaveOccurred(), "pair %d", i)
		if got[i] {
			refused++
		}
		if got[i] != want[i] {
			mismatches = append(mismatches, fmt.Sprintf("%s: refused %v, selector.Intersects %v", d.Describe(p), got[i], want[i]))
		}
	}
	gomega.Expect(mismatches).To(gomega.BeEmpty())
	ginkgo.GinkgoWriter.Printf("%d %s: %d refused, %d admitted, all as selector.Intersects says\n",
		len(pairs), d.What, refused, len(pairs)-refused)
	ginkgo.AddReportEntry("differential", fmt.Sprintf("%d pairs, %d refused", len(pairs), refused))
	gomega.Expect(refused).To(gomega.BeNumerically(">", len(pairs)/10))
	gomega.Expect(refused).To(gomega.BeNumerically("<", len(pairs)*9/10))
}
