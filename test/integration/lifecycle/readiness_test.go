package lifecycle

import (
	"io"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

		readyz, stop := startManager(user.Config())
		defer stop()
		// Its probe server answers, and says not ready, through several of
		// client-go's retries of the forbidden list.
		Eventually(probe(readyz), 10*time.Second).Should(Equal(http.StatusInternalServerError))
		Consistently(probe(readyz), 5*time.Second).Should(Equal(http.StatusInternalServerError))

		By("granting the pod watch")
		role.Rules = append(role.Rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch"}})
		Expect(k8sClient.Update(ctx, role)).To(Succeed())
		// The reflector's next retry, at most client-go's 30 s backoff cap
		// (plus jitter) later, gets through.
		Eventually(probe(readyz), readiness.RecoveredAfter).Should(Equal(http.StatusOK))
	})
})
