package readiness

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	toolscache "k8s.io/client-go/tools/cache"
)

func TestKeepsFailing(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		f    failures
		want bool
	}{
		{name: "two failures", f: failures{count: 2, last: now, resourceVersion: "7"}, want: false},
		{name: "three failures, just now", f: failures{count: 3, last: now, resourceVersion: "7"}, want: true},
		{name: "many failures, the last one minute ago", f: failures{count: 9, last: now.Add(-time.Minute), resourceVersion: "7"}, want: true},
		{name: "silent for RecoveredAfter", f: failures{count: 9, last: now.Add(-RecoveredAfter), resourceVersion: "7"}, want: false},
		{name: "a list got through since", f: failures{count: 9, last: now, resourceVersion: "6"}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := keepsFailing(tt.f, "7", now); got != tt.want {
				t.Errorf("keepsFailing(%+v) = %v, want %v", tt.f, got, tt.want)
			}
		})
	}
}

// TestWatchesFollowAReflectorsFailures feeds the errors a reflector of pods
// reports, as client-go hands them to the watch error handler.
func TestWatchesFollowAReflectorsFailures(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := NewWatches()
	w.now = func() time.Time { return now }
	pods := toolscache.NewReflector(&toolscache.ListWatch{}, &corev1.Pod{}, toolscache.NewStore(toolscache.MetaNamespaceKeyFunc), 0)
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New(`User "system:serviceaccount:x:y" cannot list resource "pods"`))
	fail := func(err error, after time.Duration) {
		now = now.Add(after)
		w.HandleWatchError(context.Background(), pods, err)
	}

	// The routine ends of a watch never count.
	for range 5 {
		fail(io.EOF, time.Second)
		fail(io.ErrUnexpectedEOF, time.Second)
		fail(apierrors.NewResourceExpired("too old resource version"), time.Second)
	}
	if err := w.Failing(); err != nil {
		t.Fatalf("routine watch ends made it fail: %v", err)
	}

	fail(forbidden, time.Second)
	fail(forbidden, 800*time.Millisecond)
	if err := w.Failing(); err != nil {
		t.Fatalf("two failures made it fail: %v", err)
	}
	fail(forbidden, 1600*time.Millisecond)
	err := w.Failing()
	if err == nil || !strings.Contains(err.Error(), "watch of *v1.Pod failed 3 times in a row") || !strings.Contains(err.Error(), `cannot list resource "pods"`) {
		t.Fatalf("Failing() = %v, want the pods' watch named with its error", err)
	}

	// Retries keep coming, at most 60 s apart: still failing.
	fail(forbidden, 59*time.Second)
	now = now.Add(RecoveredAfter - time.Second)
	if w.Failing() == nil {
		t.Fatal("recovered before RecoveredAfter of silence")
	}
	now = now.Add(time.Second)
	if err := w.Failing(); err != nil {
		t.Fatalf("still failing after RecoveredAfter of silence: %v", err)
	}

	// A failure after recovery starts a new run.
	fail(forbidden, time.Second)
	if err := w.Failing(); err != nil {
		t.Fatalf("one failure after recovery made it fail: %v", err)
	}
}
