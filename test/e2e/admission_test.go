//go:build e2e

package e2e

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

// exclusiveGroupYAML is a LabelGroup with overlapPolicy Selectors, as a GitOps
// repository holds it: name, then the selector's lines (indented by four).
const exclusiveGroupYAML = `apiVersion: grouping.labelgroup.io/v1alpha1
kind: LabelGroup
metadata:
  name: %s
spec:
  overlapPolicy: Selectors
  selector:
%s
`

// The admission policy is cluster-wide while installed: this container
// installs it, and removes it and waits until the API server no longer
// enforces it before any other spec runs (specs run one at a time), so the
// samples' overlapping canary group stays admissible elsewhere.
var _ = Describe("The optional admission policy (config/admission)", Ordered, func() {
	var probeNamespace string
	// overlappingProbeRefused dry-runs an exclusive group that overlaps the
	// probe namespace's, and reports whether the policy refused it.
	overlappingProbeRefused := func(g Gomega) bool {
		probe := &v1alpha1.LabelGroup{}
		probe.Name, probe.Namespace = "probe", probeNamespace
		probe.Spec.OverlapPolicy = v1alpha1.OverlapPolicySelectors
		err := k8sClient.Create(ctx, probe, client.DryRunAll)
		g.Expect(err == nil || apierrors.IsForbidden(err)).To(BeTrue(), "unexpected error: %v", err)
		return err != nil
	}

	BeforeAll(func() {
		probeNamespace = newNamespace()
		existing := &v1alpha1.LabelGroup{}
		existing.Name = "existing"
		existing.Spec.OverlapPolicy = v1alpha1.OverlapPolicySelectors
		createIn(probeNamespace, existing)

		By("installing it with kubectl apply -k config/admission")
		stderr, err := kubectl("", "apply", "-k", "config/admission")
		Expect(err).NotTo(HaveOccurred(), stderr)
		DeferCleanup(func() {
			By("removing it with kubectl delete -k config/admission, and waiting until it is no longer enforced")
			stderr, err := kubectl("", "delete", "-k", "config/admission")
			Expect(err).NotTo(HaveOccurred(), stderr)
			Eventually(overlappingProbeRefused).Should(BeFalse())
		})
		By("waiting until the API server enforces it")
		Eventually(overlappingProbeRefused).Should(BeTrue())
	})

	It("refuses a GitOps-style kubectl apply of an overlapping exclusive group, naming the other, and admits a disjoint one", func() {
		ns := newNamespace()
		frontend := fmt.Sprintf(exclusiveGroupYAML, "frontend", "    matchLabels:\n      tier: web")
		stderr, err := kubectl(frontend, "apply", "-n", ns, "-f", "-")
		Expect(err).NotTo(HaveOccurred(), stderr)

		By("applying a group whose selector could pick frontend's pods")
		overlapping := fmt.Sprintf(exclusiveGroupYAML, "web-and-api", "    matchExpressions:\n    - {key: tier, operator: In, values: [web, api]}")
		// The policy sees groups through an informer: wait until it sees
		// frontend, with server-side dry runs that store nothing.
		Eventually(func(g Gomega) string {
			stderr, err := kubectl(overlapping, "apply", "--dry-run=server", "-n", ns, "-f", "-")
			g.Expect(err).To(HaveOccurred())
			return stderr
		}).Should(ContainSubstring(`LabelGroup "frontend"`))
		stderr, err = kubectl(overlapping, "apply", "-n", ns, "-f", "-")
		Expect(err).To(HaveOccurred(), "kubectl apply admitted an overlapping exclusive group")
		Expect(stderr).To(And(
			ContainSubstring(`Error from server (Forbidden)`),
			ContainSubstring(`its selector intersects the selector of LabelGroup "frontend"`),
			ContainSubstring(`overlapPolicy Selectors on both groups requires selectors that no pod can match together`),
		))
		GinkgoWriter.Printf("kubectl apply of an overlapping exclusive group:\n%s", stderr)
		err = k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "web-and-api"}, &v1alpha1.LabelGroup{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the refused group was stored: %v", err)

		By("applying a group whose selector cannot pick frontend's pods")
		disjoint := fmt.Sprintf(exclusiveGroupYAML, "api", "    matchExpressions:\n    - {key: tier, operator: In, values: [api]}")
		stderr, err = kubectl(disjoint, "apply", "-n", ns, "-f", "-")
		Expect(err).NotTo(HaveOccurred(), stderr)
		Eventually(conditionOf(ns, "api", v1alpha1.ConditionOverlapping)).Should(Equal("False/NoOverlap"))
		Eventually(conditionOf(ns, "frontend", v1alpha1.ConditionOverlapping)).Should(Equal("False/NoOverlap"))
	})
})
