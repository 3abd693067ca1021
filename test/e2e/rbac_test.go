//go:build e2e

package e2e

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/test/builders"
)

// The operator's admin, editor and viewer ClusterRoles carry the
// aggregate-to labels, so kube-controller-manager's clusterrole-aggregation
// controller adds their rules to the built-in admin, edit and view roles
// that namespace users are usually given.
var _ = Describe("Namespace users with the built-in roles", func() {
	It("may create LabelGroups with edit, and only read them with view", func() {
		ns := newNamespace()
		editor := userBoundTo(ns, "editor", "edit")
		viewer := userBoundTo(ns, "viewer", "view")
		createIn(ns, builders.MakeGroup("existing").Label("tier", "web").Obj())

		By("creating a LabelGroup as a ServiceAccount bound only to edit")
		Eventually(func() error {
			return editor.Create(ctx, builders.MakeGroup("by-editor").Namespace(ns).Label("tier", "db").Obj())
		}).WithTimeout(statusTimeout).Should(Succeed(), "edit aggregates the rules of labelgroup-operator-labelgroup-editor-role")

		By("reading LabelGroups as a ServiceAccount bound only to view")
		Eventually(func() error {
			var groups v1alpha1.LabelGroupList
			return viewer.List(ctx, &groups, client.InNamespace(ns))
		}).WithTimeout(statusTimeout).Should(Succeed(), "view aggregates the rules of labelgroup-operator-labelgroup-viewer-role")
		var group v1alpha1.LabelGroup
		Expect(viewer.Get(ctx, client.ObjectKey{Namespace: ns, Name: "existing"}, &group)).To(Succeed())

		By("failing to create or delete one as the viewer")
		err := viewer.Create(ctx, builders.MakeGroup("by-viewer").Namespace(ns).Label("tier", "db").Obj())
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "creating as the viewer: %v", err)
		err = viewer.Delete(ctx, &group)
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "deleting as the viewer: %v", err)

		By("failing to write a status as the editor: status is the operator's")
		group.Status.MemberCount = 42
		err = editor.Status().Update(ctx, &group)
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "updating the status as the editor: %v", err)
	})
})

// userBoundTo creates a ServiceAccount in ns, binds it there to the built-in
// ClusterRole clusterRole with a RoleBinding, and returns a client that
// impersonates it (as its token would authenticate: its user name and the
// ServiceAccount groups).
func userBoundTo(ns, name, clusterRole string) client.Client {
	createIn(ns,
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}},
		&rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRole},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: ns}},
		})
	config := rest.CopyConfig(restConfig)
	config.Impersonate = rest.ImpersonationConfig{
		UserName: serviceaccount.MakeUsername(ns, name),
		Groups:   serviceaccount.MakeGroupNames(ns),
	}
	c, err := client.New(config, client.Options{Scheme: k8sClient.Scheme()})
	Expect(err).NotTo(HaveOccurred())
	return c
}
