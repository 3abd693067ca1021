package grouping

import (
	"fmt"
	"slices"
	"testing"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

// BenchmarkCompute measures a recompute of a busy namespace whose pods come in
// ReplicaSets that share their labels.
func BenchmarkCompute(b *testing.B) {
	benchmarkCompute(b, false)
}

// BenchmarkComputeDistinctLabels measures the worst case: no two pods share a
// label set.
func BenchmarkComputeDistinctLabels(b *testing.B) {
	benchmarkCompute(b, true)
}

func benchmarkCompute(b *testing.B, distinctLabels bool) {
	for _, size := range []struct{ pods, groups int }{{3000, 100}, {10000, 200}} {
		b.Run(fmt.Sprintf("pods=%d/groups=%d", size.pods, size.groups), func(b *testing.B) {
			pods, groups := busyNamespace(1, size.pods, size.groups, distinctLabels)
			b.ReportAllocs()
			for b.Loop() {
				Compute(pods, groups, 100)
			}
		})
	}
}

// BenchmarkComputeManyGroups measures the namespace of make bench-scale's
// 1,200-group run: 10,000 pods, each picked by exactly one of 1,200 groups.
func BenchmarkComputeManyGroups(b *testing.B) {
	podList, groupList := manyGroupsNamespace()
	b.ReportAllocs()
	for b.Loop() {
		Compute(podList, groupList, 100)
	}
}

func manyGroupsNamespace() ([]Pod, []Group) {
	const pods, groups = 10000, 1200
	podList := make([]Pod, pods)
	for i := range podList {
		podList[i] = Pod{Name: fmt.Sprintf("pod-%06d", i), Labels: map[string]string{"app": "bench", "group": fmt.Sprintf("g-%04d", i%groups)}}
	}
	groupList := make([]Group, groups)
	for g := range groupList {
		groupList[g] = Group{Name: fmt.Sprintf("g-%04d", g), Selector: v1alpha1.LabelSelector{
			MatchLabels: map[string]v1alpha1.LabelValue{"group": v1alpha1.LabelValue(fmt.Sprintf("g-%04d", g))}}}
	}
	return podList, groupList
}

// BenchmarkOnePodRelabelled measures one pod event, the common case of a
// reconcile: each call relabels one pod, in turn, so that it moves to other
// groups, and reads the results that changed. The namespaces are
// BenchmarkCompute's at 10,000 x 200 and BenchmarkComputeManyGroups's.
func BenchmarkOnePodRelabelled(b *testing.B) {
	busyPods, busyGroups := busyNamespace(1, 10000, 200, false)
	manyPods, manyGroups := manyGroupsNamespace()
	for _, ns := range []struct {
		name   string
		pods   []Pod
		groups []Group
		// relabelled returns the other labels pod i takes.
		relabelled func(i int) map[string]string
	}{
		{"pods=10000/groups=200", busyPods, busyGroups, func(i int) map[string]string {
			return busyPods[(i+len(busyPods)/2)%len(busyPods)].Labels
		}},
		{"pods=10000/groups=1200", manyPods, manyGroups, func(i int) map[string]string {
			return map[string]string{"app": "bench", "group": fmt.Sprintf("g-%04d", (i+1)%len(manyGroups))}
		}},
	} {
		b.Run(ns.name, func(b *testing.B) {
			pods := slices.Clone(ns.pods)
			alternate := make([]map[string]string, len(pods))
			for i := range pods {
				alternate[i] = ns.relabelled(i)
			}
			e := NewEngine(100)
			for _, g := range ns.groups {
				e.SetGroup(g)
			}
			for _, p := range pods {
				e.SetPod(p.Name, p.Labels)
			}
			e.Changed()
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				i := n % len(pods)
				pods[i].Labels, alternate[i] = alternate[i], pods[i].Labels
				n++
				e.SetPod(pods[i].Name, pods[i].Labels)
				for _, name := range e.Changed() {
					e.Result(name)
				}
			}
		})
	}
}
