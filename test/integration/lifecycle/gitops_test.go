package lifecycle

import (
	"io"
	"os"
	"os/exec"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/test/argocd"
	"github.com/labelgroup/labelgroup-operator/test/builders"
)

// readBack is a group as the API server returns it, defaults included, as
// kstatus and Argo CD see it.
func readBack(g Gomega, namespace, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("LabelGroup"))
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, u)).To(Succeed())
	return u
}

// kstatusOf is what cli-utils' kstatus (Flux, kpt) computes for a group.
func kstatusOf(namespace, name string) func(Gomega) status.Status {
	return func(g Gomega) status.Status {
		result, err := status.Compute(readBack(g, namespace, name))
		g.Expect(err).NotTo(HaveOccurred())
		return result.Status
	}
}

// argoHealthOf is what config/argocd's health check computes for a group.
func argoHealthOf(namespace, name string) func(Gomega) argocd.HealthStatus {
	script, err := os.ReadFile(argocd.HealthScript())
	Expect(err).NotTo(HaveOccurred())
	return func(g Gomega) argocd.HealthStatus {
		health, err := argocd.Health(string(script), readBack(g, namespace, name).Object)
		g.Expect(err).NotTo(HaveOccurred())
		return health
	}
}

var _ = Describe("What GitOps tools read of a LabelGroup", func() {
	It("is in progress until the operator reconciles its generation, current after", func() {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "gitops-"}}
		Expect(k8sClient.Create(ctx, ns)).To(Succeed())
		for _, pod := range []*corev1.Pod{
			builders.MakePod("web-1").Label("tier", "web").Obj(),
			builders.MakePod("web-2").Label("tier", "web").Label("track", "canary").Obj(),
		} {
			pod.Namespace = ns.Name
			Expect(k8sClient.Create(ctx, pod)).To(Succeed())
		}
		web := builders.MakeGroup("web").Namespace(ns.Name).Label("tier", "web").Obj()
		Expect(k8sClient.Create(ctx, web)).To(Succeed())
		canary := builders.MakeGroup("canary").Namespace(ns.Name).Label("track", "canary").Obj()
		Expect(k8sClient.Create(ctx, canary)).To(Succeed())

		By("a group no operator has seen: the API server defaults observedGeneration to 0")
		observed, found, err := unstructured.NestedInt64(readBack(Default, ns.Name, "web").Object, "status", "observedGeneration")
		Expect(err).NotTo(HaveOccurred())
		Expect(found).To(BeTrue(), "status.observedGeneration is missing")
		Expect(observed).To(BeZero())
		Expect(kstatusOf(ns.Name, "web")(Default)).To(Equal(status.InProgressStatus))
		Expect(argoHealthOf(ns.Name, "web")(Default)).To(Equal(argocd.HealthStatus{Status: "Progressing", Message: "Waiting for the labelgroup-operator to reconcile generation 1"}))

		By("the operator reconciles it")
		_, _, stop := startManager(testEnv.Config)
		Eventually(kstatusOf(ns.Name, "web"), 30*time.Second).Should(Equal(status.CurrentStatus))
		Expect(argoHealthOf(ns.Name, "web")(Default)).To(Equal(argocd.HealthStatus{Status: "Healthy", Message: "Selects 2 pods; Overlaps 1 other LabelGroup: canary (1 shared pod)"}))
		Eventually(kstatusOf(ns.Name, "canary")).Should(Equal(status.CurrentStatus))

		kubectl := testEnv.ControlPlane.KubeCtl()
		kubectl.Path, err = exec.LookPath("kubectl")
		Expect(err).NotTo(HaveOccurred(), "make test needs kubectl")
		stdout, stderr, err := kubectl.Run("wait", "--for=condition=Ready", "labelgroups", "--all", "-n", ns.Name, "--timeout=30s")
		Expect(err).NotTo(HaveOccurred(), "kubectl wait: %s", stderr)
		out, err := io.ReadAll(stdout)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(out)).To(ContainSubstring("labelgroup.grouping.labelgroup.io/web condition met"))
		stop()

		By("a spec edit while no operator runs")
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(web), web)).To(Succeed())
		patch := client.MergeFrom(web.DeepCopy())
		web.Spec.Selector.MatchLabels = map[string]v1alpha1.LabelValue{"tier": "db"}
		Expect(k8sClient.Patch(ctx, web, patch)).To(Succeed())
		Consistently(kstatusOf(ns.Name, "web"), 2*time.Second).Should(Equal(status.InProgressStatus))
		Expect(argoHealthOf(ns.Name, "web")(Default)).To(Equal(argocd.HealthStatus{Status: "Progressing", Message: "Waiting for the labelgroup-operator to reconcile generation 2"}))

		By("the operator reconciles the new generation")
		_, _, stop = startManager(testEnv.Config)
		defer stop()
		Eventually(kstatusOf(ns.Name, "web"), 30*time.Second).Should(Equal(status.CurrentStatus))
		Expect(argoHealthOf(ns.Name, "web")(Default)).To(Equal(argocd.HealthStatus{Status: "Healthy", Message: "Selects 0 pods"}))
	})
})
