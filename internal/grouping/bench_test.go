package grouping

import (
	"fmt"
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
	b.ReportAllocs()
	for b.Loop() {
		Compute(podList, groupList, 100)
	}
}
