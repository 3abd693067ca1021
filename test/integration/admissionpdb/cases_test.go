package admissionpdb

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func expr(key string, op metav1.LabelSelectorOperator, values ...string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: key, Operator: op, Values: values}}}
}

var _ = Describe("The policy on budgets", func() {
	DescribeTable("judges a new budget beside an existing one",
		func(existing, created *metav1.LabelSelector, refused bool) {
			Expect(refused).To(Equal(intersects(existing, created)), "the case disagrees with selector.Intersects")
			ns := newNamespace("case")
			Expect(k8sClient.Create(ctx, makeBudget("existing", ns, existing))).To(Succeed())
			if refused {
				Eventually(func() error { return tryCreate(makeBudget("new", ns, created)) }).Should(BeRefusedNaming("existing"))
			} else {
				Consistently(func() error { return tryCreate(makeBudget("new", ns, created)) }, "500ms").Should(Succeed())
			}
		},
		Entry("NotIn and DoesNotExist: a pod without the key matches both", expr("app", metav1.LabelSelectorOpNotIn, "web"), expr("app", metav1.LabelSelectorOpDoesNotExist), true),
		Entry("In and DoesNotExist on one key exclude each other", expr("app", metav1.LabelSelectorOpIn, "web"), expr("app", metav1.LabelSelectorOpDoesNotExist), false),
		Entry("different keys that one pod can carry together", labels("app", "web"), labels("tier", "front"), true),
		Entry("different values of one key", labels("app", "web"), labels("app", "db"), false),
		Entry("the empty selector covers every pod", &metav1.LabelSelector{}, labels("app", "web"), true),
		Entry("the empty selector beside an unsatisfiable one", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"web"}},
			{Key: "app", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"web"}},
		}}, &metav1.LabelSelector{}, false),
		Entry("a null selector covers no pod, even beside the empty one", nil, &metav1.LabelSelector{}, false),
		Entry("the empty selector beside a null one", &metav1.LabelSelector{}, nil, false),
	)

	It("leaves metadata-only updates of overlapping budgets alone, and refuses a spec change that keeps the overlap", func() {
		var web policyv1.PodDisruptionBudget
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: overlapping, Name: "web"}, &web)).To(Succeed())
		Expect(k8sClient.Patch(ctx, &web, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"team":"shop"}}}`)))).To(Succeed())
		patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"selector":{"matchLabels":{"tier":"web","track":"stable"}}}}`))
		Expect(k8sClient.Patch(ctx, &web, patch, client.DryRunAll)).To(BeRefusedNaming("frontend"))
	})

	It("leaves status writes alone", func() {
		var web policyv1.PodDisruptionBudget
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: overlapping, Name: "web"}, &web)).To(Succeed())
		web.Status.ObservedGeneration = web.Generation
		web.Status.DisruptionsAllowed = 1
		Expect(k8sClient.Status().Update(ctx, &web)).To(Succeed())
	})
})
