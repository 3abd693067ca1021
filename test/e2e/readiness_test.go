//go:build e2e

package e2e

import (
	"net/http"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// managerRole is the ClusterRole config/rbac grants the manager.
const managerRole = "labelgroup-operator-manager-role"

var _ = Describe("The manager's readiness", func() {
	It("is NotReady while its role does not let it watch pods", func() {
		var role rbacv1.ClusterRole
		Expect(k8sClient.Get(ctx, client.ObjectKey{Name: managerRole}, &role)).To(Succeed())
		shipped := slices.Clone(role.Rules)
		DeferCleanup(func() {
			By("restoring the role and restarting the manager")
			var current rbacv1.ClusterRole
			Expect(k8sClient.Get(ctx, client.ObjectKey{Name: managerRole}, &current)).To(Succeed())
			current.Rules = shipped
			Expect(k8sClient.Update(ctx, &current)).To(Succeed())
			deleteManagerPods()
			Eventually(theManagerPod).WithTimeout(recoveryTimeout).Should(HaveField("Status.Phase", corev1.PodRunning))
		})

		By("removing the pod watch from the manager's role and restarting it")
		role.Rules = slices.DeleteFunc(slices.Clone(shipped), func(r rbacv1.PolicyRule) bool {
			return slices.Contains(r.Resources, "pods")
		})
		Expect(role.Rules).To(HaveLen(len(shipped)-1), "the shipped role has one rule for pods")
		Expect(k8sClient.Update(ctx, &role)).To(Succeed())
		old := deleteManagerPods()

		By("waiting for the new manager to run and fail its readiness probe")
		var pod corev1.Pod
		Eventually(func(g Gomega) {
			pods := podsWith(g, managerPodLabels)
			g.Expect(pods).To(HaveLen(1))
			g.Expect(pods[0].Name).NotTo(BeElementOf(old))
			g.Expect(managerStatus(g, &pods[0]).State.Running).NotTo(BeNil())
			pod = pods[0]
		}).WithTimeout(recoveryTimeout).Should(Succeed())
		Eventually(probeFailures(&pod, managerStatus(Default, &pod).RestartCount)).WithTimeout(time.Minute).
			Should(ContainElement(ContainSubstring("Readiness probe failed")))
		code, body := getFromPod(Default, &pod, 8081, "http://%s/readyz?verbose", "")
		Expect(code).To(Equal(http.StatusInternalServerError), body)
		Expect(body).To(ContainSubstring("[-]informers failed"))
		ready := func(g Gomega) bool {
			var current corev1.Pod
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(&pod), &current)).To(Succeed())
			return podReady(&current)
		}
		// Until it leads, the manager has no pod watch to fail, so it may have
		// been Ready, as a standby is; the kubelet then marks it NotReady only
		// after failureThreshold failed probes.
		Eventually(ready).WithTimeout(time.Minute).Should(BeFalse())
		Consistently(ready).WithTimeout(10 * time.Second).Should(BeFalse())
	})
})

// deleteManagerPods deletes the manager's pods, for its Deployment to replace,
// and returns their names.
func deleteManagerPods() []string {
	var names []string
	for _, pod := range podsWith(Default, managerPodLabels) {
		Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, &pod))).To(Succeed())
		names = append(names, pod.Name)
	}
	return names
}
