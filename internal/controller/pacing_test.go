package controller

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/workqueue"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

var pacingStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestNamespacePacer(t *testing.T) {
	clock := clocktesting.NewFakeClock(pacingStart)
	p := namespacePacer{interval: 250 * time.Millisecond, clock: clock}
	if d := p.delay("shop"); d != 0 {
		t.Errorf("the first event of a quiet namespace waits %s", d)
	}
	p.started("shop")
	clock.Step(100 * time.Millisecond)
	if d := p.delay("shop"); d != 150*time.Millisecond {
		t.Errorf("an event 100ms after a reconcile started waits %s, want 150ms", d)
	}
	if d := p.delay("other"); d != 0 {
		t.Errorf("an event of another namespace waits %s", d)
	}
	clock.Step(900 * time.Millisecond)
	if d := p.delay("shop"); d != 0 {
		t.Errorf("an event long after the last reconcile waits %s", d)
	}
	p.started("shop")
	p.forget("shop")
	if d := p.delay("shop"); d != 0 {
		t.Errorf("an event of a forgotten namespace waits %s", d)
	}
}

// pacedQueue is a reconciler whose pacer and queue run on one fake clock, and
// a pod event of its namespace "shop".
func pacedQueue(t *testing.T, interval time.Duration) (*LabelGroupReconciler, *clocktesting.FakeClock, workqueue.TypedRateLimitingInterface[reconcile.Request], func()) {
	clock := clocktesting.NewFakeClock(pacingStart)
	q := workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request](),
		workqueue.TypedRateLimitingQueueConfig[reconcile.Request]{Clock: clock})
	t.Cleanup(q.ShutDown)
	r := &LabelGroupReconciler{}
	r.pacer.interval = interval
	r.pacer.clock = clock
	pod := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-1"}}
	podEvent := func() {
		r.enqueueNamespace(true).Update(context.Background(), event.UpdateEvent{ObjectOld: pod, ObjectNew: pod}, q)
	}
	return r, clock, q, podEvent
}

// queued waits for the queue's own goroutine to move a delayed request in,
// which it does soon after the fake clock passes its time.
func queued(q workqueue.TypedRateLimitingInterface[reconcile.Request]) int {
	for range 200 {
		if q.Len() > 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	return q.Len()
}

// TestPacedEventAfterQuietGap checks the trailing edge of the pacing: a
// delayed pod event with no other behind it is queued once the namespace has
// been quiet for a fifth of the interval, while a stream of events keeps
// waiting for the end of the interval.
func TestPacedEventAfterQuietGap(t *testing.T) {
	const interval = 2 * time.Second // quiet: 400ms

	r, clock, q, podEvent := pacedQueue(t, interval)
	r.pacer.started("shop")
	podEvent()
	if q.Len() != 0 {
		t.Fatal("an event within the interval was queued at once")
	}
	clock.Step(interval/5 - time.Millisecond)
	if n := q.Len(); n != 0 {
		t.Fatalf("a lone event was queued before the namespace had been quiet for %s (queue %d)", interval/5, n)
	}
	clock.Step(time.Millisecond)
	if n := queued(q); n != 1 {
		t.Errorf("a lone event was not queued after the namespace had been quiet for %s (queue %d)", interval/5, n)
	}

	r, clock, q, podEvent = pacedQueue(t, interval)
	r.pacer.started("shop")
	for range 12 { // 1.2s of events 100ms apart
		podEvent()
		clock.Step(interval / 20)
	}
	if n := q.Len(); n != 0 {
		t.Errorf("a stream of events was queued before the end of the interval (queue %d)", n)
	}
	clock.Step(interval)
	if n := queued(q); n != 1 {
		t.Errorf("a stream of events was not queued at the end of the interval (queue %d)", n)
	}
}
