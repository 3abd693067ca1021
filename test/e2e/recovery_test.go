//go:build e2e

package e2e

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/test/builders"
)

var _ = Describe("The manager, disrupted while pods are relabelled", func() {
	tiers := []string{"web", "db", "cache"}
	var (
		ns    string
		churn *relabeller
	)

	// Twelve pods move between tiers all along; shop holds them all, so it
	// overlaps web and db by however many pods each has at the moment.
	BeforeEach(func() {
		ns = newNamespace()
		createIn(ns, builders.MakeGroup("web").Label("tier", "web").Obj(), builders.MakeGroup("db").Label("tier", "db").Obj(),
			builders.MakeGroup("shop").Label("app", "shop").Obj())
		var pods []string
		for i := range 12 {
			pods = append(pods, fmt.Sprintf("pod-%02d", i))
			createIn(ns, builders.MakePod(pods[i]).Label("app", "shop").Label("tier", tiers[i%len(tiers)]).Obj())
		}
		Eventually(statusesTellTheTruth(ns)).Should(Succeed())
		churn = startRelabelling(ns, pods, tiers)
		DeferCleanup(churn.Stop)
	})

	// expectRecoveredWhileRelabelling checks that pods were relabelled while
	// the manager was away and after it came back, then that once they stop
	// moving every status converges to the truth.
	expectRecoveredWhileRelabelling := func(relabelsAtDisruption int64) {
		relabelsWhenBack := churn.relabels.Load()
		Expect(relabelsWhenBack).To(BeNumerically(">", relabelsAtDisruption), "pods were relabelled while the manager was away")
		Eventually(churn.relabels.Load).Should(BeNumerically(">=", relabelsWhenBack+10), "pods are relabelled after it is back")
		Expect(churn.Stop()).To(Succeed())
		Eventually(statusesTellTheTruth(ns)).Should(Succeed())
	}

	It("converges after the manager's pod is deleted and the Deployment replaces it", func() {
		old := theManagerPod(Default)
		relabels := churn.relabels.Load()
		Expect(k8sClient.Delete(ctx, &old)).To(Succeed())
		Eventually(func(g Gomega) types.UID { return theManagerPod(g).UID }).
			WithTimeout(recoveryTimeout).ShouldNot(Equal(old.UID))
		expectRecoveredWhileRelabelling(relabels)
	})

	It("converges after the manager's process is killed and the kubelet restarts it", func() {
		pod := theManagerPod(Default)
		before := managerStatus(Default, &pod)
		relabels := churn.relabels.Load()
		killContainer(before.ContainerID)
		Eventually(func(g Gomega) corev1.ContainerStatus {
			current := theManagerPod(g)
			g.Expect(current.UID).To(Equal(pod.UID), "the same pod")
			return managerStatus(g, &current)
		}).WithTimeout(recoveryTimeout).Should(And(
			HaveField("RestartCount", BeNumerically(">", before.RestartCount)),
			HaveField("LastTerminationState.Terminated.ExitCode", BeEquivalentTo(137)), // 128 + SIGKILL
		))
		expectRecoveredWhileRelabelling(relabels)
	})
})

// relabeller moves pods between tiers in the background, one label patch
// every 50 ms, each pass moving every pod to the next tier, until stopped.
type relabeller struct {
	relabels atomic.Int64
	stop     chan struct{}
	stopOnce sync.Once
	finished chan struct{}
	err      error // the first failed patch, which ends the relabelling
}

func startRelabelling(namespace string, pods, tiers []string) *relabeller {
	r := &relabeller{stop: make(chan struct{}), finished: make(chan struct{})}
	go func() {
		defer GinkgoRecover()
		defer close(r.finished)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-r.stop:
				return
			case <-tick.C:
			}
			pass, pod := i/len(pods), i%len(pods)
			if r.err = setLabel(namespace, pods[pod], "tier", tiers[(pod+pass+1)%len(tiers)]); r.err != nil {
				return
			}
			r.relabels.Add(1)
		}
	}()
	return r
}

// Stop ends the relabelling and returns the patch error that ended it early, if any.
func (r *relabeller) Stop() error {
	r.stopOnce.Do(func() { close(r.stop) })
	<-r.finished
	return r.err
}

// statusesTellTheTruth returns a function that checks every group of a
// namespace against the pods as the API server lists them now: its members
// are the pods its selector matches, and it overlaps each other group it
// shares pods with (by how many). It knows the Members policy and
// matchLabels selectors only, all these specs use.
func statusesTellTheTruth(namespace string) func(Gomega) {
	return func(g Gomega) {
		var groups v1alpha1.LabelGroupList
		g.Expect(k8sClient.List(ctx, &groups, client.InNamespace(namespace))).To(Succeed())
		var pods corev1.PodList
		g.Expect(k8sClient.List(ctx, &pods, client.InNamespace(namespace))).To(Succeed())

		members := map[string][]string{}
		for _, group := range groups.Items {
			g.Expect(group.Spec.Selector.MatchExpressions).To(BeEmpty(), "the oracle reads matchLabels only")
			selector := labels.Set{}
			for k, v := range group.Spec.Selector.MatchLabels {
				selector[k] = string(v)
			}
			for _, pod := range pods.Items {
				if selector.AsSelector().Matches(labels.Set(pod.Labels)) {
					members[group.Name] = append(members[group.Name], pod.Name)
				}
			}
			slices.Sort(members[group.Name])
		}
		for _, group := range groups.Items {
			g.Expect(group.Status.Members).To(Equal(members[group.Name]), "members of %s", group.Name)
			g.Expect(group.Status.MemberCount).To(BeEquivalentTo(len(members[group.Name])), "memberCount of %s", group.Name)
			g.Expect(group.Status.Overlaps).To(Equal(sharedWith(group.Name, members)), "overlaps of %s", group.Name)
		}
	}
}

// sharedWith lists, sorted by name, the other groups that share members
// with group, and how many.
func sharedWith(group string, members map[string][]string) []v1alpha1.Overlap {
	var overlaps []v1alpha1.Overlap
	for other, theirs := range members {
		shared := 0
		for _, pod := range theirs {
			if other != group && slices.Contains(members[group], pod) {
				shared++
			}
		}
		if shared > 0 {
			overlaps = append(overlaps, v1alpha1.Overlap{Name: other, SharedMembers: int32(shared)})
		}
	}
	slices.SortFunc(overlaps, func(a, b v1alpha1.Overlap) int { return cmp.Compare(a.Name, b.Name) })
	return overlaps
}
