//go:build e2e

package e2e

import (
	"net"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/test/builders"
)

// leaseDuration is how long a lease holds without renewal: controller-runtime's
// default, which the manager keeps.
const leaseDuration = 15 * time.Second

// secondReplicaLabels label the pods of the second manager replica that the
// leader election spec runs beside the shipped one.
var secondReplicaLabels = client.MatchingLabels{"control-plane": "controller-manager-second", "app.kubernetes.io/name": "labelgroup-operator"}

var _ = Describe("Two manager replicas with leader election", func() {
	It("let only the leader reconcile, and fail over within the lease duration when its pod is deleted", func() {
		ns := newNamespace()
		token := newMetricsScraper(ns)
		createIn(ns, builders.MakeGroup("web").Label("tier", "web").Obj(), builders.MakePod("web-1").Label("tier", "web").Obj())
		Eventually(membersOf(ns, "web")).Should(Equal([]string{"web-1"}))

		By("starting a second replica")
		startSecondReplica()
		var leader, standby corev1.Pod
		Eventually(func(g Gomega) { leader, standby = leaderAndStandby(g, token) }).WithTimeout(recoveryTimeout).Should(Succeed())

		By("finding that only the leader reconciles")
		createIn(ns, builders.MakePod("web-2").Label("tier", "web").Obj())
		Eventually(membersOf(ns, "web")).Should(Equal([]string{"web-1", "web-2"}))
		Expect(reconciles(Default, &leader, token)).NotTo(BeElementOf("absent", "0"))
		Expect(reconciles(Default, &standby, token)).To(BeElementOf("absent", "0"))
		Expect(sample(scrape(Default, &standby, token), "labelgroup_members", nil)).To(Equal("absent"))

		By("cordoning the nodes, so that the leader's pod is not replaced before the standby can take over")
		cordonNodes()

		By("deleting the leader's pod: the standby takes over and reconciles within the lease duration")
		Expect(k8sClient.Delete(ctx, &leader)).To(Succeed())
		deadline := time.Now().Add(leaseDuration)
		Eventually(func(g Gomega) string { return leading(g, &standby, token) }).
			WithTimeout(time.Until(deadline)).Should(Equal("1"))
		GinkgoWriter.Printf("The standby leads %.1fs after the leader's pod was deleted\n", (leaseDuration - time.Until(deadline)).Seconds())
		// The old leader stopped reconciling before it let the lease go, so
		// only the new one can see this pod.
		createIn(ns, builders.MakePod("web-3").Label("tier", "web").Obj())
		Eventually(membersOf(ns, "web")).WithTimeout(time.Until(deadline)).Should(Equal([]string{"web-1", "web-2", "web-3"}))
		Expect(reconciles(Default, &standby, token)).NotTo(BeElementOf("absent", "0"))
	})
})

// startSecondReplica runs a second replica of the manager as shipped: a copy
// of its Deployment, so the same image, flags, ServiceAccount and lease,
// changed only to listen on other ports (where the manager uses the host's
// network, two replicas on one node cannot share them; on kind the copy
// runs as well). It is deleted after the spec.
func startSecondReplica() {
	var shipped appsv1.Deployment
	Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: managerNamespace, Name: managerDeployment}, &shipped)).To(Succeed())
	second := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: managerNamespace, Name: managerDeployment + "-second"},
		Spec:       *shipped.Spec.DeepCopy(),
	}
	second.Spec.Selector = &metav1.LabelSelector{MatchLabels: secondReplicaLabels}
	second.Spec.Template.Labels = secondReplicaLabels
	shiftPorts(container(second.Spec.Template.Spec.Containers, managerContainer), 1)
	Expect(k8sClient.Create(ctx, second)).To(Succeed())
	DeferCleanup(func() {
		Expect(k8sClient.Delete(ctx, second, client.PropagationPolicy(metav1.DeletePropagationForeground))).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(second), second))
		}).WithTimeout(recoveryTimeout).Should(BeTrue(), "the second replica is gone")
	})
}

// shiftPorts moves every port the manager container listens on by offset:
// in its flags, its declared ports and its probes.
func shiftPorts(c *corev1.Container, offset int32) {
	moved := 0
	for i, arg := range c.Args {
		for _, flag := range []string{"--metrics-bind-address=", "--health-probe-bind-address="} {
			if addr, ok := strings.CutPrefix(arg, flag); ok {
				host, port, err := net.SplitHostPort(addr)
				Expect(err).NotTo(HaveOccurred(), arg)
				p, err := strconv.Atoi(port)
				Expect(err).NotTo(HaveOccurred(), arg)
				c.Args[i] = flag + net.JoinHostPort(host, strconv.Itoa(p+int(offset)))
				moved++
			}
		}
	}
	Expect(moved).To(Equal(2), "the manager's flags %v set both the metrics and the probe address", c.Args)
	for i := range c.Ports {
		c.Ports[i].ContainerPort += offset
		if c.Ports[i].HostPort != 0 {
			c.Ports[i].HostPort += offset
		}
	}
	for _, probe := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe} {
		probe.HTTPGet.Port = intstr.FromInt32(probe.HTTPGet.Port.IntVal + offset)
	}
}

// leaderAndStandby returns the two ready manager pods, the leader first, as
// each reports itself in leader_election_master_status.
func leaderAndStandby(g Gomega, token string) (corev1.Pod, corev1.Pod) {
	var ready []corev1.Pod
	for _, pod := range append(podsWith(g, managerPodLabels), podsWith(g, secondReplicaLabels)...) {
		if pod.DeletionTimestamp == nil && podReady(&pod) {
			ready = append(ready, pod)
		}
	}
	g.Expect(ready).To(HaveLen(2), "ready manager pods")
	first, second := leading(g, &ready[0], token), leading(g, &ready[1], token)
	g.Expect([]string{first, second}).To(ConsistOf("1", "0"), "one leader, one standby")
	if first == "1" {
		return ready[0], ready[1]
	}
	return ready[1], ready[0]
}

// leading reads whether a manager pod holds the lease: "1" when it does, "0" when it waits.
func leading(g Gomega, pod *corev1.Pod, token string) string {
	return sample(scrape(g, pod, token), "leader_election_master_status", map[string]string{"name": leaderElectionID})
}

// reconciles reads how many reconciles the LabelGroup controller of a manager pod ran.
func reconciles(g Gomega, pod *corev1.Pod, token string) string {
	return sample(scrape(g, pod, token), "controller_runtime_reconcile_total", map[string]string{"controller": "labelgroup"})
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
