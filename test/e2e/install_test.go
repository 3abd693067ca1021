//go:build e2e

package e2e

import (
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

var _ = Describe("The operator as shipped", func() {
	It("installs with kubectl apply -k, passes its probes and reconciles the samples", func() {
		By("applying " + kustomizeDir + " with kubectl apply -k")
		stderr, err := kubectl("", "apply", "-k", kustomizeDir)
		Expect(err).NotTo(HaveOccurred(), stderr)

		By("waiting for the Deployment to be Available: the readiness probe passes")
		var pod corev1.Pod
		Eventually(func(g Gomega) { pod = theManagerPod(g) }).WithTimeout(recoveryTimeout).Should(Succeed())
		Expect(pod.Spec.ServiceAccountName).To(Equal(managerServiceAccount))

		expectProbesPass(&pod)

		By("applying the samples and waiting for every LabelGroup to be Ready")
		ns := newNamespace()
		stderr, err = kubectl("", "apply", "-n", ns, "-f", "config/samples/")
		Expect(err).NotTo(HaveOccurred(), stderr)
		stderr, err = kubectl("", "wait", "-n", ns, "--for=condition=Ready", "labelgroups", "--all", "--timeout=60s")
		Expect(err).NotTo(HaveOccurred(), stderr)

		By("finding what the README promises for the samples")
		Eventually(membersOf(ns, "frontend")).Should(Equal([]string{"web-1", "web-2", "web-qa"}))
		Eventually(membersOf(ns, "production")).Should(Equal([]string{"api-1", "cache-1", "web-1", "web-2"}))
		Eventually(membersOf(ns, "qa-backend")).Should(Equal([]string{"api-qa"}))
		Eventually(conditionOf(ns, "frontend", v1alpha1.ConditionOverlapping)).Should(Equal("True/MembersShared"))
		Eventually(conditionOf(ns, "canary", v1alpha1.ConditionOverlapping)).Should(Equal("True/SelectorsIntersect"))
		Eventually(conditionOf(ns, "qa-backend", v1alpha1.ConditionOverlapping)).Should(Equal("False/NoOverlap"))
	})
})

// expectProbesPass sends the manager's probes as the kubelet does, then
// watches the pod until its liveness probe has run: no failure, no restart.
func expectProbesPass(pod *corev1.Pod) {
	By("probing the manager as the kubelet does")
	manager := container(pod.Spec.Containers, managerContainer)
	for _, probe := range []*corev1.Probe{manager.LivenessProbe, manager.ReadinessProbe} {
		code, body := getFromPod(Default, pod, probe.HTTPGet.Port.IntVal, "http://%s"+probe.HTTPGet.Path, "")
		ExpectWithOffset(1, code).To(Equal(http.StatusOK), "GET %s: %s", probe.HTTPGet.Path, body)
	}

	By("watching the manager until its liveness probe has run: no failure, no restart")
	running := managerStatus(Default, pod)
	ExpectWithOffset(1, running.State.Running).NotTo(BeNil())
	firstLivenessProbe := running.State.Running.StartedAt.Add(
		time.Duration(manager.LivenessProbe.InitialDelaySeconds+manager.LivenessProbe.PeriodSeconds) * time.Second)
	ConsistentlyWithOffset(1, probeFailures(pod, running.RestartCount)).
		WithTimeout(max(time.Until(firstLivenessProbe), pollInterval)).Should(BeEmpty())
}

// container returns the container of a pod spec with the given name.
func container(containers []corev1.Container, name string) *corev1.Container {
	for i := range containers {
		if containers[i].Name == name {
			return &containers[i]
		}
	}
	Fail("no container " + name)
	return nil
}

// probeFailures returns a function that lists what shows a failing probe of
// the manager's pod: the kubelet's Unhealthy events about it, and a restart
// of its manager container since it had restarts restarts.
func probeFailures(pod *corev1.Pod, restarts int32) func(Gomega) []string {
	return func(g Gomega) []string {
		var failures []string
		var events eventsv1.EventList
		g.Expect(k8sClient.List(ctx, &events, client.InNamespace(pod.Namespace))).To(Succeed())
		for _, e := range events.Items {
			if e.Regarding.Name == pod.Name && e.Reason == "Unhealthy" {
				failures = append(failures, e.Note)
			}
		}
		var current corev1.Pod
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(pod), &current)).To(Succeed())
		if status := managerStatus(g, &current); status.RestartCount != restarts {
			failures = append(failures, "the manager container restarted")
		}
		return failures
	}
}
