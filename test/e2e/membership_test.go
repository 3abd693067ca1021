//go:build e2e

package e2e

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/labelgroup/labelgroup-operator/test/builders"
)

var _ = Describe("Membership", func() {
	It("follows pods created, relabelled and deleted, and status.selector lists the members", func() {
		ns := newNamespace()
		createIn(ns,
			builders.MakeGroup("web").Label("tier", "web").In("env", "prod", "qa").Obj(),
			builders.MakePod("a").Label("tier", "web").Label("env", "prod").Obj(),
			builders.MakePod("b").Label("tier", "web").Label("env", "dev").Obj(),
			builders.MakePod("c").Label("tier", "db").Label("env", "prod").Obj(),
		)
		Eventually(membersOf(ns, "web")).Should(Equal([]string{"a"}))
		expectSelectorListsMembers(ns, "web")

		By("creating a pod that matches")
		createIn(ns, builders.MakePod("d").Label("tier", "web").Label("env", "qa").Obj())
		Eventually(membersOf(ns, "web")).Should(Equal([]string{"a", "d"}))

		By("relabelling one pod into the group and one out of it")
		Expect(setLabel(ns, "b", "env", "qa")).To(Succeed())
		Expect(setLabel(ns, "a", "tier", "db")).To(Succeed())
		Eventually(membersOf(ns, "web")).Should(Equal([]string{"b", "d"}))
		expectSelectorListsMembers(ns, "web")

		By("deleting a member")
		deletePod(ns, "d")
		Eventually(statusOf(ns, "web")).Should(And(
			HaveField("Members", Equal([]string{"b"})),
			HaveField("MemberCount", BeEquivalentTo(1)),
		))
		expectSelectorListsMembers(ns, "web")
	})
})

// expectSelectorListsMembers checks that a group's status.selector, given to
// the API server as `kubectl get pods -l` gives it (the string, unparsed),
// lists exactly the group's members.
func expectSelectorListsMembers(namespace, group string) {
	status := statusOf(namespace, group)(Default)
	Expect(status.Selector).NotTo(BeEmpty())
	pods, err := clientset.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: status.Selector})
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), "listing pods with -l %q", status.Selector)
	ExpectWithOffset(1, podNames(pods.Items)).To(Equal(status.Members), "pods listed with -l %q", status.Selector)
}
