package controller

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

func TestNamespacePacer(t *testing.T) {
	p := namespacePacer{interval: 250 * time.Millisecond}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if d := p.delay("shop", start); d != 0 {
		t.Errorf("the first event of a quiet namespace waits %s", d)
	}
	p.started("shop", start)
	if d := p.delay("shop", start.Add(100*time.Millisecond)); d != 150*time.Millisecond {
		t.Errorf("an event 100ms after a reconcile started waits %s, want 150ms", d)
	}
	if d := p.delay("other", start.Add(100*time.Millisecond)); d != 0 {
		t.Errorf("an event of another namespace waits %s", d)
	}
	if d := p.delay("shop", start.Add(time.Second)); d != 0 {
		t.Errorf("an event long after the last reconcile waits %s", d)
	}
	p.forget("shop")
	if d := p.delay("shop", start.Add(100*time.Millisecond)); d != 0 {
		t.Errorf("an event of a forgotten namespace waits %s", d)
	}
}

// TestPacedEventAfterQuietGap checks the trailing edge of the pacing: a
// delayed pod event with no other behind it is queued once the namespace has
// been quiet for a fifth of the interval, while a stream of events keeps
// waiting for the end of the interval.
func TestPacedEventAfterQuietGap(t *testing.T) {
	const interval = 2 * time.Second // quiet: 400ms
	newQueue := func() workqueue.TypedRateLimitingInterface[reconcile.Request] {
		q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
		t.Cleanup(q.ShutDown)
		return q
	}
	pod := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-1"}}
	event := event.UpdateEvent{ObjectOld: pod, ObjectNew: pod}

	r := &LabelGroupReconciler{}
	r.pacer.interval = interval
	r.pacer.started("shop", time.Now())
	q := newQueue()
	r.enqueueNamespace(true).Update(context.Background(), event, q)
	if q.Len() != 0 {
		t.Fatal("an event within the interval was queued at once")
	}
	time.Sleep(interval / 2)
	if q.Len() != 1 {
		t.Errorf("a lone event was not queued after the namespace had been quiet for %s (queue %d)", interval/5, q.Len())
	}

	r = &LabelGroupReconciler{}
	r.pacer.interval = interval
	r.pacer.started("shop", time.Now())
	q = newQueue()
	for range 12 { // 1.2s of events 100ms apart
		r.enqueueNamespace(true).Update(context.Background(), event, q)
		time.Sleep(interval / 20)
	}
	if q.Len() != 0 {
		t.Errorf("a stream of events was queued before the end of the interval (queue %d)", q.Len())
	}
	time.Sleep(interval)
	if q.Len() != 1 {
		t.Errorf("a stream of events was not queued at the end of the interval (queue %d)", q.Len())
	}
}
