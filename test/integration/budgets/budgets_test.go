package budgets

import (
	"fmt"
	"math/rand/v2"
	"slices"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

const (
	sharedPodsGauge = "labelgroup_poddisruptionbudget_shared_pods"
	overlapsGauge   = "labelgroup_poddisruptionbudget_overlaps"
)

var _ = Describe("PodDisruptionBudgets that cover the same pods", func() {
	It("are reported when they start and stop sharing pods, with the other budgets named", func() {
		ns := newNamespace()
		createRunningPod(ns, "web-1", map[string]string{"app": "web", "tier": "front"})
		createRunningPod(ns, "web-2", map[string]string{"app": "web", "tier": "front"})
		createRunningPod(ns, "db-1", map[string]string{"app": "db"})
		createBudget(ns, "web", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}})
		createBudget(ns, "nothing", nil)
		Eventually(func() map[string]float64 { return gauge(sharedPodsGauge, ns) }).
			Should(Equal(map[string]float64{"web": 0, "nothing": 0}))

		front := createBudget(ns, "front", &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "front"}})
		Eventually(func() map[string]float64 { return gauge(sharedPodsGauge, ns) }).
			Should(Equal(map[string]float64{"web": 2, "front": 2, "nothing": 0}))
		Expect(gauge(overlapsGauge, ns)).To(Equal(map[string]float64{"web": 1, "front": 1, "nothing": 0}))
		Eventually(func(g Gomega) []string { return budgetEventNotes(g, ns, "web", v1alpha1.EventBudgetPodsShared) }).
			Should(ConsistOf("2 of its pods are also covered by 1 other PodDisruptionBudget, so the eviction API refuses to evict them and node drains stall: front (2 pods)"))
		Eventually(func(g Gomega) []string { return budgetEvents(g, ns, v1alpha1.EventBudgetPodsShared) }).
			Should(Equal([]string{"front", "web"}))

		Expect(k8sClient.Delete(ctx, front)).To(Succeed())
		Eventually(func() map[string]float64 { return gauge(sharedPodsGauge, ns) }).
			Should(Equal(map[string]float64{"web": 0, "nothing": 0}), "the deleted budget's series is gone")
		Expect(gauge(overlapsGauge, ns)).To(Equal(map[string]float64{"web": 0, "nothing": 0}))
		Eventually(func(g Gomega) []string { return budgetEvents(g, ns, v1alpha1.EventBudgetPodsNoLongerShared) }).
			Should(Equal([]string{"web"}))
		// Once per transition: the Warning of web was not repeated.
		Consistently(func(g Gomega) []string { return budgetEventNotes(g, ns, "web", v1alpha1.EventBudgetPodsShared) }, "1s").
			Should(HaveLen(1))
	})

	It("never writes a budget", func() {
		ns := newNamespace()
		createRunningPod(ns, "p", map[string]string{"app": "x"})
		a := createBudget(ns, "a", &metav1.LabelSelector{})
		b := createBudget(ns, "b", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}})
		Eventually(func() map[string]float64 { return gauge(sharedPodsGauge, ns) }).Should(Equal(map[string]float64{"a": 1, "b": 1}))
		for _, pdb := range []*policyv1.PodDisruptionBudget{a, b} {
			var now policyv1.PodDisruptionBudget
			Expect(k8sClient.Get(ctx, keyOf(pdb), &now)).To(Succeed())
			Expect(now.ResourceVersion).To(Equal(pdb.ResourceVersion), "budget %s was written", pdb.Name)
		}
	})

	// The eviction API is the oracle: it refuses, with "more than one
	// PodDisruptionBudget", exactly the pods two budgets or more cover. Every
	// random namespace must give the operator's gauges the oracle's counts,
	// and lint and who-selects the same answer on the same objects.
	It("agree with the eviction API on random workloads and budgets", func() {
		rng := rand.New(rand.NewPCG(uint64(GinkgoRandomSeed()), 19))
		var totals oracleTotals
		for range 8 {
			ns := newNamespace()
			var pods []*corev1.Pod
			for w := range 8 {
				podLabels := randomPodLabels(rng)
				for r := range 1 + rng.IntN(3) {
					pods = append(pods, createRunningPod(ns, podName(w, r), podLabels))
				}
			}
			var budgets []*policyv1.PodDisruptionBudget
			for i := range 6 {
				budgets = append(budgets, createBudget(ns, string(rune('a'+i)), randomSelector(rng)))
			}

			refused := map[string]bool{}
			for _, pod := range pods {
				if evictionRefusedForBudgets(ns, pod.Name) {
					refused[pod.Name] = true
				}
			}
			want := oracleCounts(budgets, pods, refused)
			Eventually(func(g Gomega) {
				g.Expect(gauge(sharedPodsGauge, ns)).To(Equal(want.sharedPods))
				g.Expect(gauge(overlapsGauge, ns)).To(Equal(want.overlaps))
			}).Should(Succeed(), "namespace %s: the operator's counts differ from the eviction API's", ns)
			Eventually(func(g Gomega) []string { return budgetEvents(g, ns, v1alpha1.EventBudgetPodsShared) }).
				Should(Equal(want.sharingBudgets()), "a Warning on exactly the budgets that share pods")

			checkPlugin(ns, pods, budgets, refused, want)
			totals.add(len(pods), len(budgets), len(refused), want)
		}
		// The random cases must exercise both answers, or the agreement says little.
		Expect(totals.refused).To(BeNumerically(">", 0))
		Expect(totals.refused).To(BeNumerically("<", totals.pods))
		AddReportEntry("eviction oracle", totals.String())
		GinkgoWriter.Println("eviction oracle:", totals.String())
	})
})

// counts are the per-budget numbers the operator's gauges must show.
type counts struct {
	sharedPods map[string]float64
	overlaps   map[string]float64
	pairs      [][2]string // the budgets that cover a pod together, sorted
}

func (c counts) sharingBudgets() []string {
	var names []string
	for name, n := range c.sharedPods {
		if n > 0 {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// oracleCounts derives, from the pods the eviction API refused, each budget's
// shared pods and the budgets it overlaps: a budget's shared pods are the
// refused pods it covers, as the eviction API reads a selector
// (metav1.LabelSelectorAsSelector, null covers none).
func oracleCounts(budgets []*policyv1.PodDisruptionBudget, pods []*corev1.Pod, refused map[string]bool) counts {
	c := counts{sharedPods: map[string]float64{}, overlaps: map[string]float64{}}
	covers := make([]map[string]bool, len(budgets))
	for i, b := range budgets {
		covers[i] = map[string]bool{}
		sel, err := metav1.LabelSelectorAsSelector(b.Spec.Selector)
		Expect(err).NotTo(HaveOccurred())
		for _, p := range pods {
			if refused[p.Name] && sel.Matches(labels.Set(p.Labels)) {
				covers[i][p.Name] = true
			}
		}
		c.sharedPods[b.Name] = float64(len(covers[i]))
	}
	for i, a := range budgets {
		c.overlaps[a.Name] = 0
		for j, b := range budgets {
			if i == j {
				continue
			}
			for pod := range covers[i] {
				if covers[j][pod] {
					c.overlaps[a.Name]++
					if i < j {
						c.pairs = append(c.pairs, [2]string{a.Name, b.Name})
					}
					break
				}
			}
		}
	}
	return c
}

// oracleTotals are what the oracle saw over every random namespace.
type oracleTotals struct {
	pods, budgets, refused, sharingBudgets, pairs int
}

func (t *oracleTotals) add(pods, budgets, refused int, c counts) {
	t.pods += pods
	t.budgets += budgets
	t.refused += refused
	t.sharingBudgets += len(c.sharingBudgets())
	t.pairs += len(c.pairs)
}

func (t oracleTotals) String() string {
	return fmt.Sprintf("%d pods (%d refused for more than one budget), %d budgets (%d sharing pods, %d overlapping pairs): operator, lint and who-selects agree on all",
		t.pods, t.refused, t.budgets, t.sharingBudgets, t.pairs)
}
