package controller

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/metadata"
)

// TestCarryOutBoundsPodWrites counts the applies in flight while 24 pods are
// stamped: never more than the configured concurrency.
func TestCarryOutBoundsPodWrites(t *testing.T) {
	const concurrency, pods = 3, 24
	var inFlight, most, calls atomic.Int32
	var mu sync.Mutex
	c := interceptor.NewClient(fake.NewClientBuilder().Build(), interceptor.Funcs{
		Apply: func(_ context.Context, _ client.WithWatch, _ runtime.ApplyConfiguration, _ ...client.ApplyOption) error {
			calls.Add(1)
			n := inFlight.Add(1)
			mu.Lock()
			if n > most.Load() {
				most.Store(n)
			}
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
			inFlight.Add(-1)
			return nil
		},
	})
	r := &LabelGroupReconciler{Client: c, MemberMetadata: &MemberMetadata{Concurrency: concurrency}}
	group := &v1alpha1.LabelGroup{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "payments"}}
	w := &stampingGroup{group: group, planned: metadata.Group{Name: "payments", Manager: metadata.ManagerFor("payments")}}
	for i := range pods {
		w.plans = append(w.plans, metadata.PodPlan{Pod: fmt.Sprintf("p%d", i), Write: true, Member: true, Apply: map[metadata.Key]string{{Kind: v1alpha1.MetadataKindLabel, Name: "team"}: "payments"}})
		w.pods = append(w.pods, &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: fmt.Sprintf("p%d", i)}})
	}
	if err := r.carryOut(context.Background(), []*stampingGroup{w}); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != pods {
		t.Errorf("%d applies, want one per pod (%d)", calls.Load(), pods)
	}
	if most.Load() > concurrency {
		t.Errorf("%d applies in flight at once, want at most %d", most.Load(), concurrency)
	}
}
