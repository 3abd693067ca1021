package admission

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/test/builders"
)

// sel builds a selector with the test builders.
func sel(build func(*builders.GroupBuilder) *builders.GroupBuilder) v1alpha1.LabelSelector {
	return build(builders.MakeGroup("")).Obj().Spec.Selector
}

var (
	selectors = v1alpha1.OverlapPolicySelectors
	members   = v1alpha1.OverlapPolicyMembers
)

var _ = Describe("The policy on hand-written pairs", func() {
	var w *worker
	BeforeEach(func() { w = newWorker() })

	DescribeTable("refuses a group exactly when its selector intersects an exclusive group's",
		func(existing v1alpha1.LabelSelector, existingPolicy v1alpha1.OverlapPolicy,
			created v1alpha1.LabelSelector, createdPolicy v1alpha1.OverlapPolicy, wantRefused bool) {
			refused, err := w.verdict(existing, existingPolicy, created, createdPolicy)
			Expect(err).NotTo(HaveOccurred())
			Expect(refused).To(Equal(wantRefused))
			exclusive := existingPolicy == selectors || createdPolicy == selectors
			Expect(refused).To(Equal(exclusive && intersects(existing, created)), "selector.Intersects disagrees with this case")
		},
		Entry("NotIn and DoesNotExist meet where the key is absent",
			sel(func(b *builders.GroupBuilder) *builders.GroupBuilder { return b.Expression("env", "NotIn", "qa") }), selectors,
			sel(func(b *builders.GroupBuilder) *builders.GroupBuilder { return b.Expression("env", "DoesNotExist") }), selectors, true),
		Entry("In(a) and NotIn(a) never meet",
			sel(func(b *builders.GroupBuilder) *builders.GroupBuilder { return b.In("env", "a") }), selectors,
			sel(func(b *builders.GroupBuilder) *builders.GroupBuilder { return b.Expression("env", "NotIn", "a") }), selectors, false),
		Entry("Exists and DoesNotExist never meet",
			sel(func(b *builders.GroupBuilder) *builders.GroupBuilder { return b.Expression("env", "Exists") }), selectors,
			sel(func(b *builders.GroupBuilder) *builders.GroupBuilder { return b.Expression("env", "DoesNotExist") }), selectors, false),
		Entry("NotIn of some values and Exists meet on another value",
			sel(func(b *builders.GroupBuilder) *builders.GroupBuilder { return b.Expression("env", "NotIn", "a", "b") }), selectors,
			sel(func(b *builders.GroupBuilder) *builders.GroupBuilder { return b.Expression("env", "Exists") }), selectors, true),
		Entry("the empty selector meets the empty selector",
			v1alpha1.LabelSelector{}, selectors, v1alpha1.LabelSelector{}, selectors, true),
		Entry("the empty selector meets any satisfiable selector",
			v1alpha1.LabelSelector{}, members,
			sel(func(b *builders.GroupBuilder) *builders.GroupBuilder {
				return b.Label("tier", "web").Expression("env", "DoesNotExist")
			}), selectors, true),
		Entry("the empty selector does not meet a selector that contradicts itself",
			v1alpha1.LabelSelector{}, selectors,
			sel(func(b *builders.GroupBuilder) *builders.GroupBuilder {
				return b.Label("tier", "web").Expression("tier", "NotIn", "web")
			}), selectors, false),
		Entry("matchLabels and matchExpressions on one key: the label's value is outside the In",
			sel(func(b *builders.GroupBuilder) *builders.GroupBuilder { return b.Label("tier", "web") }), selectors,
			sel(func(b *builders.GroupBuilder) *builders.GroupBuilder { return b.In("tier", "db", "api") }), members, false),
		Entry("matchLabels and matchExpressions on one key: the label's value survives In and NotIn",
			sel(func(b *builders.GroupBuilder) *builders.GroupBuilder {
				return b.Label("tier", "web").Expression("env", "Exists")
			}), members,
			sel(func(b *builders.GroupBuilder) *builders.GroupBuilder {
				return b.In("tier", "web", "db").Expression("tier", "NotIn", "db")
			}), selectors, true),
		Entry("two matchLabels values of one key never meet",
			sel(func(b *builders.GroupBuilder) *builders.GroupBuilder { return b.Label("tier", "web") }), selectors,
			sel(func(b *builders.GroupBuilder) *builders.GroupBuilder { return b.Label("tier", "db") }), selectors, false),
		Entry("the empty value is a value",
			sel(func(b *builders.GroupBuilder) *builders.GroupBuilder { return b.Label("tier", "") }), selectors,
			sel(func(b *builders.GroupBuilder) *builders.GroupBuilder { return b.In("tier", "", "web") }), selectors, true),
		Entry("two Members groups may overlap",
			v1alpha1.LabelSelector{}, members, v1alpha1.LabelSelector{}, members, false),
	)

	It("refuses with reason Forbidden and a message naming the other group and why", func() {
		ns := newNamespace("cases")
		existing := exclusive("frontend", ns).Label("tier", "web").Obj()
		Expect(k8sClient.Create(ctx, existing)).To(Succeed())
		Expect(w.Sync()).To(Succeed())

		err := tryCreate(builders.MakeGroup("web").Namespace(ns).In("tier", "web", "db").Obj())
		Expect(apierrors.ReasonForError(err)).To(Equal(metav1.StatusReasonForbidden))
		Expect(err.Error()).To(Equal(`labelgroups.grouping.labelgroup.io "web" is forbidden: ` +
			`ValidatingAdmissionPolicy 'labelgroup-exclusive-selectors' with binding 'labelgroup-exclusive-selectors' denied request: ` +
			`its selector intersects the selector of LabelGroup "frontend" (some pod could match both), ` +
			`and overlapPolicy Selectors on "frontend" requires selectors that no pod can match together`))

		err = tryCreate(exclusive("web", ns).Label("tier", "web").Obj())
		Expect(err).To(MatchError(ContainSubstring(`and overlapPolicy Selectors on both groups requires`)))

		Expect(k8sClient.Delete(ctx, existing)).To(Succeed())
		existing = builders.MakeGroup("frontend").Namespace(ns).Label("tier", "web").Obj()
		Expect(k8sClient.Create(ctx, existing)).To(Succeed())
		Expect(w.Sync()).To(Succeed())
		err = tryCreate(exclusive("web", ns).Label("tier", "web").Obj())
		Expect(err).To(MatchError(ContainSubstring(`and overlapPolicy Selectors on this group requires`)))
	})

	It("admits the first group of a namespace, and disjoint exclusive groups", func() {
		ns := newNamespace("cases")
		Expect(k8sClient.Create(ctx, exclusive("web", ns).Label("tier", "web").Obj())).To(Succeed())
		Expect(w.Sync()).To(Succeed())
		Expect(k8sClient.Create(ctx, exclusive("db", ns).Label("tier", "db").Obj())).To(Succeed())
		Expect(w.Sync()).To(Succeed())
		Expect(k8sClient.Create(ctx, exclusive("cache", ns).Label("tier", "cache").Obj())).To(Succeed())
	})

	It("refuses a spec update that makes a group overlap, and admits the group's own updates", func() {
		ns := newNamespace("cases")
		web := exclusive("web", ns).Label("tier", "web").Obj()
		db := exclusive("db", ns).Label("tier", "db").Obj()
		Expect(k8sClient.Create(ctx, web)).To(Succeed())
		Expect(k8sClient.Create(ctx, db)).To(Succeed())
		Expect(w.Sync()).To(Succeed())

		By("changing db's selector to one web's intersects")
		changed := db.DeepCopy()
		changed.Spec.Selector = sel(func(b *builders.GroupBuilder) *builders.GroupBuilder { return b.In("tier", "db", "web") })
		Expect(k8sClient.Update(ctx, changed)).To(BeRefusedNaming("web"))

		By("changing db's selector to another one disjoint from web's")
		changed = db.DeepCopy()
		changed.Spec.Selector = sel(func(b *builders.GroupBuilder) *builders.GroupBuilder { return b.In("tier", "db", "cache") })
		Expect(k8sClient.Update(ctx, changed)).To(Succeed())
	})
})

var _ = Describe("Groups that already overlap (created before the policy)", func() {
	get := func(name string) *v1alpha1.LabelGroup {
		g := &v1alpha1.LabelGroup{}
		ExpectWithOffset(1, k8sClient.Get(ctx, client.ObjectKey{Namespace: overlapping, Name: name}, g)).To(Succeed())
		return g
	}

	It("are refused a spec update that still overlaps", func() {
		frontend := get("frontend")
		frontend.Spec.Selector.MatchExpressions[0].Values = append(frontend.Spec.Selector.MatchExpressions[0].Values, "cache")
		err := k8sClient.Update(ctx, frontend)
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "got %v", err)
	})

	It("take metadata-only updates, finalizers included, and status writes", func() {
		web := get("web")
		web.Labels = map[string]string{"team": "shop"}
		web.Annotations = map[string]string{"example.com/owner": "shop"}
		web.Finalizers = []string{"example.com/hold"}
		Expect(k8sClient.Update(ctx, web)).To(Succeed())

		web.Status.Selector = "tier=web"
		Expect(k8sClient.Status().Update(ctx, web)).To(Succeed())

		By("deleting it: the removal of its finalizer is an update too")
		Expect(k8sClient.Delete(ctx, web)).To(Succeed())
		web = get("web")
		Expect(web.DeletionTimestamp).NotTo(BeNil())
		web.Finalizers = nil
		Expect(k8sClient.Update(ctx, web)).To(Succeed())
	})
})
