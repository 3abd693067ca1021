//go:build e2e

package e2e

import (
	"os"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/test/builders"
)

// leaseDuration is how long a lease holds without renewal: controller-runtime's
// default, which the manager keeps.
const leaseDuration = 15 * time.Second

// managerPDB is the PodDisruptionBudget of the HA configuration.
const managerPDB = managerDeployment

// Log lines that tell a leader from a standby: client-go's leader election
// logs the first when it gets the lease, controller-runtime the second when
// it starts the controller, which it does only on the leader.
const (
	acquiredLease  = `"msg":"Successfully acquired lease","lock":"` + managerNamespace + "/" + leaderElectionID + `"`
	startedWorkers = "Starting workers"
)

var _ = Describe("The high-availability configuration", func() {
	It("runs two replicas of which only the leader reconciles, lets one be evicted at a time, and fails over within the lease duration", func() {
		ns := newNamespace()
		createIn(ns, builders.MakeGroup("web").Label("tier", "web").Obj(), builders.MakePod("web-1").Label("tier", "web").Obj())
		Eventually(membersOf(ns, "web")).Should(Equal([]string{"web-1"}))

		By("applying " + haKustomizeDir())
		applyHA()
		var leader, standby corev1.Pod
		Eventually(func(g Gomega) { leader, standby = leaderAndStandby(g) }).WithTimeout(recoveryTimeout).Should(Succeed())

		By("finding that only the leader reconciles")
		createIn(ns, builders.MakePod("web-2").Label("tier", "web").Obj())
		Eventually(membersOf(ns, "web")).Should(Equal([]string{"web-1", "web-2"}))
		Expect(managerLog(Default, &standby)).NotTo(ContainSubstring(startedWorkers), "the standby started the controller")

		By("waiting for the PodDisruptionBudget to allow one disruption")
		Eventually(func(g Gomega) int32 {
			var pdb policyv1.PodDisruptionBudget
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: managerNamespace, Name: managerPDB}, &pdb)).To(Succeed())
			return pdb.Status.DisruptionsAllowed
		}).Should(Equal(int32(1)))

		By("cordoning the nodes, so that the leader's pod is not replaced before the standby can take over")
		cordonNodes()

		By("evicting the leader's pod, as a node drain does: allowed")
		Expect(evict(&leader)).To(Succeed())
		deadline := time.Now().Add(leaseDuration)

		By("evicting the standby's pod too: refused while the leader's is gone")
		err := evict(&standby)
		Expect(apierrors.IsTooManyRequests(err)).To(BeTrue(), "evicting the second replica: %v", err)

		By("finding that the standby takes over and reconciles within the lease duration")
		Eventually(func(g Gomega) string { return managerLog(g, &standby) }).
			WithTimeout(time.Until(deadline)).Should(ContainSubstring(acquiredLease))
		GinkgoWriter.Printf("The standby leads %.1fs after the leader's pod was evicted\n", (leaseDuration - time.Until(deadline)).Seconds())
		// The old leader stopped reconciling before it let the lease go, so
		// only the new one can see this pod.
		createIn(ns, builders.MakePod("web-3").Label("tier", "web").Obj())
		Eventually(membersOf(ns, "web")).WithTimeout(time.Until(deadline)).Should(Equal([]string{"web-1", "web-2", "web-3"}))
	})
})

// haKustomizeDir is the HA configuration the spec applies: E2E_HA_KUSTOMIZE_DIR,
// config/ha by default.
func haKustomizeDir() string {
	if dir := os.Getenv("E2E_HA_KUSTOMIZE_DIR"); dir != "" {
		return dir
	}
	return "config/ha"
}

// applyHA applies the HA configuration over the deployed one, and after the
// spec applies the deployed one again and deletes the PodDisruptionBudget
// (kubectl apply does not prune), so the next spec finds one manager pod.
func applyHA() {
	DeferCleanup(func() {
		stderr, err := kubectl("", "apply", "-k", kustomizeDir)
		Expect(err).NotTo(HaveOccurred(), stderr)
		pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: managerNamespace, Name: managerPDB}}
		Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, pdb))).To(Succeed())
	})
	stderr, err := kubectl("", "apply", "-k", haKustomizeDir())
	Expect(err).NotTo(HaveOccurred(), stderr)
}

// leaderAndStandby returns the two manager pods of the HA Deployment once it
// has rolled out (the replaced pods gone), the leader first, as each one's
// log tells.
func leaderAndStandby(g Gomega) (corev1.Pod, corev1.Pod) {
	var deployment appsv1.Deployment
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: managerNamespace, Name: managerDeployment}, &deployment)).To(Succeed())
	g.Expect(deployment.Status.ObservedGeneration).To(Equal(deployment.Generation), "the Deployment's rollout is observed")
	g.Expect(deployment.Status).To(And(HaveField("Replicas", int32(2)), HaveField("UpdatedReplicas", int32(2)),
		HaveField("ReadyReplicas", int32(2))), "the HA Deployment has rolled out")
	ready := podsWith(g, managerPodLabels)
	g.Expect(ready).To(HaveLen(2), "the manager's pods, the replaced ones gone")
	for _, pod := range ready {
		g.Expect(podReady(&pod)).To(BeTrue(), "pod %s is ready", pod.Name)
	}
	first := strings.Contains(managerLog(g, &ready[0]), acquiredLease)
	second := strings.Contains(managerLog(g, &ready[1]), acquiredLease)
	g.Expect([]bool{first, second}).To(ConsistOf(true, false), "one leader, one standby")
	if first {
		return ready[0], ready[1]
	}
	return ready[1], ready[0]
}

// managerLog returns the log of a pod's manager container.
func managerLog(g Gomega, pod *corev1.Pod) string {
	log, err := clientset.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{Container: managerContainer}).DoRaw(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	return string(log)
}

// evict asks the eviction API to evict a pod, as `kubectl drain` does; it
// refuses with 429 Too Many Requests when a PodDisruptionBudget forbids it.
func evict(pod *corev1.Pod) error {
	return clientset.CoreV1().Pods(pod.Namespace).EvictV1(ctx, &policyv1.Eviction{
		ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name},
	})
}

// cordonNodes marks every schedulable node unschedulable, as `kubectl cordon`
// does, until the spec ends. Pods already running stay.
func cordonNodes() {
	var nodes corev1.NodeList
	Expect(k8sClient.List(ctx, &nodes)).To(Succeed())
	for i := range nodes.Items {
		if node := &nodes.Items[i]; !node.Spec.Unschedulable {
			setUnschedulable(node, true)
			DeferCleanup(setUnschedulable, node, false)
		}
	}
}

func setUnschedulable(node *corev1.Node, unschedulable bool) {
	patch := client.MergeFrom(node.DeepCopy())
	node.Spec.Unschedulable = unschedulable
	Expect(k8sClient.Patch(ctx, node, patch)).To(Succeed())
}
