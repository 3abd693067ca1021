//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/test/builders"
)

// memberMetadataComponent turns stamping on, as config/member-metadata does
// on top of config/default.
const memberMetadataComponent = "config/components/member-metadata"

// The specs run in order: first the operator as shipped, then with the
// component added to the configuration the suite deployed, which the last
// step puts back. The running pod they stamp is the manager's own: it is the
// one pod every cluster this suite runs on can run without pulling an image.
var _ = Describe("Member metadata, an opt-in", Ordered, func() {
	// stampingGroup selects the manager's pod and stamps a label and an annotation.
	stampingGroup := func() *v1alpha1.LabelGroup {
		b := builders.MakeGroup("manager-team").Namespace(managerNamespace).
			StampLabel("team", "platform").StampAnnotation("example.com/cost-center", "cc-1234")
		for k, v := range managerPodLabels {
			b.Label(k, v)
		}
		return b.Obj()
	}
	// deleteGroup deletes the group and waits until it is gone: with stamping
	// on, only once the manager released what it stamped.
	deleteGroup := func() {
		group := stampingGroup()
		Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, group))).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(group), group))
		}).Should(BeTrue(), "the group is still there, its finalizers: %v", group.Finalizers)
	}

	It("is refused by the shipped RBAC, and a group says stamping is off", func() {
		pod := theManagerPod(Default)
		By("applying a label to the manager's pod as the manager's ServiceAccount")
		err := asManager().Apply(ctx, corev1ac.Pod(pod.Name, managerNamespace).WithLabels(map[string]string{"team": "platform"}), client.FieldOwner("labelgroup.io/manager-team"))
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "want Forbidden without the component, got %v", err)

		Expect(k8sClient.Create(ctx, stampingGroup())).To(Succeed())
		DeferCleanup(deleteGroup)
		Eventually(conditionOf(managerNamespace, "manager-team", v1alpha1.ConditionMetadataApplied)).Should(Equal("False/StampingDisabled"))
		Expect(podLabels(managerNamespace, pod.Name)(Default)).NotTo(HaveKey("team"))
	})

	It("stamps the running pod once the component is applied as shipped, and releases it with the group", func() {
		overlay := writeOverlayWithComponent()
		By("applying " + overlay + ": " + kustomizeDir + " with " + memberMetadataComponent)
		stderr, err := kubectl("", "apply", "-k", overlay)
		Expect(err).NotTo(HaveOccurred(), stderr)
		DeferCleanup(func() {
			By("putting back " + kustomizeDir + " and removing the component's role")
			stderr, err := kubectl("", "apply", "-k", kustomizeDir)
			Expect(err).NotTo(HaveOccurred(), stderr)
			stderr, err = kubectl("", "delete", "--ignore-not-found", "clusterrolebinding,clusterrole", "labelgroup-operator-member-metadata")
			Expect(err).NotTo(HaveOccurred(), stderr)
		})
		var pod corev1.Pod
		Eventually(func(g Gomega) []string {
			pod = theManagerPod(g)
			return container(pod.Spec.Containers, managerContainer).Args
		}).WithTimeout(recoveryTimeout).Should(ContainElement("--enable-member-metadata"))

		Expect(k8sClient.Create(ctx, stampingGroup())).To(Succeed())
		DeferCleanup(deleteGroup) // before the component goes, while the manager may still release
		Eventually(podLabels(managerNamespace, pod.Name)).Should(HaveKeyWithValue("team", "platform"))
		Eventually(conditionOf(managerNamespace, "manager-team", v1alpha1.ConditionMetadataApplied)).Should(Equal("True/Applied"))
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(&pod), &pod)).To(Succeed())
		Expect(pod.Status.Phase).To(Equal(corev1.PodRunning))
		Expect(pod.Annotations).To(HaveKeyWithValue("example.com/cost-center", "cc-1234"))
		Expect(labelManagers(&pod, "team")).To(Equal([]string{"labelgroup.io/manager-team"}))

		By("deleting the group: the manager releases what it stamped, then lets it go")
		deleteGroup()
		Expect(podLabels(managerNamespace, pod.Name)(Default)).NotTo(HaveKey("team"))
	})
})

// asManager returns a client that acts as the manager's ServiceAccount.
func asManager() client.Client {
	cfg := rest.CopyConfig(restConfig)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + managerNamespace + ":" + managerServiceAccount}
	c, err := client.New(cfg, client.Options{Scheme: k8sClient.Scheme()})
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return c
}

// writeOverlayWithComponent writes, under bin/, a kustomization that adds the
// component to the configuration the suite deployed, and returns its path
// relative to the repository.
func writeOverlayWithComponent() string {
	dir := filepath.Join("bin", "e2e-member-metadata")
	ExpectWithOffset(1, os.MkdirAll(filepath.Join(repoRoot, dir), 0o755)).To(Succeed())
	kustomization := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n" +
		"resources:\n- ../../" + kustomizeDir + "\ncomponents:\n- ../../" + memberMetadataComponent + "\n"
	ExpectWithOffset(1, os.WriteFile(filepath.Join(repoRoot, dir, "kustomization.yaml"), []byte(kustomization), 0o644)).To(Succeed())
	return dir
}

func podLabels(namespace, name string) func(Gomega) map[string]string {
	return func(g Gomega) map[string]string {
		var pod corev1.Pod
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &pod)).To(Succeed())
		return pod.Labels
	}
}

// labelManagers lists the field managers that own a label of pod.
func labelManagers(pod *corev1.Pod, key string) []string {
	var managers []string
	for _, e := range pod.ManagedFields {
		var fields map[string]map[string]map[string]any
		ExpectWithOffset(1, json.Unmarshal(e.FieldsV1.Raw, &fields)).To(Succeed())
		if _, ok := fields["f:metadata"]["f:labels"]["f:"+key]; ok {
			managers = append(managers, e.Manager)
		}
	}
	slices.Sort(managers)
	return managers
}
