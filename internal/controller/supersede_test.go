package controller

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/grouping"
)

// TestSupersededReconcileWritesFew checks that a reconcile a newer event has
// superseded starts supersededWrites status patches, stalest group first, and
// leaves the rest to the next reconcile; one that is not superseded writes
// every changed group.
func TestSupersededReconcileWritesFew(t *testing.T) {
	const changed = 3 * supersededWrites
	for _, superseded := range []bool{true, false} {
		t.Run(fmt.Sprintf("superseded=%v", superseded), func(t *testing.T) {
			var patches atomic.Int32
			var mu sync.Mutex
			written := map[string]int{}
			c := interceptor.NewClient(fake.NewClientBuilder().Build(), interceptor.Funcs{
				SubResourcePatch: func(_ context.Context, _ client.Client, _ string, obj client.Object, _ client.Patch, _ ...client.SubResourcePatchOption) error {
					patches.Add(1)
					mu.Lock()
					written[obj.GetName()]++
					mu.Unlock()
					return nil
				},
			})
			r := &LabelGroupReconciler{Client: c, Recorder: events.NewFakeRecorder(4 * changed), StatusWriters: 64}
			groups := make([]v1alpha1.LabelGroup, changed)
			for i := range groups {
				groups[i] = v1alpha1.LabelGroup{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: fmt.Sprintf("g%02d", i), Generation: 1, ResourceVersion: "1"}}
			}
			errs, left := r.writeStatuses(context.Background(), groups, make([]grouping.Result, changed), make([]metadataOutcome, changed), func() bool { return superseded })
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			want := int32(changed)
			if superseded {
				want = supersededWrites
			}
			if patches.Load() != want {
				t.Errorf("%d status patches, want %d", patches.Load(), want)
			}
			// The groups left are looked at again by the next reconcile.
			if len(left) != changed-int(want) {
				t.Errorf("%d groups left to the next reconcile, want %d", len(left), changed-int(want))
			}
			if !superseded {
				return
			}
			// The next superseded reconcile writes other groups: the stalest.
			r.writeStatuses(context.Background(), groups, make([]grouping.Result, changed), make([]metadataOutcome, changed), func() bool { return true })
			if len(written) != 2*supersededWrites {
				t.Errorf("two superseded reconciles wrote %d distinct groups, want %d: %v", len(written), 2*supersededWrites, written)
			}
		})
	}
}
