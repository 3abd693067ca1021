package lifecycle

import (
	"io"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/labelgroup/labelgroup-operator/internal/readiness"
)

// probe returns the HTTP status of a GET of url, 0 when nothing answers.
func probe(url string) func() int {
	return func() int {
		resp, err := http.Get(url)
		if err != nil {
			return 0
		}
		defer func() { _ = resp.Body.Close() }()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
}

var _ = Describe("/readyz", func() {
	It("fails while the manager may not watch pods, and passes once it may", func() {
		user, err := testEnv.AddUser(envtest.User{Name: "labelgroup-operator-readyz"}, nil)
		Expect(err).NotTo(HaveOccurred())
		// What config/rbac grants, without pods.
		role := &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: "labelgroup-readyz"},
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{"grouping.labelgroup.io"}, Resources: []string{"labelgroups"}, Verbs: []string{"get", "list", "watch"}},
				{APIGroups: []string{"grouping.labelgroup.io"}, Resources: []string{"labelgroups/status"}, Verbs: []string{"patch"}},
				{APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
			},
		}
		Expect(k8sClient.Create(ctx, role)).To(Succeed())
		DeferCleanup(func() { _ = k8sClient.Delete(ctx, role) })
		binding := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "labelgroup-readyz"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "labelgroup-operator-readyz"}},
		}
		Expect(k8sClient.Create(ctx, binding)).To(Succeed())
		DeferCleanup(func() { _ = k8sClient.Delete(ctx, binding) })

		readyz, watches, stop := startManager(user.Config())
		defer stop()
		// Its probe server answers, and says not ready, through several of
		// client-go's retries of the forbidden list.
		Eventually(probe(readyz), 30*time.Second).Should(Equal(http.StatusInternalServerError))
		Consistently(probe(readyz), 5*time.Second).Should(Equal(http.StatusInternalServerError))

		By("granting the pod watch")
		role.Rules = append(role.Rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch"}})
		Expect(k8sClient.Update(ctx, role)).To(Succeed())
		// The reflector's next retry, at most client-go's 30 s backoff cap
		// (plus jitter) later, gets through.
		Eventually(probe(readyz), readiness.RecoveredAfter).Should(Equal(http.StatusOK))
		Expect(watches.Failing()).To(Succeed())
	})
})

var _ = Describe("/readyz of a manager whose caches have synced", func() {
	It("fails while a watch keeps failing, and passes once it gets through again", func() {
		readyz, watches, stop := startManager(testEnv.Config)
		defer stop()
		Eventually(probe(readyz), 30*time.Second).Should(Equal(http.StatusOK))

		By("removing the LabelGroup CRD: the API server ends the watch and every relist fails")
		var crd apiextensionsv1.CustomResourceDefinition
		Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "labelgroups.grouping.labelgroup.io"}, &crd)).To(Succeed())
		Expect(k8sClient.Delete(ctx, &crd)).To(Succeed())
		crd.ObjectMeta = metav1.ObjectMeta{Name: crd.Name}
		crd.Status = apiextensionsv1.CustomResourceDefinitionStatus{}
		reinstall := func() {
			if err := k8sClient.Create(ctx, crd.DeepCopy()); err != nil && !apierrors.IsAlreadyExists(err) {
				Expect(err).NotTo(HaveOccurred())
			}
			Expect(envtest.WaitForCRDs(testEnv.Config, []*apiextensionsv1.CustomResourceDefinition{&crd}, envtest.CRDInstallOptions{MaxTime: 30 * time.Second, PollInterval: 100 * time.Millisecond})).To(Succeed())
		}
		// The other specs of the suite need the CRD, whatever happens here.
		DeferCleanup(reinstall)
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(&crd), &apiextensionsv1.CustomResourceDefinition{}))
		}, 30*time.Second).Should(BeTrue())
		Eventually(probe(readyz), time.Minute).Should(Equal(http.StatusInternalServerError))
		// Polled rather than read once after the probe: the reflector's state
		// moves between the two reads.
		Eventually(watches.Failing, time.Minute).Should(MatchError(ContainSubstring("watch of *v1alpha1.LabelGroup failed")))

		By("installing the CRD again")
		reinstall()
		// The reflector's next relist, at most client-go's backoff cap (30 s,
		// plus jitter) later, gets through and moves its resource version.
		Eventually(probe(readyz), readiness.RecoveredAfter).Should(Equal(http.StatusOK))
		Expect(watches.Failing()).To(Succeed())
	})
})
