package controller

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/test/builders"
)

// This suite's manager runs without --enable-member-metadata, as by default.
var _ = Describe("Member metadata with stamping off", func() {
	It("says plainly that stamping is off, and touches no pod", func() {
		ns := newNamespace()
		createPod(ns, "web-1", "tier", "web")
		createGroup(ns, builders.MakeGroup("web").Label("tier", "web").StampLabel("team", "payments"))

		Eventually(condition(ns, "web", v1alpha1.ConditionMetadataApplied), timeout, interval).Should(Equal("False/StampingDisabled"))
		Eventually(events(ns, "web", v1alpha1.ReasonStampingDisabled), timeout, interval).Should(HaveLen(1))
		var group v1alpha1.LabelGroup
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "web"}, &group)).To(Succeed())
		Expect(group.Finalizers).To(BeEmpty(), "a group that stamps nothing needs no finalizer")
		Expect(group.Status.MemberMetadata).To(BeNil())
		for _, c := range group.Status.Conditions {
			if c.Type == v1alpha1.ConditionMetadataApplied {
				Expect(c.Message).To(ContainSubstring("--enable-member-metadata"))
			}
		}
		var pod corev1.Pod
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "web-1"}, &pod)).To(Succeed())
		Expect(pod.Labels).NotTo(HaveKey("team"))
	})
})
