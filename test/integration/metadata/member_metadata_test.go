package metadata

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/test/builders"
)

const (
	timeout  = 20 * time.Second
	interval = 100 * time.Millisecond
	// replicaSetManager is the field manager a ReplicaSet's pods are created with.
	replicaSetManager = "kube-controller-manager"
)

var _ = Describe("Member metadata", func() {
	var ns string

	BeforeEach(func() {
		ns = newNamespace()
		SetDefaultEventuallyTimeout(timeout)
		SetDefaultEventuallyPollingInterval(interval)
		SetDefaultConsistentlyDuration(2 * time.Second)
	})

	pod := func(name string, keyValues ...string) *builders.PodBuilder {
		b := builders.MakePod(name).Namespace(ns)
		for i := 0; i < len(keyValues); i += 2 {
			b.Label(keyValues[i], keyValues[i+1])
		}
		return b
	}

	It("stamps every member, keeps a pod's own value, and writes nothing more once done", func() {
		createPod(pod("shop-own", "app", "shop", "team", "checkout"), replicaSetManager)
		createPod(pod("shop-bare", "app", "shop"), replicaSetManager)
		createPod(pod("other", "app", "other"), replicaSetManager)
		createGroup(ns, builders.MakeGroup("payments").Label("app", "shop").
			StampLabel("team", "payments").StampAnnotation("example.com/cost-center", "cc-1234"))

		Eventually(labelsOf(ns, "shop-bare")).Should(HaveKeyWithValue("team", "payments"))
		Eventually(annotationsOf(ns, "shop-bare")).Should(HaveKeyWithValue("example.com/cost-center", "cc-1234"))
		Eventually(annotationsOf(ns, "shop-own")).Should(HaveKeyWithValue("example.com/cost-center", "cc-1234"))
		Expect(labelsOf(ns, "shop-own")(Default)).To(HaveKeyWithValue("team", "checkout"), "the pod's own value must win")
		Expect(labelsOf(ns, "other")(Default)).NotTo(HaveKey("team"), "a non-member must not be stamped")

		Eventually(metadataStatus(ns, "payments")).Should(Equal(&v1alpha1.MemberMetadataStatus{
			MembersComplete: 1,
			KeptByMember:    1,
			Kept:            []v1alpha1.KeptKey{{Pod: "shop-own", Kind: v1alpha1.MetadataKindLabel, Key: "team"}},
		}))
		Expect(condition(ns, "payments", v1alpha1.ConditionMetadataApplied)(Default)).To(Equal("True/MemberValuesKept"))
		Expect(conditionMessage(ns, "payments", v1alpha1.ConditionMetadataApplied)(Default)).To(ContainSubstring("label team of pod shop-own"))
		Expect(groupOf(ns, "payments")(Default).Finalizers).To(ContainElement(v1alpha1.FinalizerReleaseMetadata))

		By("showing who owns what in the pods' managed fields")
		Expect(managersOf(ns, "shop-bare", "f:labels", "team")(Default)).To(Equal([]string{"labelgroup.io/payments"}))
		Expect(managersOf(ns, "shop-own", "f:labels", "team")(Default)).To(Equal([]string{replicaSetManager}))
		Expect(managersOf(ns, "shop-own", "f:annotations", "example.com/cost-center")(Default)).To(Equal([]string{"labelgroup.io/payments"}))

		By("writing neither pods nor status when a reconcile finds nothing new")
		Eventually(eventReasons(ns, "payments")).Should(Equal([]string{v1alpha1.ReasonMemberValuesKept}))
		versions := func(g Gomega) []string {
			return []string{podOf(ns, "shop-own")(g).ResourceVersion, podOf(ns, "shop-bare")(g).ResourceVersion, groupOf(ns, "payments")(g).Status.Conditions[0].LastTransitionTime.String()}
		}
		statusBefore := groupOf(ns, "payments")(Default).Status
		before := versions(Default)
		touch(ns, "payments", "1")
		Consistently(versions).Should(Equal(before))
		Expect(groupOf(ns, "payments")(Default).Status).To(Equal(statusBefore))
		Expect(eventReasons(ns, "payments")(Default)).To(Equal([]string{v1alpha1.ReasonMemberValuesKept}), "events on transitions only")
	})

	It("lets the first of two groups keep a key they stamp differently, stably, and shares a key stamped alike", func() {
		createPod(pod("web-1", "tier", "web", "app", "shop"), replicaSetManager)
		createGroup(ns, builders.MakeGroup("alpha").Label("tier", "web").StampLabel("owner", "alpha").StampLabel("zone", "eu"))
		Eventually(labelsOf(ns, "web-1")).Should(HaveKeyWithValue("owner", "alpha"))

		createGroup(ns, builders.MakeGroup("beta").Label("app", "shop").StampLabel("owner", "beta").StampLabel("zone", "eu"))
		Eventually(condition(ns, "beta", v1alpha1.ConditionMetadataApplied)).Should(Equal("False/ConflictsWithGroup"))
		Expect(conditionMessage(ns, "beta", v1alpha1.ConditionMetadataApplied)(Default)).To(ContainSubstring("label owner of pod web-1 (kept by alpha)"))
		Expect(metadataStatus(ns, "beta")(Default)).To(Equal(&v1alpha1.MemberMetadataStatus{
			KeptByGroup: 1,
			Kept:        []v1alpha1.KeptKey{{Pod: "web-1", Kind: v1alpha1.MetadataKindLabel, Key: "owner", KeptBy: "alpha"}},
		}))
		Eventually(managersOf(ns, "web-1", "f:labels", "zone")).Should(Equal([]string{"labelgroup.io/alpha", "labelgroup.io/beta"}))
		Expect(managersOf(ns, "web-1", "f:labels", "owner")(Default)).To(Equal([]string{"labelgroup.io/alpha"}))
		Expect(condition(ns, "alpha", v1alpha1.ConditionMetadataApplied)(Default)).To(Equal("True/Applied"))

		By("keeping the winner across reconciles of both groups")
		for i := range 3 {
			touch(ns, "alpha", fmt.Sprint(i))
			touch(ns, "beta", fmt.Sprint(i))
		}
		Consistently(labelsOf(ns, "web-1")).Should(HaveKeyWithValue("owner", "alpha"))
		Expect(condition(ns, "beta", v1alpha1.ConditionMetadataApplied)(Default)).To(Equal("False/ConflictsWithGroup"))
		Expect(condition(ns, "alpha", v1alpha1.ConditionMetadataApplied)(Default)).To(Equal("True/Applied"))
		Expect(eventReasons(ns, "beta")(Default)).To(ContainElement(v1alpha1.ReasonConflictsWithGroup))
	})

	It("releases exactly what the group owned when a key leaves, a pod leaves and the group is deleted", func() {
		createPod(pod("a", "app", "shop", "team", "checkout"), replicaSetManager)
		createPod(pod("b", "app", "shop"), replicaSetManager)
		createGroup(ns, builders.MakeGroup("payments").Label("app", "shop").
			StampLabel("team", "payments").StampLabel("billing", "yes").StampAnnotation("note", "stamped"))
		Eventually(labelsOf(ns, "b")).Should(And(HaveKeyWithValue("team", "payments"), HaveKeyWithValue("billing", "yes")))
		Eventually(annotationsOf(ns, "a")).Should(HaveKeyWithValue("note", "stamped"))

		By("removing a key from memberMetadata")
		editGroup(ns, "payments", func(g *v1alpha1.LabelGroup) { delete(g.Spec.MemberMetadata.Annotations, "note") })
		Eventually(annotationsOf(ns, "a")).ShouldNot(HaveKey("note"))
		Eventually(annotationsOf(ns, "b")).ShouldNot(HaveKey("note"))
		Expect(labelsOf(ns, "b")(Default)).To(And(HaveKeyWithValue("team", "payments"), HaveKeyWithValue("billing", "yes")))

		By("relabelling a pod out of the group")
		b := podOf(ns, "b")(Default)
		patch := client.MergeFrom(b.DeepCopy())
		b.Labels["app"] = "warehouse"
		Expect(k8sClient.Patch(ctx, b, patch, client.FieldOwner(replicaSetManager))).To(Succeed())
		Eventually(labelsOf(ns, "b")).Should(Equal(map[string]string{"app": "warehouse"}))
		Expect(managersOf(ns, "b", "f:labels", "team")(Default)).To(BeEmpty())

		By("deleting the group")
		Expect(labelsOf(ns, "a")(Default)).To(HaveKeyWithValue("billing", "yes"))
		Expect(k8sClient.Delete(ctx, groupOf(ns, "payments")(Default))).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "payments"}, &v1alpha1.LabelGroup{}))
		}).Should(BeTrue(), "the finalizer must go once the group released what it owned")
		Expect(labelsOf(ns, "a")(Default)).To(Equal(map[string]string{"app": "shop", "team": "checkout"}), "the pod's own labels stay, the group's go")
		for _, e := range podOf(ns, "a")(Default).ManagedFields {
			Expect(e.Manager).NotTo(HavePrefix("labelgroup.io/"))
		}
	})

	It("refuses a label key that a selector of the namespace uses, and says so", func() {
		createPod(pod("web-1", "tier", "web"), replicaSetManager)
		createGroup(ns, builders.MakeGroup("web").Label("tier", "web"))
		createGroup(ns, builders.MakeGroup("canary").In("track", "canary").StampLabel("tier", "canary"))
		createGroup(ns, builders.MakeGroup("all").StampLabel("track", "canary").StampLabel("team", "shop"))

		Eventually(condition(ns, "all", v1alpha1.ConditionMetadataApplied)).Should(Equal("False/LabelKeyInSelector"))
		Expect(conditionMessage(ns, "all", v1alpha1.ConditionMetadataApplied)(Default)).To(ContainSubstring("Not stamping label key track"))
		Eventually(labelsOf(ns, "web-1")).Should(HaveKeyWithValue("team", "shop"))
		Expect(labelsOf(ns, "web-1")(Default)).NotTo(HaveKey("track"))
		Expect(metadataStatus(ns, "all")(Default).RefusedLabelKeys).To(Equal([]string{"track"}))
		Expect(condition(ns, "canary", v1alpha1.ConditionMetadataApplied)(Default)).To(Equal("False/LabelKeyInSelector"))
		Consistently(func(g Gomega) []string { return groupOf(ns, "canary")(g).Status.Members }).Should(BeEmpty())

		By("releasing a stamped label key once a selector starts using it")
		createGroup(ns, builders.MakeGroup("teams").Expression("team", v1alpha1.LabelSelectorOpExists))
		Eventually(labelsOf(ns, "web-1")).ShouldNot(HaveKey("team"))
		Eventually(metadataStatus(ns, "all")).Should(HaveField("RefusedLabelKeys", Equal([]string{"team", "track"})))
	})

	It("leaves a group without memberMetadata as it always was", func() {
		createPod(pod("web-1", "tier", "web"), replicaSetManager)
		createGroup(ns, builders.MakeGroup("web").Label("tier", "web"))
		Eventually(func(g Gomega) []string { return groupOf(ns, "web")(g).Status.Members }).Should(Equal([]string{"web-1"}))
		group := groupOf(ns, "web")(Default)
		Expect(group.Finalizers).To(BeEmpty())
		Expect(group.Status.MemberMetadata).To(BeNil())
		Expect(condition(ns, "web", v1alpha1.ConditionMetadataApplied)(Default)).To(BeEmpty())
		for _, e := range podOf(ns, "web-1")(Default).ManagedFields {
			Expect(e.Manager).NotTo(HavePrefix("labelgroup.io/"))
		}
	})

	It("caps the examples of kept keys and keeps the counts exact", func() {
		for i := range 12 {
			createPod(pod(fmt.Sprintf("p%02d", i), "app", "shop", "team", "own"), replicaSetManager)
		}
		createGroup(ns, builders.MakeGroup("payments").Label("app", "shop").StampLabel("team", "payments"))
		Eventually(metadataStatus(ns, "payments")).Should(And(
			Not(BeNil()),
			HaveField("KeptByMember", BeEquivalentTo(12)),
			HaveField("Kept", HaveLen(v1alpha1.MaxKeptExamples)),
		))
	})

	It("stamps a long-named group with a shortened field manager", func() {
		name := "g" + fmt.Sprintf("%0252d", 0)
		createPod(pod("web-1", "tier", "web"), replicaSetManager)
		createGroup(ns, builders.MakeGroup(name).Label("tier", "web").StampLabel("team", "x"))
		Eventually(labelsOf(ns, "web-1")).Should(HaveKeyWithValue("team", "x"))
		managers := managersOf(ns, "web-1", "f:labels", "team")(Default)
		Expect(managers).To(HaveLen(1))
		Expect(managers[0]).To(And(HavePrefix("labelgroup.io/g000"), HaveLen(128)))
		Eventually(condition(ns, name, v1alpha1.ConditionMetadataApplied)).Should(Equal("True/Applied"))
	})
})
