package admission

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	celconfig "k8s.io/apiserver/pkg/apis/cel"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

// naiveValuesConflict is the per-value formulation the policy avoids: for
// every In expression and every one of its values, walk every expression of
// both sides and compare keys. It is right, and too costly at the bounds.
const naiveValuesConflict = `variables.indexes.exists(a, variables.operators[a] == 'In' &&
  !variables.values[a].exists(v, variables.indexes.all(j, variables.keys[j] != variables.keys[a] ||
    ((variables.operators[j] == 'In') == (v in variables.values[j])))))`

// asCreated returns group, renamed and with policy, to be created beside others.
func asCreated(group *v1alpha1.LabelGroup, name, namespace string, policy v1alpha1.OverlapPolicy) *v1alpha1.LabelGroup {
	group = group.DeepCopy()
	group.Name, group.Namespace, group.Spec.OverlapPolicy = name, namespace, policy
	return group
}

var _ = Describe("The policy at the CRD's bounds", func() {
	var clock *worker
	BeforeEach(func() { clock = newWorker() })

	It("decides every worst case on the API server within the CEL cost limits", func() {
		policy, _, err := loadAdmission()
		Expect(err).NotTo(HaveOccurred())
		inProcess, err := newInProcessPolicy(policy)
		Expect(err).NotTo(HaveOccurred())

		var table strings.Builder
		fmt.Fprintf(&table, "| shape | intersect | costliest variable | its cost | whole evaluation |\n|---|---|---|---|---|\n")
		for _, shape := range boundsShapes() {
			for _, swapped := range []bool{false, true} {
				existing, created := shape.params, shape.object
				if swapped {
					existing, created = created, existing
				}
				name := shape.name
				if swapped {
					name += ", sides swapped"
				}
				By(name)
				Expect(intersects(existing.Spec.Selector, created.Spec.Selector)).To(Equal(shape.wantIntersect))

				ns := newNamespace("bounds")
				Expect(k8sClient.Create(ctx, asCreated(existing, "existing", ns, v1alpha1.OverlapPolicyMembers))).To(Succeed())
				Expect(clock.Sync()).To(Succeed())
				refused, err := refusal(tryCreate(asCreated(created, "created", ns, v1alpha1.OverlapPolicySelectors)), "existing")
				Expect(err).NotTo(HaveOccurred(), "the API server must judge the pair, not fail on it")
				Expect(refused).To(Equal(shape.wantIntersect))

				report, err := inProcess.evaluate(toUnstructured(asCreated(created, "created", ns, v1alpha1.OverlapPolicySelectors)),
					toUnstructured(asCreated(existing, "existing", ns, v1alpha1.OverlapPolicyMembers)))
				Expect(err).NotTo(HaveOccurred())
				Expect(report.Admit).To(Equal(!refused), "the API server's library in this process must decide as the API server did")
				costliest, cost := report.Max()
				Expect(cost).To(BeNumerically("<", celconfig.PerCallLimit))
				Expect(report.Total).To(BeNumerically("<", celconfig.RuntimeCELCostBudget))
				fmt.Fprintf(&table, "| %s | %v | %s | %d | %d |\n", name, shape.wantIntersect, costliest, cost, report.Total)
			}
		}
		GinkgoWriter.Printf("Runtime cost per evaluation (per-expression limit %d, per-evaluation budget %d):\n%s",
			celconfig.PerCallLimit, celconfig.RuntimeCELCostBudget, table.String())
		AddReportEntry("cost at the bounds", table.String())
	})

	It("would exceed the per-expression limit with a naive per-value formulation", func() {
		policy, _, err := loadAdmission()
		Expect(err).NotTo(HaveOccurred())
		naive := withVariable(policy, "valuesConflict", naiveValuesConflict)
		var shape boundsShape
		for _, s := range boundsShapes() {
			if s.name == "one key, intersecting" {
				shape = s
			}
		}

		By("evaluating it with the API server's library in this process")
		inProcess, err := newInProcessPolicy(naive)
		Expect(err).NotTo(HaveOccurred())
		_, err = inProcess.evaluate(toUnstructured(asCreated(shape.object, "created", "ns", v1alpha1.OverlapPolicySelectors)),
			toUnstructured(asCreated(shape.params, "existing", "ns", v1alpha1.OverlapPolicyMembers)))
		Expect(err).To(MatchError(ContainSubstring("cost limit exceeded")))

		By("installing it, alone in a namespace of its own, on the API server")
		ns := newNamespace("naive")
		installAlone(naive, ns)
		Expect(k8sClient.Create(ctx, asCreated(shape.params, "existing", ns, v1alpha1.OverlapPolicyMembers))).To(Succeed())

		var last error
		Eventually(func() error {
			last = tryCreate(asCreated(shape.object, "created", ns, v1alpha1.OverlapPolicyMembers))
			return last
		}).Should(MatchError(ContainSubstring("cost limit exceeded")))
		GinkgoWriter.Printf("The API server's answer to the naive formulation at the bounds:\n%v\n", last)
		AddReportEntry("naive formulation", last.Error())
	})
})
