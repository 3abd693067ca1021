//go:build e2e

package e2e

import (
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/test/builders"
)

var _ = Describe("Two groups that share a pod", func() {
	It("report it by conditions, events and metrics a metrics-reader may scrape, until it is resolved", func() {
		ns := newNamespace()
		createIn(ns,
			builders.MakeGroup("web").Label("tier", "web").Obj(),
			builders.MakeGroup("prod").Label("env", "prod").Obj(),
			builders.MakePod("shared").Label("tier", "web").Label("env", "prod").Obj(),
			builders.MakePod("web-qa").Label("tier", "web").Label("env", "qa").Obj(),
			builders.MakePod("db-prod").Label("tier", "db").Label("env", "prod").Obj(),
		)
		token := newMetricsScraper(ns)
		groups := map[string]string{"web": "prod", "prod": "web"} // each group and the one it overlaps

		for group, other := range groups {
			By("reporting that " + group + " overlaps " + other + " by one pod")
			Eventually(statusOf(ns, group)).Should(And(
				HaveField("MemberCount", BeEquivalentTo(2)),
				HaveField("Overlaps", Equal([]v1alpha1.Overlap{{Name: other, SharedMembers: 1}})),
			), "the status of %s", group)
			Expect(conditionOf(ns, group, v1alpha1.ConditionOverlapping)(Default)).To(Equal("True/MembersShared"))
			Eventually(groupEvents(ns, group, v1alpha1.EventOverlapDetected)).Should(ConsistOf(HaveField("Type", "Warning")),
				"one Warning OverlapDetected event about %s", group)
			Eventually(groupGauge("labelgroup_overlapping", ns, group, token)).Should(Equal("1"), "labelgroup_overlapping of %s", group)
		}

		By("finding the manager's metrics port behind the metrics Service")
		pod := theManagerPod(Default)
		expectMetricsServiceRoutesTo(&pod)

		By("refusing a scrape without a token, and one whose ServiceAccount is not a metrics-reader")
		Expect(scrapeStatus(Default, &pod, "")).To(Equal(http.StatusUnauthorized))
		Expect(scrapeStatus(Default, &pod, newServiceAccount(ns, "stranger"))).To(Equal(http.StatusForbidden))

		By("relabelling the shared pod out of prod: the overlap resolves on both groups")
		Expect(setLabel(ns, "shared", "env", "dev")).To(Succeed())
		for group := range groups {
			Eventually(conditionOf(ns, group, v1alpha1.ConditionOverlapping)).Should(Equal("False/NoOverlap"), "Overlapping of %s", group)
			Expect(statusOf(ns, group)(Default).Overlaps).To(BeEmpty())
			Eventually(groupEvents(ns, group, v1alpha1.EventOverlapResolved)).Should(ConsistOf(HaveField("Type", "Normal")),
				"one Normal OverlapResolved event about %s", group)
			Eventually(groupGauge("labelgroup_overlapping", ns, group, token)).Should(Equal("0"), "labelgroup_overlapping of %s", group)
		}
	})
})

// expectMetricsServiceRoutesTo checks that the shipped metrics Service, what
// a ServiceMonitor scrapes, selects the manager's pod and sends its https
// port to the port the manager serves metrics on.
func expectMetricsServiceRoutesTo(pod *corev1.Pod) {
	var service corev1.Service
	key := client.ObjectKey{Namespace: managerNamespace, Name: metricsService}
	ExpectWithOffset(1, k8sClient.Get(ctx, key, &service)).To(Succeed())
	ExpectWithOffset(1, labels.SelectorFromSet(service.Spec.Selector).Matches(labels.Set(pod.Labels))).To(BeTrue(),
		"the Service's selector %v selects the manager's pod", service.Spec.Selector)
	ExpectWithOffset(1, service.Spec.Ports).To(ContainElement(And(
		HaveField("Name", "https"),
		HaveField("TargetPort.IntVal", containerPort(Default, pod, metricsPortName)),
	)))
}
