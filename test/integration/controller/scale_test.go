package controller

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/controller"
	"github.com/labelgroup/labelgroup-operator/test/builders"
)

// A namespace of many groups that all select every pod. Unbounded, the
// Overlapping message outgrows the API server's 32,768 bytes past about 530
// groups with 40-character names (about 120 with 253-character names, the
// longest a LabelGroup can have), and the note of an OverlapDetected event of
// a group that overlaps many others its 1,024 bytes: the API server would
// refuse every status of such a namespace and those events.
var _ = Describe("A namespace of 1,200 groups that all overlap", func() {
	DescribeTable("converges with every status and event inside the API's limits, and resolves", func(nameLength int) {
		const groupCount = 1200
		ns := newNamespace()
		createPod(ns, strings.Repeat("p", 253), "tier", "web")
		names := make([]string, groupCount)
		for i := range names {
			prefix := fmt.Sprintf("group-%04d-", i)
			names[i] = prefix + strings.Repeat("x", nameLength-len(prefix))
		}
		start := time.Now()
		createGroupsInParallel(ns, names, "batch", "rest")

		Eventually(func(g Gomega) {
			var list v1alpha1.LabelGroupList
			g.Expect(k8sClient.List(ctx, &list, client.InNamespace(ns))).To(Succeed())
			g.Expect(list.Items).To(HaveLen(groupCount))
			for _, group := range list.Items {
				s := group.Status
				g.Expect(s.ObservedGeneration).To(Equal(group.Generation), group.Name)
				g.Expect(meta.IsStatusConditionTrue(s.Conditions, v1alpha1.ConditionReady)).To(BeTrue(), group.Name)
				g.Expect(meta.IsStatusConditionTrue(s.Conditions, v1alpha1.ConditionOverlapping)).To(BeTrue(), group.Name)
				g.Expect(s.OverlapCount).To(BeEquivalentTo(groupCount-1), group.Name)
			}
		}, 4*time.Minute, time.Second).Should(Succeed())
		GinkgoWriter.Printf("%d groups with %d-character names converged in %s\n", groupCount, nameLength, time.Since(start).Round(time.Second))

		var list v1alpha1.LabelGroupList
		Expect(k8sClient.List(ctx, &list, client.InNamespace(ns))).To(Succeed())
		largest := 0
		for _, group := range list.Items {
			Expect(group.Status.Overlaps).To(HaveLen(overlapLimit), group.Name)
			for _, c := range group.Status.Conditions {
				Expect(len(c.Message)).To(BeNumerically("<=", controller.MaxEventNoteBytes), "%s %s", group.Name, c.Type)
			}
			b, err := json.Marshal(group)
			Expect(err).NotTo(HaveOccurred())
			largest = max(largest, len(b))
		}
		Expect(largest).To(BeNumerically("<", 16*1024), "the largest object")
		GinkgoWriter.Printf("largest LabelGroup: %d bytes\n", largest)

		// Every group gets its one OverlapDetected event, with a note the API
		// server accepted.
		Eventually(func(g Gomega) map[string]int {
			return eventCounts(g, ns, v1alpha1.EventOverlapDetected)
		}, time.Minute, time.Second).Should(HaveLen(groupCount))
		for name, n := range eventCounts(Default, ns, v1alpha1.EventOverlapDetected) {
			Expect(n).To(Equal(1), "OverlapDetected events of %s", name)
		}

		// Deleting all but one resolves the last one's overlap.
		survivor := builders.MakeGroup("survivor").Namespace(ns).Obj()
		Expect(k8sClient.Create(ctx, survivor)).To(Succeed())
		Expect(k8sClient.DeleteAllOf(ctx, &v1alpha1.LabelGroup{}, client.InNamespace(ns), client.MatchingLabels{"batch": "rest"})).To(Succeed())
		Eventually(condition(ns, "survivor", v1alpha1.ConditionOverlapping), 2*time.Minute, time.Second).Should(Equal("False/NoOverlap"))
		Eventually(events(ns, "survivor", v1alpha1.EventOverlapResolved), time.Minute).Should(HaveLen(1))
		Expect(occurrences(events(ns, "survivor", v1alpha1.EventOverlapDetected)(Default))).To(Equal(1))
	},
		Entry("40-character names", 40),
		Entry("253-character names", 253),
	)
})

// createGroupsInParallel creates groups with the empty selector and one label,
// a few at a time, as a GitOps tool applying a folder would.
func createGroupsInParallel(namespace string, names []string, labelKey, labelValue string) {
	const workers = 8
	work := make(chan string)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			defer GinkgoRecover()
			for name := range work {
				group := builders.MakeGroup(name).Namespace(namespace).Obj()
				group.Labels = map[string]string{labelKey: labelValue}
				Expect(k8sClient.Create(ctx, group)).To(Succeed())
			}
		})
	}
	for _, name := range names {
		work <- name
	}
	close(work)
	wg.Wait()
}

// eventCounts counts, per group, the events with the given reason, including
// the repeats folded into a series, and checks every note is within the limit.
func eventCounts(g Gomega, namespace, reason string) map[string]int {
	var list eventsv1.EventList
	g.Expect(k8sClient.List(ctx, &list, client.InNamespace(namespace))).To(Succeed())
	counts := map[string]int{}
	for _, e := range list.Items {
		if e.Regarding.Kind == "LabelGroup" && e.Reason == reason {
			g.Expect(len(e.Note)).To(BeNumerically("<=", controller.MaxEventNoteBytes))
			counts[e.Regarding.Name] += occurrences([]eventsv1.Event{e})
		}
	}
	return counts
}
