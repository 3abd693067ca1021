package lifecycle

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/test/builders"
)

// writeErrors reads labelgroup_status_write_errors_total of a namespace and
// reason from the manager's metrics registry.
func writeErrors(namespace, reason string) func(Gomega) float64 {
	return func(g Gomega) float64 {
		families, err := metrics.Registry.Gather()
		g.Expect(err).NotTo(HaveOccurred())
		for _, f := range families {
			if f.GetName() != "labelgroup_status_write_errors_total" {
				continue
			}
			for _, m := range f.GetMetric() {
				labels := map[string]string{}
				for _, l := range m.GetLabel() {
					labels[l.GetName()] = l.GetValue()
				}
				if labels["namespace"] == namespace && labels["reason"] == reason {
					return m.GetCounter().GetValue()
				}
			}
		}
		return 0
	}
}

var _ = Describe("A status write the API server refuses", func() {
	It("is counted and retried, and holds up no other group of the namespace", func() {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "refused-"}}
		Expect(k8sClient.Create(ctx, ns)).To(Succeed())
		// A manager whose member limit exceeds the CRD's maxItems (as a newer
		// manager with an older CRD could) writes a status of 501 members
		// that the API server refuses as invalid.
		const pods = v1alpha1.MaxStatusMembers + 1
		for i := range pods {
			pod := builders.MakePod(fmt.Sprintf("web-%03d", i)).Namespace(ns.Name).Label("tier", "web").Obj()
			if i == 0 {
				pod.Labels["track"] = "canary"
			}
			Expect(k8sClient.Create(ctx, pod)).To(Succeed())
		}
		Expect(k8sClient.Create(ctx, builders.MakeGroup("web").Namespace(ns.Name).Label("tier", "web").Obj())).To(Succeed())
		Expect(k8sClient.Create(ctx, builders.MakeGroup("canary").Namespace(ns.Name).Label("track", "canary").Obj())).To(Succeed())

		_, _, stop := startManager(testEnv.Config, pods)
		defer stop()
		var canary v1alpha1.LabelGroup
		Eventually(func(g Gomega) v1alpha1.LabelGroupStatus {
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns.Name, Name: "canary"}, &canary)).To(Succeed())
			return canary.Status
		}, 30*time.Second).Should(And(HaveField("MemberCount", BeEquivalentTo(1)), HaveField("OverlapCount", BeEquivalentTo(1))))

		// Retried with backoff: the count keeps growing.
		Eventually(writeErrors(ns.Name, "Invalid"), 30*time.Second).Should(BeNumerically(">=", 1))
		first := writeErrors(ns.Name, "Invalid")(Default)
		// controller-runtime's backoff doubles from 5 ms, so the next retry
		// comes within seconds of the first ones.
		Eventually(writeErrors(ns.Name, "Invalid"), time.Minute).Should(BeNumerically(">", first))
		var web v1alpha1.LabelGroup
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns.Name, Name: "web"}, &web)).To(Succeed())
		Expect(web.Status.ObservedGeneration).To(BeZero(), "web's status was refused, so it is still the API server's default")
	})
})
