package admissionpdb

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/selector"
	"github.com/labelgroup/labelgroup-operator/internal/selector/selectortest"
)

// differentialPairs is how many random pairs the API server judges.
const differentialPairs = 600

// pair is two budgets' selectors; nil is a null selector.
type pair struct{ existing, created *metav1.LabelSelector }

// randomPairs draws pairs the way the selector package's differential test and
// the LabelGroup policy's do (selectortest.DecodePair of random bytes), and
// makes one side null now and then.
func randomPairs(n int) []pair {
	rng := rand.New(rand.NewPCG(19, 2026))
	pairs := make([]pair, n)
	for i := range pairs {
		data := make([]byte, rng.IntN(18))
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		a, b := selectortest.DecodePair(data)
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
					got[i], errs[i] = wk.verdict(pairs[i].existing, pairs[i].created)
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
				mismatches = append(mismatches, fmt.Sprintf("existing %v, new %v: refused %v, selector.Intersects %v", p.existing, p.created, got[i], want[i]))
			}
		}
		Expect(mismatches).To(BeEmpty())
		GinkgoWriter.Printf("%d random pairs of budgets: %d refused, %d admitted, all as selector.Intersects says\n", len(pairs), refused, len(pairs)-refused)
		AddReportEntry("differential", fmt.Sprintf("%d pairs, %d refused", len(pairs), refused))
		Expect(refused).To(BeNumerically(">", len(pairs)/10))
		Expect(refused).To(BeNumerically("<", len(pairs)*9/10))
	})
})

// worker checks one pair at a time in a namespace of its own: it makes its
// single budget "existing" hold one selector, then dry-runs a create of the
// other beside it. The policy sees budgets through an informer of the API
// server; a clock budget in a second namespace, bumped after each change and
// probed until the policy sees the bump, tells when that informer has caught
// up (it delivers events in order).
type worker struct {
	namespace, clockNamespace string
	existing, clock           *policyv1.PodDisruptionBudget
	tick                      int
}

func newWorker() *worker {
	w := &worker{namespace: newNamespace("pairs"), clockNamespace: newNamespace("clock")}
	w.existing = makeBudget("existing", w.namespace, nil)
	ExpectWithOffset(1, k8sClient.Create(ctx, w.existing)).To(Succeed())
	w.clock = makeBudget("clock", w.clockNamespace, labels("tick", "0"))
	ExpectWithOffset(1, k8sClient.Create(ctx, w.clock)).To(Succeed())
	return w
}

// verdict reports whether the policy refuses a budget with sel created beside
// an existing budget with existing.
func (w *worker) verdict(existing, sel *metav1.LabelSelector) (bool, error) {
	// The existing budget is alone in its namespace: its updates are never refused.
	w.existing.Spec.Selector = existing
	if err := k8sClient.Update(ctx, w.existing); err != nil {
		return false, err
	}
	if err := w.sync(); err != nil {
		return false, err
	}
	return refusal(tryCreate(makeBudget("new", w.namespace, sel)), w.existing.Name)
}

// sync returns once the policy sees every change made before it was called.
func (w *worker) sync() error {
	w.tick++
	tick := fmt.Sprint(w.tick)
	patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"selector":{"matchLabels":{"tick":"`+tick+`"}}}}`))
	if err := k8sClient.Patch(ctx, w.clock, patch); err != nil {
		return err
	}
	probe := makeBudget("probe", w.clockNamespace, labels("tick", tick))
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		refused, err := refusal(tryCreate(probe.DeepCopy()), "clock")
		if err != nil || refused {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the policy did not see the clock's tick %s within 30s", tick)
		}
	}
}
