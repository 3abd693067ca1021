package outage

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	toolscache "k8s.io/client-go/tools/cache"
)

// refused is the error a list or watch gets from a stopped API server.
var refused = &url.Error{Op: "Get", URL: "https://127.0.0.1:6443/api/v1/pods",
	Err: fmt.Errorf("dial tcp 127.0.0.1:6443: connect: %w", syscall.ECONNREFUSED)}

// fakeServer is an API server that is down until up is set.
type fakeServer struct {
	up     atomic.Bool
	probes atomic.Int64
	calls  atomic.Int64
	// answer is what a call gets while the server is up.
	answer error
}

func (s *fakeServer) probe(context.Context) error {
	s.probes.Add(1)
	if s.up.Load() {
		return nil
	}
	return errors.New("readyz: 500")
}

func (s *fakeServer) listWatch() *toolscache.ListWatch {
	return &toolscache.ListWatch{
		ListWithContextFunc: func(context.Context, metav1.ListOptions) (runtime.Object, error) {
			s.calls.Add(1)
			if !s.up.Load() {
				return nil, refused
			}
			return &corev1.PodList{}, s.answer
		},
		WatchFuncWithContext: func(context.Context, metav1.ListOptions) (watch.Interface, error) {
			s.calls.Add(1)
			if !s.up.Load() {
				return nil, refused
			}
			if s.answer != nil {
				return nil, s.answer
			}
			return watch.NewFake(), nil
		},
	}
}

func TestUnreachable(t *testing.T) {
	gr := schema.GroupResource{Resource: "pods"}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"connection refused", refused, true},
		{"connection reset", &url.Error{Op: "Get", Err: syscall.ECONNRESET}, true},
		{"503", apierrors.NewServiceUnavailable("starting"), true},
		{"403", apierrors.NewForbidden(gr, "", errors.New("no")), false},
		{"410 Gone", apierrors.NewResourceExpired("too old resource version"), false},
		{"429", apierrors.NewTooManyRequests("storage is (re)initializing", 1), false},
		{"500", apierrors.NewInternalError(errors.New("boom")), false},
	} {
		if got := Unreachable(tc.err); got != tc.want {
			t.Errorf("%s: Unreachable = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A watch and a list made while the API server is down return only once it
// is ready again, with the answer of the call made then, and every informer
// waits on the same probe.
func TestCallsWaitForTheAPIServerOnOneProbe(t *testing.T) {
	s := &fakeServer{}
	g := newGate(s.probe, 10*time.Millisecond)
	lw := toolscache.ToListerWatcherWithContext(g.Wrap(s.listWatch()))
	const informers = 20
	var wg sync.WaitGroup
	errs := make(chan error, 2*informers)
	for range informers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			w, err := lw.WatchWithContext(context.Background(), metav1.ListOptions{})
			if err == nil {
				w.Stop()
			}
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := lw.ListWithContext(context.Background(), metav1.ListOptions{})
			errs <- err
		}()
	}
	time.Sleep(200 * time.Millisecond)
	if got := s.calls.Load(); got != 2*informers {
		t.Fatalf("while the API server is down: %d calls, want %d (one each, then they wait)", got, 2*informers)
	}
	if len(errs) != 0 {
		t.Fatalf("a call returned while the API server was down: %v", <-errs)
	}
	probes := s.probes.Load()
	// One probe, sleeping at least 10 ms between two, sends at most 21 in
	// 200 ms; one per waiting call would be 40 a round.
	if probes < 1 || probes > 21 {
		t.Errorf("%d probes in 200 ms at one per 10 to 15 ms from one shared probe", probes)
	}
	s.up.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("after the API server's return: %v", err)
		}
	}
	if got := s.calls.Load(); got != 4*informers {
		t.Errorf("%d calls in all, want %d: each made once more after the return", got, 4*informers)
	}
	if got := g.Probes(); got != s.probes.Load() {
		t.Errorf("Probes() = %d, the probe ran %d times", got, s.probes.Load())
	}
}

// An answer of a working API server reaches the reflector at once, without a
// probe.
func TestOtherErrorsPassStraightThrough(t *testing.T) {
	gr := schema.GroupResource{Resource: "pods"}
	for _, answer := range []error{
		apierrors.NewForbidden(gr, "", errors.New("no")),
		apierrors.NewResourceExpired("too old resource version"),
		apierrors.NewTooManyRequests("storage is (re)initializing", 1),
	} {
		s := &fakeServer{answer: answer}
		s.up.Store(true)
		lw := toolscache.ToListerWatcherWithContext(newGate(s.probe, time.Millisecond).Wrap(s.listWatch()))
		if _, err := lw.WatchWithContext(context.Background(), metav1.ListOptions{}); !errors.Is(err, answer) {
			t.Errorf("watch: got %v, want %v", err, answer)
		}
		if _, err := lw.ListWithContext(context.Background(), metav1.ListOptions{}); !errors.Is(err, answer) {
			t.Errorf("list: got %v, want %v", err, answer)
		}
		if s.probes.Load() != 0 || s.calls.Load() != 2 {
			t.Errorf("%v: %d probes and %d calls, want 0 and 2", answer, s.probes.Load(), s.calls.Load())
		}
	}
}

// When the API server says it is ready but the call fails again, that error
// goes to the reflector, whose backoff then applies: the Gate retries once.
func TestSecondFailureGoesToTheReflector(t *testing.T) {
	s := &fakeServer{}
	lw := toolscache.ToListerWatcherWithContext(newGate(func(context.Context) error { return nil }, time.Millisecond).Wrap(s.listWatch()))
	_, err := lw.WatchWithContext(context.Background(), metav1.ListOptions{})
	if !Unreachable(err) {
		t.Fatalf("got %v, want the refused connection", err)
	}
	if got := s.calls.Load(); got != 2 {
		t.Errorf("%d calls, want 2", got)
	}
}

// A stopping informer does not wait for the API server.
func TestWaitEndsWithTheContext(t *testing.T) {
	s := &fakeServer{}
	lw := toolscache.ToListerWatcherWithContext(newGate(s.probe, time.Millisecond).Wrap(s.listWatch()))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := lw.ListWithContext(ctx, metav1.ListOptions{}); !Unreachable(err) {
		t.Errorf("got %v, want the refused connection", err)
	}
	s.up.Store(true) // let the probe end
}
