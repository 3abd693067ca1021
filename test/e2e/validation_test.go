//go:build e2e

package e2e

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

// labelGroupYAML is the LabelGroup web as a user writes it, with spec
// lines (indented by two spaces) in the %s.
const labelGroupYAML = `apiVersion: grouping.labelgroup.io/v1alpha1
kind: LabelGroup
metadata:
  name: web
spec:
%s
`

var _ = Describe("An invalid LabelGroup", func() {
	DescribeTable("is refused by kubectl apply with a message naming the field, and changes nothing stored",
		func(spec, field string) {
			ns := newNamespace()
			stderr, err := kubectl(fmt.Sprintf(labelGroupYAML, "  selector:\n    matchLabels:\n      tier: web"), "apply", "-n", ns, "-f", "-")
			Expect(err).NotTo(HaveOccurred(), stderr)
			Eventually(conditionOf(ns, "web", v1alpha1.ConditionReady)).Should(Equal("True/Reconciled"))
			var stored v1alpha1.LabelGroup
			Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "web"}, &stored)).To(Succeed())

			stderr, err = kubectl(fmt.Sprintf(labelGroupYAML, spec), "apply", "-n", ns, "-f", "-")
			Expect(err).To(HaveOccurred(), "kubectl apply accepted\n%s", spec)
			Expect(stderr).To(ContainSubstring(field))

			var after v1alpha1.LabelGroup
			Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "web"}, &after)).To(Succeed())
			Expect(after.ResourceVersion).To(Equal(stored.ResourceVersion), "the stored LabelGroup changed")
			Expect(after.Spec).To(Equal(stored.Spec))
		},
		Entry("an operator spelt wrong", "  selector:\n    matchExpressions:\n    - {key: tier, operator: in, values: [web]}",
			`spec.selector.matchExpressions[0].operator: Unsupported value: "in"`),
		Entry("In without values", "  selector:\n    matchExpressions:\n    - {key: tier, operator: In}",
			"spec.selector.matchExpressions[0].values: Invalid value"),
		Entry("Exists with values", "  selector:\n    matchExpressions:\n    - {key: tier, operator: Exists, values: [web]}",
			"spec.selector.matchExpressions[0].values: Invalid value"),
		Entry("a key that is no label key", "  selector:\n    matchExpressions:\n    - {key: -tier, operator: Exists}",
			`spec.selector.matchExpressions[0].key: Invalid value: "-tier"`),
		Entry("a value that is no label value", "  selector:\n    matchExpressions:\n    - {key: tier, operator: In, values: [-web]}",
			`spec.selector.matchExpressions[0].values[0]: Invalid value: "-web"`),
		Entry("a matchLabels key that is no label key", "  selector:\n    matchLabels:\n      tier/: web",
			"spec.selector.matchLabels: Invalid value"),
		Entry("a matchLabels value that is no label value", "  selector:\n    matchLabels:\n      tier: web app",
			`spec.selector.matchLabels[tier]: Invalid value: "web app"`),
		Entry("an unknown field", "  selector:\n    matchLabel:\n      tier: web",
			`unknown field "spec.selector.matchLabel"`),
		Entry("an unknown overlap policy", "  selector: {}\n  overlapPolicy: Everything",
			`spec.overlapPolicy: Unsupported value: "Everything"`),
	)
})
