package admission

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	celconfig "k8s.io/apiserver/pkg/apis/cel"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

// padded returns the policy with variable name's expression evaluated after
// a padding that costs about coarse*12,000 + fine*200 more: nested
// comprehensions over the 64 indexes, the first coarse (and fine) of them.
func padded(policy *admissionregistrationv1.ValidatingAdmissionPolicy, name string, coarse, fine int) *admissionregistrationv1.ValidatingAdmissionPolicy {
	var expression string
	for _, v := range policy.Spec.Variables {
		if v.Name == name {
			expression = v.Expression
		}
	}
	pad := fmt.Sprintf(`variables.indexes.filter(a, a < %d).all(a, variables.indexes.all(b, variables.indexes.all(c, c >= 0))) && `+
		`variables.indexes.filter(a, a < %d).all(a, variables.indexes.all(b, b >= 0))`, coarse, fine)
	return withVariable(policy, name, "("+pad+") ? ("+expression+") : []")
}

// installAlone installs policy under a name of its own, bound to namespace
// only, judging only groups other than the object, and returns a function
// that replaces its spec with another policy's.
func installAlone(policy *admissionregistrationv1.ValidatingAdmissionPolicy, namespace string) func(*admissionregistrationv1.ValidatingAdmissionPolicy) {
	prepare := func(p *admissionregistrationv1.ValidatingAdmissionPolicy) *admissionregistrationv1.ValidatingAdmissionPolicy {
		p = p.DeepCopy()
		p.Name = "alone-" + namespace
		// Both groups of the pairs are Members, so the shipped policy skips
		// them and only this one judges.
		p.Spec.MatchConditions = []admissionregistrationv1.MatchCondition{{
			Name: "another-group", Expression: "params.metadata.name != object.metadata.name",
		}}
		return p
	}
	installed := prepare(policy)
	ExpectWithOffset(1, k8sClient.Create(ctx, installed)).To(Succeed())
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: installed.Name},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        installed.Name,
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
			ParamRef: &admissionregistrationv1.ParamRef{
				Selector:                &metav1.LabelSelector{},
				ParameterNotFoundAction: ptrTo(admissionregistrationv1.AllowAction),
			},
			MatchResources: &admissionregistrationv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
				MatchLabels: map[string]string{"kubernetes.io/metadata.name": namespace},
			}},
		},
	}
	ExpectWithOffset(1, k8sClient.Create(ctx, binding)).To(Succeed())
	DeferCleanup(func() {
		Expect(k8sClient.Delete(ctx, binding)).To(Succeed())
		Expect(k8sClient.Delete(ctx, installed)).To(Succeed())
	})
	return func(p *admissionregistrationv1.ValidatingAdmissionPolicy) {
		p = prepare(p)
		ExpectWithOffset(1, k8sClient.Get(ctx, clientKey(installed.Name), installed)).To(Succeed())
		installed.Spec = p.Spec
		ExpectWithOffset(1, k8sClient.Update(ctx, installed)).To(Succeed())
	}
}

var _ = Describe("The cost measured in this process", func() {
	It("is the API server's: padded to just under the per-expression limit the costliest variable passes there, just over it fails", func() {
		policy, _, err := loadAdmission()
		Expect(err).NotTo(HaveOccurred())
		var shape boundsShape
		for _, s := range boundsShapes() {
			if s.name == "64 keys, apart" {
				shape = s
			}
		}
		object := toUnstructured(asCreated(shape.object, "created", "ns", v1alpha1.OverlapPolicyMembers))
		params := toUnstructured(asCreated(shape.params, "existing", "ns", v1alpha1.OverlapPolicyMembers))
		costOf := func(p *admissionregistrationv1.ValidatingAdmissionPolicy, o, pa *unstructured.Unstructured) (int64, error) {
			inProcess, err := newInProcessPolicy(p)
			Expect(err).NotTo(HaveOccurred())
			report, err := inProcess.evaluate(o, pa)
			return report.Variables["anchors"], err
		}

		By("finding, in this process, paddings that bring the costliest variable just under the limit")
		base, err := costOf(padded(policy, "anchors", 0, 0), object, params)
		Expect(err).NotTo(HaveOccurred())
		one, err := costOf(padded(policy, "anchors", 1, 0), object, params)
		Expect(err).NotTo(HaveOccurred())
		fine, err := costOf(padded(policy, "anchors", 0, 1), object, params)
		Expect(err).NotTo(HaveOccurred())
		const margin = 5000 // 0.5% of the limit
		target := int64(celconfig.PerCallLimit - margin)
		coarse := int((target - base) / (one - base))
		fineSteps := int((target - base - int64(coarse)*(one-base)) / (fine - base))
		Expect(fineSteps).To(BeNumerically("<", 64))
		under := padded(policy, "anchors", coarse, fineSteps)
		underCost, err := costOf(under, object, params)
		Expect(err).NotTo(HaveOccurred())
		Expect(underCost).To(BeNumerically("~", target, fine-base))
		over := padded(policy, "anchors", coarse, fineSteps+2*margin/int(fine-base)+1)
		_, err = costOf(over, object, params)
		Expect(err).To(MatchError(ContainSubstring("cost limit exceeded")))

		By("installing both on the API server in turn")
		ns := newNamespace("calibration")
		Expect(k8sClient.Create(ctx, asCreated(shape.params, "existing", ns, v1alpha1.OverlapPolicyMembers))).To(Succeed())
		created := asCreated(shape.object, "created", ns, v1alpha1.OverlapPolicyMembers)
		replace := installAlone(under, ns)
		Eventually(func() error { return tryCreate(created.DeepCopy()) }).Should(MatchError(ContainSubstring(
			`'alone-`+ns+`' denied request: its selector intersects the selector of LabelGroup "existing"`)),
			"padded to %d in this process, the pair must be judged (it intersects)", underCost)
		replace(over)
		Eventually(func() error { return tryCreate(created.DeepCopy()) }).Should(MatchError(ContainSubstring("cost limit exceeded")))
		GinkgoWriter.Printf("the costliest variable (%d in this process) padded to %d passes on the API server; %d more fails there\n",
			base, underCost, 2*margin)
		AddReportEntry("calibration", fmt.Sprintf("base %d, under %d passes, +%d fails", base, underCost, 2*margin))
	})
})
