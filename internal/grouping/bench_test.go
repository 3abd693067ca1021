package grouping

import (
	"fmt"
	"testing"
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
