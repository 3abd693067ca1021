package controller

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/test/builders"
)

const (
	timeout  = 20 * time.Second
	interval = 100 * time.Millisecond
)

var _ = Describe("LabelGroup reconciler", func() {
	var ns string

	BeforeEach(func() {
		ns = newNamespace()
		SetDefaultEventuallyTimeout(timeout)
		SetDefaultEventuallyPollingInterval(interval)
	})

	members := func(name string) func(g Gomega) []string {
		return func(g Gomega) []string { return statusOf(ns, name)(g).Members }
	}

	It("follows pods relabelled in and out of the group, and deleted", func() {
		web := createPod(ns, "web-1", "tier", "web")
		createPod(ns, "db-1", "tier", "db")
		createGroup(ns, builders.MakeGroup("web").Label("tier", "web"))

		Eventually(members("web")).Should(Equal([]string{"web-1"}))
		Expect(condition(ns, "web", "Ready")(Default)).To(Equal("True/Reconciled"))

		db := &corev1.Pod{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "db-1"}, db)).To(Succeed())
		relabel(db, "tier", "web")
		Eventually(members("web")).Should(Equal([]string{"db-1", "web-1"}))

		relabel(web, "tier", "cache")
		Eventually(members("web")).Should(Equal([]string{"db-1"}))

		Expect(k8sClient.Delete(ctx, db)).To(Succeed())
		Eventually(statusOf(ns, "web")).Should(And(
			HaveField("MemberCount", BeZero()),
			HaveField("Members", BeEmpty()),
		))
	})

	It("keeps a pod that is being deleted as a member until it is gone", func() {
		pod := createPod(ns, "web-1", "tier", "web")
		createGroup(ns, builders.MakeGroup("web").Label("tier", "web"))
		Eventually(members("web")).Should(Equal([]string{"web-1"}))

		// A finalizer holds the pod in Terminating, as a kubelet does during its
		// grace period.
		patch := client.MergeFrom(pod.DeepCopy())
		pod.Finalizers = []string{"example.com/hold"}
		Expect(k8sClient.Patch(ctx, pod, patch)).To(Succeed())
		Expect(k8sClient.Delete(ctx, pod)).To(Succeed())
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(pod), pod)).To(Succeed())
		Expect(pod.DeletionTimestamp).NotTo(BeNil())
		Consistently(members("web"), 2*time.Second).Should(Equal([]string{"web-1"}))

		patch = client.MergeFrom(pod.DeepCopy())
		pod.Finalizers = nil
		Expect(k8sClient.Patch(ctx, pod, patch)).To(Succeed())
		Eventually(members("web")).Should(BeEmpty())
	})

	It("follows an edited selector and records the generation it saw", func() {
		createPod(ns, "web-1", "tier", "web", "env", "prod")
		createPod(ns, "web-2", "tier", "web", "env", "qa")
		group := createGroup(ns, builders.MakeGroup("web").Label("tier", "web"))
		Eventually(members("web")).Should(HaveLen(2))

		patch := client.MergeFrom(group.DeepCopy())
		group.Spec.Selector.MatchExpressions = []v1alpha1.LabelSelectorRequirement{{Key: "env", Operator: v1alpha1.LabelSelectorOpNotIn, Values: []v1alpha1.LabelValue{"prod"}}}
		Expect(k8sClient.Patch(ctx, group, patch)).To(Succeed())

		Eventually(statusOf(ns, "web")).Should(And(
			HaveField("Members", Equal([]string{"web-2"})),
			HaveField("Selector", Equal("env notin (prod),tier=web")),
			HaveField("ObservedGeneration", Equal(group.Generation)),
		))
		for _, c := range statusOf(ns, "web")(Default).Conditions {
			Expect(c.ObservedGeneration).To(Equal(group.Generation), "condition %s", c.Type)
		}
	})

	It("writes a status.selector that kubectl get pods -l accepts and that lists the members", func() {
		createPod(ns, "a", "tier", "web", "env", "prod")
		createPod(ns, "b", "tier", "web", "env", "dev")
		createPod(ns, "c", "tier", "db", "env", "prod")
		createGroup(ns, builders.MakeGroup("g").Label("tier", "web").Expression("env", v1alpha1.LabelSelectorOpIn, "prod", "qa"))
		Eventually(members("g")).Should(Equal([]string{"a"}))

		selector, err := labels.Parse(statusOf(ns, "g")(Default).Selector)
		Expect(err).NotTo(HaveOccurred())
		var pods corev1.PodList
		Expect(k8sClient.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabelsSelector{Selector: selector})).To(Succeed())
		Expect(pods.Items).To(HaveLen(1))
		Expect(pods.Items[0].Name).To(Equal("a"))
	})

	It("caps status.members at the limit while memberCount stays exact", func() {
		for _, name := range []string{"p5", "p3", "p1", "p4", "p2"} {
			createPod(ns, name, "tier", "web")
		}
		createGroup(ns, builders.MakeGroup("web").Label("tier", "web"))
		Eventually(statusOf(ns, "web")).Should(And(
			HaveField("MemberCount", BeEquivalentTo(5)),
			HaveField("Members", Equal([]string{"p1", "p2", "p3"})),
		))
	})

	It("reports groups that share pods, with events once per transition, and resolves", func() {
		shared := createPod(ns, "shared", "tier", "web", "env", "prod")
		createPod(ns, "other", "tier", "web", "env", "qa")
		createGroup(ns, builders.MakeGroup("web").Label("tier", "web"))
		createGroup(ns, builders.MakeGroup("prod").Label("env", "prod"))

		for _, name := range []string{"web", "prod"} {
			Eventually(condition(ns, name, "Overlapping")).Should(Equal("True/MembersShared"))
		}
		Expect(statusOf(ns, "web")(Default).Overlaps).To(Equal([]v1alpha1.Overlap{{Name: "prod", SharedMembers: 1}}))
		Expect(statusOf(ns, "prod")(Default).Overlaps).To(Equal([]v1alpha1.Overlap{{Name: "web", SharedMembers: 1}}))
		for _, name := range []string{"web", "prod"} {
			Eventually(events(ns, name, v1alpha1.EventOverlapDetected)).Should(HaveLen(1))
			Expect(events(ns, name, v1alpha1.EventOverlapDetected)(Default)[0].Type).To(Equal("Warning"))
			Eventually(metric("labelgroup_overlapping", ns, name)).Should(Equal("1"))
			Eventually(metric("labelgroup_overlaps", ns, name)).Should(Equal("1"))
		}
		Eventually(metric("labelgroup_members", ns, "web")).Should(Equal("2"))

		// More pod changes while the overlap holds are not new transitions.
		createPod(ns, "shared-2", "tier", "web", "env", "prod")
		Eventually(statusOf(ns, "web")).Should(HaveField("Overlaps", Equal([]v1alpha1.Overlap{{Name: "prod", SharedMembers: 2}})))

		// Resolve it: one shared pod is relabelled out of prod, the other deleted.
		relabel(shared, "tier", "web", "env", "qa")
		Expect(k8sClient.Delete(ctx, &corev1.Pod{ObjectMeta: objectMeta(ns, "shared-2")})).To(Succeed())
		for _, name := range []string{"web", "prod"} {
			Eventually(condition(ns, name, "Overlapping")).Should(Equal("False/NoOverlap"))
			Eventually(events(ns, name, v1alpha1.EventOverlapResolved)).Should(HaveLen(1))
			Expect(events(ns, name, v1alpha1.EventOverlapResolved)(Default)[0].Type).To(Equal("Normal"))
			Eventually(metric("labelgroup_overlapping", ns, name)).Should(Equal("0"))
			Expect(statusOf(ns, name)(Default).Overlaps).To(BeEmpty())
		}
		for _, name := range []string{"web", "prod"} {
			Expect(occurrences(events(ns, name, v1alpha1.EventOverlapDetected)(Default))).To(Equal(1), "OverlapDetected for %s", name)
			Consistently(func(g Gomega) int { return occurrences(events(ns, name, v1alpha1.EventOverlapResolved)(g)) }, 2*time.Second).Should(Equal(1), "OverlapResolved for %s", name)
		}
	})

	It("reports intersecting selectors under policy Selectors before any pod is shared", func() {
		createGroup(ns, builders.MakeGroup("strict").Label("tier", "web").Policy(v1alpha1.OverlapPolicySelectors))
		createGroup(ns, builders.MakeGroup("prod").Label("env", "prod"))

		Eventually(condition(ns, "strict", "Overlapping")).Should(Equal("True/SelectorsIntersect"))
		Expect(statusOf(ns, "strict")(Default).Overlaps).To(Equal([]v1alpha1.Overlap{{Name: "prod", SharedMembers: 0}}))
		Eventually(events(ns, "strict", v1alpha1.EventOverlapDetected)).Should(HaveLen(1))
		// prod's own policy is Members: no shared pod, no overlap.
		Eventually(condition(ns, "prod", "Overlapping")).Should(Equal("False/NoOverlap"))

		createPod(ns, "both", "tier", "web", "env", "prod")
		Eventually(condition(ns, "strict", "Overlapping")).Should(Equal("True/MembersShared"))
		Eventually(condition(ns, "prod", "Overlapping")).Should(Equal("True/MembersShared"))

		Expect(k8sClient.Delete(ctx, &corev1.Pod{ObjectMeta: objectMeta(ns, "both")})).To(Succeed())
		var prod v1alpha1.LabelGroup
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "prod"}, &prod)).To(Succeed())
		patch := client.MergeFrom(prod.DeepCopy())
		prod.Spec.Selector.MatchExpressions = []v1alpha1.LabelSelectorRequirement{{Key: "tier", Operator: v1alpha1.LabelSelectorOpDoesNotExist}}
		Expect(k8sClient.Patch(ctx, &prod, patch)).To(Succeed())

		Eventually(condition(ns, "strict", "Overlapping")).Should(Equal("False/NoOverlap"))
		Eventually(events(ns, "strict", v1alpha1.EventOverlapResolved)).Should(HaveLen(1))
		Expect(occurrences(events(ns, "strict", v1alpha1.EventOverlapDetected)(Default))).To(Equal(1))
	})

	It("drops a deleted group from the others' overlaps and from the metrics", func() {
		createPod(ns, "p", "tier", "web")
		createGroup(ns, builders.MakeGroup("a").Label("tier", "web"))
		b := createGroup(ns, builders.MakeGroup("b").Expression("tier", v1alpha1.LabelSelectorOpExists))
		Eventually(statusOf(ns, "a")).Should(HaveField("Overlaps", Equal([]v1alpha1.Overlap{{Name: "b", SharedMembers: 1}})))
		Eventually(metric("labelgroup_members", ns, "b")).Should(Equal("1"))

		Expect(k8sClient.Delete(ctx, b)).To(Succeed())
		Eventually(statusOf(ns, "a")).Should(HaveField("Overlaps", BeEmpty()))
		Eventually(condition(ns, "a", "Overlapping")).Should(Equal("False/NoOverlap"))
		for _, name := range []string{"labelgroup_members", "labelgroup_overlapping", "labelgroup_overlaps"} {
			Eventually(metric(name, ns, "b")).Should(Equal("absent"), name)
			Expect(metric(name, ns, "a")(Default)).NotTo(Equal("absent"), name)
		}
	})

	It("does not write a status that did not change", func() {
		web := createPod(ns, "web-1", "tier", "web")
		createGroup(ns, builders.MakeGroup("web").Label("tier", "web"))
		createGroup(ns, builders.MakeGroup("db").Label("tier", "db"))
		Eventually(members("web")).Should(Equal([]string{"web-1"}))
		Eventually(condition(ns, "db", "Ready")).Should(Equal("True/Reconciled"))

		var db v1alpha1.LabelGroup
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "db"}, &db)).To(Succeed())
		before := db.ResourceVersion

		// Each change reconciles the whole namespace: web's status moves, db's must not.
		relabel(web, "tier", "web", "track", "stable")
		createPod(ns, "web-2", "tier", "web")
		Eventually(members("web")).Should(Equal([]string{"web-1", "web-2"}))
		Consistently(func(g Gomega) string {
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "db"}, &db)).To(Succeed())
			return db.ResourceVersion
		}, 2*time.Second).Should(Equal(before))
	})

	It("is Current for kstatus once reconciled", func() {
		createGroup(ns, builders.MakeGroup("web").Label("tier", "web"))
		Eventually(func(g Gomega) status.Status {
			var group v1alpha1.LabelGroup
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "web"}, &group)).To(Succeed())
			obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&group)
			g.Expect(err).NotTo(HaveOccurred())
			u := &unstructured.Unstructured{Object: obj}
			u.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("LabelGroup"))
			result, err := status.Compute(u)
			g.Expect(err).NotTo(HaveOccurred())
			return result.Status
		}).Should(Equal(status.CurrentStatus))
	})
})
