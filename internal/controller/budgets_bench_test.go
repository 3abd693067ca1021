package controller

import (
	"fmt"
	"testing"

	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/grouping"
)

// BenchmarkPodEvent measures the CPU and allocations of what one pod event
// costs the manager in its namespace, with --watch-pod-disruption-budgets off
// (the LabelGroup engine's update for the event, the reference) and on (the
// same plus the budgets' index fed the event by its handler, and the budgets'
// Reconcile: take the budgets whose sharing changed, publish their gauges,
// tell their transitions). The layout is scale sizing's (test/scale/sizing.go): 10,000 pods as
// 10 namespaces of 1,000 pods (one event touches one of them), or all in one
// namespace, and 100,000 in one; 10 apps a namespace, each with a LabelGroup
// and a PodDisruptionBudget, one group of every pod, and one budget that
// covers two apps' pods and so shares them.
func BenchmarkPodEvent(b *testing.B) {
	for _, podsPerNamespace := range []int{1000, 10000, 100000} {
		pods, groups, budgets := sizingNamespace(podsPerNamespace, 10)
		for _, watchBudgets := range []bool{false, true} {
			b.Run(fmt.Sprintf("pods=%d/budgets=%v", podsPerNamespace, watchBudgets), func(b *testing.B) {
				engine := grouping.NewEngine(100)
				for _, g := range groups {
					engine.SetGroup(g)
				}
				for _, p := range pods {
					engine.SetPod(p.Name, p.Labels)
				}
				engine.Changed()
				var budgetReconciler *PodDisruptionBudgetReconciler
				if watchBudgets {
					budgetReconciler = seededBudgetReconciler(b, budgets, pods)
				}
				podObjects := make([]metav1.PartialObjectMetadata, len(pods))
				for i, p := range pods {
					podObjects[i].Name = p.Name
				}
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					// One pod event: a pod moves from its app to the next one.
					n := i % len(pods)
					p := &pods[n]
					p.Labels = map[string]string{"app": fmt.Sprintf("app-%d", (i/len(pods)+i)%10), "tier": p.Labels["tier"]}
					i++
					engine.SetPod(p.Name, p.Labels)
					for _, name := range engine.Changed() {
						engine.Result(name)
					}
					if watchBudgets {
						obj := &podObjects[n]
						obj.Labels = p.Labels
						budgetReconciler.index.podChanged(obj)
						if _, err := budgetReconciler.Reconcile(b.Context(), reconcile.Request{}); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		}
	}
}

// seededBudgetReconciler returns a reconciler whose index holds the budgets
// and the pods, as after its first reconcile of the namespace; its events go
// nowhere.
func seededBudgetReconciler(b *testing.B, budgets []policyv1.PodDisruptionBudget, pods []grouping.Pod) *PodDisruptionBudgetReconciler {
	r := &PodDisruptionBudgetReconciler{Recorder: &events.FakeRecorder{}}
	for i := range budgets {
		r.index.budgetChanged(&budgets[i])
	}
	podObjects := make([]metav1.PartialObjectMetadata, len(pods))
	for i, p := range pods {
		podObjects[i] = metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Labels: p.Labels}}
	}
	if _, _, err := r.index.take("", func() ([]metav1.PartialObjectMetadata, error) { return podObjects, nil }); err != nil {
		b.Fatal(err)
	}
	return r
}

func sizingNamespace(podCount, apps int) ([]grouping.Pod, []grouping.Group, []policyv1.PodDisruptionBudget) {
	pods := make([]grouping.Pod, podCount)
	for i := range pods {
		tier := "back"
		if i%apps < 2 {
			tier = "front"
		}
		pods[i] = grouping.Pod{Name: fmt.Sprintf("app-%d-%06d", i%apps, i), Labels: map[string]string{"app": fmt.Sprintf("app-%d", i%apps), "tier": tier}}
	}
	groups := []grouping.Group{{Name: "all"}}
	var budgets []policyv1.PodDisruptionBudget
	for a := range apps {
		app := fmt.Sprintf("app-%d", a)
		groups = append(groups, grouping.Group{Name: app, Selector: v1alpha1.LabelSelector{MatchLabels: map[string]v1alpha1.LabelValue{"app": v1alpha1.LabelValue(app)}}})
		budgets = append(budgets, budget(app, &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}))
	}
	budgets = append(budgets, budget("front", &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "front"}}))
	return pods, groups, budgets
}
