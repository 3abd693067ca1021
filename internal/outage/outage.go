// Package outage lets the manager's informers ride out an API server outage
// without growing client-go's reflector backoff, so that they relist within a
// second or two of the API server's return instead of 20 to 30 s later.
//
// A reflector retries a failed list or watch after a delay that doubles with
// every failure in a row (0.8 s, 1.6 s, 3.2 s, ... up to 30 s, with up to
// 100% jitter) and is forgotten only after 2 min without one. A 10 s outage
// therefore leaves each informer with a 13 to 25 s delay before the relist
// that the API server's return asks for (its restarted watch cache answers the
// old resource version with 410 Gone). client-go has no supported knob for
// that backoff on a SharedIndexInformer, and controller-runtime none on its
// cache; what the cache does offer is the NewInformer hook, through which
// Gate.NewInformer wraps every informer's ListerWatcher.
//
// The wrapper hands a list or watch that fails because the API server cannot
// be reached (connection refused or reset, 503) not back to the reflector but
// to one probe shared by every informer: GET /readyz once a second until the
// API server says it is ready. Then the call is made once more and its result,
// success or error, goes to the reflector. So during an outage the manager
// sends one cheap request a second instead of its informers' lists and
// watches, the reflector's backoff stays where it was, and every other error
// (403, 410 Gone, 429, a second failure after /readyz said ready) reaches the
// reflector and its backoff unchanged.
package outage

import (
	"context"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

const (
	// ProbeInterval is how long the probe waits between two GET /readyz
	// (plus up to 50% jitter, so that replicas do not probe in step).
	ProbeInterval = time.Second
	// probeTimeout bounds one GET /readyz.
	probeTimeout = 5 * time.Second
)

// Gate makes the informers that NewInformer builds wait for the API server
// while it cannot be reached. One Gate serves every informer of a manager.
type Gate struct {
	probe    func(ctx context.Context) error
	interval time.Duration

	mu sync.Mutex
	// serving is closed when the running probe saw the API server ready; nil
	// while no probe runs.
	serving chan struct{}
	probes  int64
}

// NewGate returns a Gate that probes the API server of cfg.
func NewGate(cfg *rest.Config) (*Gate, error) {
	client, err := discovery.NewDiscoveryClientForConfig(rest.CopyConfig(cfg))
	if err != nil {
		return nil, err
	}
	readyz := func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, probeTimeout)
		defer cancel()
		return client.RESTClient().Get().AbsPath("/readyz").Do(ctx).Error()
	}
	return newGate(readyz, ProbeInterval), nil
}

func newGate(probe func(ctx context.Context) error, interval time.Duration) *Gate {
	return &Gate{probe: probe, interval: interval}
}

// NewInformer is controller-runtime's cache.Options.NewInformer: client-go's
// shared index informer, over lw wrapped by the Gate.
func (g *Gate) NewInformer(lw toolscache.ListerWatcher, obj runtime.Object, resync time.Duration, indexers toolscache.Indexers) toolscache.SharedIndexInformer {
	return toolscache.NewSharedIndexInformer(g.Wrap(lw), obj, resync, indexers)
}

// Wrap wraps lw: a list or watch that finds the API server unreachable waits
// until the API server is ready, then is made once more. The result also
// implements toolscache.ListerWatcherWithContext, which the reflector calls.
func (g *Gate) Wrap(lw toolscache.ListerWatcher) toolscache.ListerWatcher {
	return &listerWatcher{gate: g, lw: toolscache.ToListerWatcherWithContext(lw)}
}

// Probes returns how many GET /readyz the Gate has sent.
func (g *Gate) Probes() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.probes
}

// Unreachable says whether err means the API server could not be reached or
// is not serving at all: the errors the Gate waits out. Everything else is an
// answer of a working API server and goes to the reflector.
func Unreachable(err error) bool {
	return err != nil && (utilnet.IsConnectionRefused(err) || utilnet.IsConnectionReset(err) ||
		utilnet.IsProbableEOF(err) || apierrors.IsServiceUnavailable(err))
}

// waitUntilServing returns when a probe saw the API server ready, or with
// ctx's error. Every caller waits on the same probe.
func (g *Gate) waitUntilServing(ctx context.Context) error {
	g.mu.Lock()
	serving := g.serving
	if serving == nil {
		serving = make(chan struct{})
		g.serving = serving
		go g.probeUntilServing(serving)
	}
	g.mu.Unlock()
	select {
	case <-serving:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// probeUntilServing probes until the API server is ready, then closes serving.
// It ends only then: an informer whose wait was cancelled is stopping, and the
// others still wait on this probe.
func (g *Gate) probeUntilServing(serving chan struct{}) {
	logger := log.Log.WithName("outage")
	logger.Info("Waiting for the API server to be ready; lists and watches are held until then")
	began := time.Now()
	for {
		g.mu.Lock()
		g.probes++
		g.mu.Unlock()
		err := g.probe(context.Background())
		if err == nil {
			break
		}
		logger.V(4).Info("API server not ready yet", "err", err)
		time.Sleep(wait.Jitter(g.interval, 0.5))
	}
	logger.Info("API server ready; resuming lists and watches", "waited", time.Since(began).Round(time.Millisecond))
	g.mu.Lock()
	g.serving = nil
	g.mu.Unlock()
	close(serving)
}

// listerWatcher is a ListerWatcher whose calls wait out an unreachable API
// server.
type listerWatcher struct {
	gate *Gate
	lw   toolscache.ListerWatcherWithContext
}

func (l *listerWatcher) ListWithContext(ctx context.Context, options metav1.ListOptions) (runtime.Object, error) {
	return retryOnce(ctx, l.gate, func() (runtime.Object, error) { return l.lw.ListWithContext(ctx, options) })
}

func (l *listerWatcher) WatchWithContext(ctx context.Context, options metav1.ListOptions) (watch.Interface, error) {
	return retryOnce(ctx, l.gate, func() (watch.Interface, error) { return l.lw.WatchWithContext(ctx, options) })
}

// List and Watch are the context-free forms the ListerWatcher interface still
// requires; the reflector calls the ones with a context.
func (l *listerWatcher) List(options metav1.ListOptions) (runtime.Object, error) {
	return l.ListWithContext(context.Background(), options)
}

func (l *listerWatcher) Watch(options metav1.ListOptions) (watch.Interface, error) {
	return l.WatchWithContext(context.Background(), options)
}

// retryOnce makes call; if the API server was unreachable, it waits until the
// API server is ready and makes call once more.
func retryOnce[T any](ctx context.Context, g *Gate, call func() (T, error)) (T, error) {
	result, err := call()
	if !Unreachable(err) {
		return result, err
	}
	if waitErr := g.waitUntilServing(ctx); waitErr != nil {
		return result, err
	}
	return call()
}
