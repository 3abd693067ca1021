package requests

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/test/builders"
	"github.com/labelgroup/labelgroup-operator/test/integration/testenv"
)

const (
	timeout = 30 * time.Second
	// quietFor is how long a converged manager is watched for a write; the
	// storm this suite guards against came within a second of each event.
	quietFor  = 3 * time.Second
	shopPods  = 20
	webPods   = 5
	costKey   = "example.com/cost-center"
	auditKey  = "example.com/audited"
	ownerTeam = "checkout"
)

// The world of this suite: shop pods and web pods; two groups that stamp
// (payments on the shop pods, audited on all of them, so they share the shop
// pods), a plain group and an empty-selector group. Some shop pods carry their
// own values of stamped keys, which they keep.
var _ = Describe("What the manager sends", Ordered, func() {
	var (
		ns      string
		manager *runningManager
	)

	BeforeAll(func() {
		SetDefaultEventuallyTimeout(timeout)
		SetDefaultEventuallyPollingInterval(200 * time.Millisecond)
		ns = testenv.NewNamespace(ctx, k8sClient, "requests")
		for i := range shopPods {
			pod := builders.MakePod(fmt.Sprintf("shop-%d", i)).Namespace(ns).Label("app", "shop")
			switch i {
			case 0, 1:
				pod.Label("team", ownerTeam)
			case 2:
				pod.Annotation(costKey, "cc-own")
			}
			Expect(k8sClient.Create(ctx, pod.Obj())).To(Succeed())
		}
		for i := range webPods {
			Expect(k8sClient.Create(ctx, builders.MakePod(fmt.Sprintf("web-%d", i)).Namespace(ns).Label("app", "web").Obj())).To(Succeed())
		}
		for _, g := range []*builders.GroupBuilder{
			builders.MakeGroup("payments").Label("app", "shop").StampLabel("team", "payments").StampAnnotation(costKey, "cc-1234"),
			builders.MakeGroup("audited").In("app", "shop", "web").StampAnnotation(auditKey, "yes"),
			builders.MakeGroup("web").Label("app", "web"),
			builders.MakeGroup("everything"),
		} {
			Expect(k8sClient.Create(ctx, g.Namespace(ns).Obj())).To(Succeed())
		}

		manager = startManager(false)
		DeferCleanup(func() { manager.stop() })
		Eventually(converged(ns, shopPods)).Should(Succeed())
		waitQuiet()
	})

	// unrelatedEvents are three changes the reconciler is woken by and that
	// change nothing the groups show: a label no selector reads on two pods,
	// and an annotation of a group. It waits until they were reconciled.
	unrelatedEvents := func(round string) {
		before := reconciles()
		relabel(ns, "shop-5", "build", round)
		relabel(ns, "web-1", "build", round)
		annotateGroup(ns, "payments", "test/touched", round)
		Eventually(reconciles).Should(BeNumerically(">", before), "the events were never reconciled")
	}

	It("writes nothing during pod events that change nothing the groups show", func() {
		mark := testEnv.Audit.Mark()
		unrelatedEvents("1")
		Consistently(writesSince(mark), quietFor).Should(BeEmpty())
	})

	It("writes nothing after a restart, at once and during further events", func() {
		manager.stop()
		mark := testEnv.Audit.Mark()
		before := reconciles()
		manager = startManager(false)
		Eventually(reconciles).Should(BeNumerically(">", before), "the restarted manager never reconciled")
		Consistently(writesSince(mark), quietFor).Should(BeEmpty(), "in the restarted manager's first seconds")
		unrelatedEvents("2")
		Consistently(writesSince(mark), quietFor).Should(BeEmpty(), "during events after the restart")
	})

	It("writes nothing after a leader change", func() {
		manager.stop()
		mark := testEnv.Audit.Mark()
		leader := startManager(true)
		Eventually(leader.elected).Should(BeClosed())
		standby := startManager(true)
		unrelatedEvents("3")
		Consistently(writesSince(mark), quietFor).Should(BeEmpty(), "under the first leader")

		before := reconciles()
		leader.stop()
		Eventually(standby.elected).Should(BeClosed())
		manager = standby
		Eventually(reconciles).Should(BeNumerically(">", before), "the new leader never reconciled")
		Consistently(writesSince(mark), quietFor).Should(BeEmpty(), "in the new leader's first seconds")
		unrelatedEvents("4")
		Consistently(writesSince(mark), quietFor).Should(BeEmpty(), "during events under the new leader")
	})

	It("stamps a new member with one apply per stamping group", func() {
		mark := testEnv.Audit.Mark()
		Expect(k8sClient.Create(ctx, builders.MakePod("shop-new").Namespace(ns).Label("app", "shop").Obj())).To(Succeed())
		Eventually(converged(ns, shopPods+1)).Should(Succeed())
		waitQuiet()

		Expect(writeCounts(mark)).To(Equal(map[string]int{
			// payments and audited, once each, to the new pod only.
			"patch pods": 2,
			// The member counts of payments, audited and everything.
			"patch labelgroups/status": 3,
		}))
		writes, err := testEnv.Audit.Writes(mark, testenv.ManagerUser)
		Expect(err).NotTo(HaveOccurred())
		for _, w := range writes {
			if w.Resource == "pods" {
				Expect(w.Name).To(Equal("shop-new"))
			}
		}
	})

	It("releases a pod that leaves the stamping groups with one apply per group", func() {
		mark := testEnv.Audit.Mark()
		relabel(ns, "shop-7", "app", "gone")
		Eventually(func(g Gomega) {
			pod := &corev1.Pod{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shop-7"}, pod)).To(Succeed())
			g.Expect(pod.Labels).NotTo(HaveKey("team"))
			g.Expect(pod.Annotations).NotTo(HaveKey(costKey))
			g.Expect(pod.Annotations).NotTo(HaveKey(auditKey))
		}).Should(Succeed())
		waitQuiet()
		Expect(writeCounts(mark)).To(Equal(map[string]int{
			// payments and audited release what they stamped, once each.
			"patch pods": 2,
			// The member counts of payments and audited, and the pods
			// everything shares with them.
			"patch labelgroups/status": 3,
		}))
	})

	It("sent only the kinds of writes the operator makes, all accepted, all through the suite", func() {
		writes, err := testEnv.Audit.Writes(0, testenv.ManagerUser)
		Expect(err).NotTo(HaveOccurred())
		Expect(writes).NotTo(BeEmpty())
		for _, w := range writes {
			Expect(w.OperatorWrite()).To(BeTrue(), "an unexpected write: %s", w)
			// 409: an apply that met a member's own value, or a status
			// patch that lost its optimistic lock; both are retried by design.
			Expect(w.Code).To(Or(BeNumerically("<", 400), BeEquivalentTo(409)), "a refused write: %s", w)
		}
	})
})

// converged checks that every group shows the pods and every member carries
// what the stamping groups give it, its own values kept.
func converged(ns string, shop int) func(g Gomega) {
	return func(g Gomega) {
		members := map[string]int32{"payments": int32(shop), "audited": int32(shop + webPods), "web": webPods, "everything": int32(shop + webPods)}
		for name, want := range members {
			group := &v1alpha1.LabelGroup{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, group)).To(Succeed())
			g.Expect(group.Status.MemberCount).To(Equal(want), "members of %s", name)
			g.Expect(group.Status.ObservedGeneration).To(Equal(group.Generation), "%s", name)
		}
		var pods corev1.PodList
		g.Expect(k8sClient.List(ctx, &pods, client.InNamespace(ns))).To(Succeed())
		for _, pod := range pods.Items {
			g.Expect(pod.Annotations).To(HaveKeyWithValue(auditKey, "yes"), "pod %s", pod.Name)
			if pod.Labels["app"] != "shop" {
				continue
			}
			team, cost := "payments", "cc-1234"
			switch pod.Name {
			case "shop-0", "shop-1":
				team = ownerTeam
			case "shop-2":
				cost = "cc-own"
			}
			g.Expect(pod.Labels).To(HaveKeyWithValue("team", team), "pod %s", pod.Name)
			g.Expect(pod.Annotations).To(HaveKeyWithValue(costKey, cost), "pod %s", pod.Name)
		}
	}
}

// writesSince returns a function that lists the manager's writes after mark.
func writesSince(mark int64) func() ([]string, error) {
	return func() ([]string, error) {
		writes, err := testEnv.Audit.Writes(mark, testenv.ManagerUser)
		var out []string
		for _, w := range writes {
			out = append(out, w.String())
		}
		return out, err
	}
}

// writeCounts counts the manager's writes after mark by verb and resource.
func writeCounts(mark int64) map[string]int {
	writes, err := testEnv.Audit.Writes(mark, testenv.ManagerUser)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	counts := map[string]int{}
	for _, w := range writes {
		key := w.Verb + " " + w.Resource
		if w.Subresource != "" {
			key += "/" + w.Subresource
		}
		counts[key]++
	}
	GinkgoWriter.Printf("Writes: %v\n", writes)
	return counts
}

// waitQuiet waits until the manager has sent no write for quietFor.
func waitQuiet() {
	EventuallyWithOffset(1, func(g Gomega) {
		g.Consistently(writesSince(testEnv.Audit.Mark()), quietFor).Should(BeEmpty())
	}).WithTimeout(timeout).Should(Succeed())
}

func relabel(ns, name, key, value string) {
	pod := &corev1.Pod{}
	ExpectWithOffset(1, k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, pod)).To(Succeed())
	patch := client.MergeFrom(pod.DeepCopy())
	pod.Labels[key] = value
	ExpectWithOffset(1, k8sClient.Patch(ctx, pod, patch)).To(Succeed())
}

func annotateGroup(ns, name, key, value string) {
	group := &v1alpha1.LabelGroup{}
	ExpectWithOffset(1, k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, group)).To(Succeed())
	patch := client.MergeFrom(group.DeepCopy())
	if group.Annotations == nil {
		group.Annotations = map[string]string{}
	}
	group.Annotations[key] = value
	ExpectWithOffset(1, k8sClient.Patch(ctx, group, patch)).To(Succeed())
}
