package controller

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// namespacePacer spaces the reconciles that pod events cause in a namespace
// at least interval apart. The first event of a quiet namespace is reconciled
// at once; events that follow within the interval wait for its end and are
// then handled by one reconcile, or at once when none follows within a fifth of
// the interval (see quiet). Under a stream of relabels this bounds the
// reconciles, and the writes of a busy group, to a few a second per namespace
// instead of one per event.
type namespacePacer struct {
	interval time.Duration
	// clock is the real clock unless a test sets a fake one.
	clock clock.WithDelayedExecution

	mu        sync.Mutex
	lastStart map[string]time.Time
}

func (p *namespacePacer) clockOrReal() clock.WithDelayedExecution {
	if p.clock == nil {
		return clock.RealClock{}
	}
	return p.clock
}

// started records that a reconcile of namespace starts now.
func (p *namespacePacer) started(namespace string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lastStart == nil {
		p.lastStart = map[string]time.Time{}
	}
	p.lastStart[namespace] = p.clockOrReal().Now()
}

// delay is how long an event of namespace arriving now waits before it is queued.
func (p *namespacePacer) delay(namespace string) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	last, ok := p.lastStart[namespace]
	if !ok {
		return 0
	}
	return max(0, last.Add(p.interval).Sub(p.clockOrReal().Now()))
}

// quiet is how long a namespace must go without an event for a delayed event
// to be reconciled before the end of the interval: a fifth of it (50 ms by
// default; 100 relabels a second are 10 ms apart). The pacing is for streams
// of events: when a stream stops, its last event need not wait for the rest
// of the interval.
func (p *namespacePacer) quiet() time.Duration {
	return p.interval / 5
}

// forget drops a namespace that has no group.
func (p *namespacePacer) forget(namespace string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.lastStart, namespace)
}

// enqueueNamespace maps every event to its namespace's request, counts it
// (see writeStatuses) and queues it; when paced, after the pacer's delay. Pod
// events are paced: they come in streams. LabelGroup events are not: a new or
// edited group is a person waiting, and groups change rarely.
func (r *LabelGroupReconciler) enqueueNamespace(paced bool) handler.EventHandler {
	enqueue := func(obj client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		namespace := obj.GetNamespace()
		r.events.add(namespace)
		req := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: namespace}}
		if d := r.pacer.delay(namespace); paced && d > 0 {
			q.AddAfter(req, d)
			if quiet := r.pacer.quiet(); quiet < d {
				// If this is the last event of its stream for a while, it
				// need not wait for the end of the interval.
				seen := r.events.count(namespace)
				r.pacer.clockOrReal().AfterFunc(quiet, func() {
					if r.events.count(namespace) == seen {
						q.Add(req)
					}
				})
			}
			return
		}
		q.Add(req)
	}
	return onEveryEvent(enqueue)
}

// onEveryEvent is the handler that calls enqueue with the object of every
// event, the new one of an update.
func onEveryEvent(enqueue func(client.Object, workqueue.TypedRateLimitingInterface[reconcile.Request])) handler.EventHandler {
	return handler.Funcs{
		CreateFunc: func(_ context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(e.Object, q)
		},
		UpdateFunc: func(_ context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(e.ObjectNew, q)
		},
		DeleteFunc: func(_ context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(e.Object, q)
		},
		GenericFunc: func(_ context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(e.Object, q)
		},
	}
}

// indexing feeds each event to the index (changed for a create or update,
// deleted for a delete) before next handles it. controller-runtime hands a
// handler the object of a tombstone, so a pod deleted while the watch was
// down reaches deleted too.
func indexing(changed, deleted func(client.Object), next handler.EventHandler) handler.EventHandler {
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			changed(e.Object)
			next.Create(ctx, e, q)
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			changed(e.ObjectNew)
			next.Update(ctx, e, q)
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			deleted(e.Object)
			next.Delete(ctx, e, q)
		},
		GenericFunc: func(ctx context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			next.Generic(ctx, e, q)
		},
	}
}
