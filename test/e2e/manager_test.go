//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The operator's names as config/default ships them.
const (
	managerNamespace      = "labelgroup-operator-system"
	managerDeployment     = "labelgroup-operator-controller-manager"
	managerServiceAccount = "labelgroup-operator-controller-manager"
	managerContainer      = "manager"
	metricsReaderRole     = "labelgroup-operator-metrics-reader"
	leaderElectionID      = "labelgroup-operator.grouping.labelgroup.io"
	metricsPortName       = "https-metrics"
	metricsService        = "labelgroup-operator-controller-manager-metrics-service"
)

// managerPodLabels are the shipped Deployment's selector.
var managerPodLabels = client.MatchingLabels{"control-plane": "controller-manager", "app.kubernetes.io/name": "labelgroup-operator"}

// theManagerPod returns the manager's pod once its Deployment has rolled out,
// is Available, and has exactly one pod, ready, and none terminating.
func theManagerPod(g Gomega) corev1.Pod {
	var deployment appsv1.Deployment
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: managerNamespace, Name: managerDeployment}, &deployment)).To(Succeed())
	g.Expect(deployment.Status.ObservedGeneration).To(Equal(deployment.Generation), "the Deployment's rollout is observed")
	g.Expect(deploymentCondition(&deployment, appsv1.DeploymentAvailable)).To(Equal(corev1.ConditionTrue), "the Deployment is Available")
	pods := podsWith(g, managerPodLabels)
	g.Expect(pods).To(HaveLen(1), "the manager's pods")
	g.Expect(podReady(&pods[0])).To(BeTrue(), "the manager's pod %s is ready", pods[0].Name)
	return pods[0]
}

// podsWith lists the pods of the manager's namespace that carry labels.
func podsWith(g Gomega, labels client.MatchingLabels) []corev1.Pod {
	var pods corev1.PodList
	g.Expect(k8sClient.List(ctx, &pods, client.InNamespace(managerNamespace), labels)).To(Succeed())
	return pods.Items
}

func deploymentCondition(d *appsv1.Deployment, conditionType appsv1.DeploymentConditionType) corev1.ConditionStatus {
	for _, c := range d.Status.Conditions {
		if c.Type == conditionType {
			return c.Status
		}
	}
	return corev1.ConditionUnknown
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// managerStatus returns the status of the manager container of a pod.
func managerStatus(g Gomega, pod *corev1.Pod) corev1.ContainerStatus {
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name == managerContainer {
			return cs
		}
	}
	g.Expect(pod.Status.ContainerStatuses).To(ContainElement(HaveField("Name", managerContainer)))
	return corev1.ContainerStatus{}
}

// containerPort returns the port a container of pod declares under name.
func containerPort(g Gomega, pod *corev1.Pod, name string) int32 {
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.Name == name {
				return p.ContainerPort
			}
		}
	}
	g.Expect(name).To(BeEmpty(), "pod %s declares no port named %s", pod.Name, name)
	return 0
}

// killContainer SIGKILLs a container through the node's container runtime,
// the way the OOM killer or a crash ends a process: without a chance to
// release the lease or finish a write. Where the runtime is depends on where
// the cluster runs, which the environment says.
func killContainer(containerID string) {
	id, ok := strings.CutPrefix(containerID, "containerd://")
	Expect(ok).To(BeTrue(), "only containerd's containers can be killed here, not %s", containerID)
	cluster := os.Getenv("KIND_CLUSTER")
	if cluster == "" {
		Fail("cannot reach the node's container runtime: set KIND_CLUSTER to the kind cluster's name")
	}
	// kind's node is a container named <cluster>-control-plane, with ctr inside.
	cmd := exec.Command("docker", "exec", cluster+"-control-plane", "ctr", "-n", "k8s.io", "tasks", "kill", "-s", "SIGKILL", id)
	out, err := cmd.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "%s: %s", cmd, out)
}
