// Package readiness makes the manager's /readyz mean something: it fails while
// the informer caches have not synced, or while one of their watches keeps
// failing (pods forbidden, for example), because then every status the
// manager writes may be stale.
package readiness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
)

const (
	// FailuresBeforeNotReady is how many failed list or watch attempts in a row
	// make a watch count as failing: one broken connection is not, a rule
	// that forbids the list is (client-go retries it 0.8 s, 1.6 s, 3.2 s, ...
	// later, so three take about 5 s).
	FailuresBeforeNotReady = 3
	// RecoveredAfter is how long after its last failure a watch counts as
	// working again even if nothing showed that it is. A failing watch is
	// retried at most 60 s apart (client-go's backoff stops at 30 s, with up to
	// 100% jitter), so silence longer than that says it recovered. A list that
	// succeeds (the reflector's resource version moves) says so at once.
	RecoveredAfter = 90 * time.Second
	// syncWait is how long a probe waits for the caches to sync.
	syncWait = time.Second
)

// Watches records the failures of the informers' watches. Its HandleWatchError
// is the cache's DefaultWatchErrorHandler and its Checker the /readyz check.
type Watches struct {
	mu       sync.Mutex
	failures map[*toolscache.Reflector]*failures
	now      func() time.Time
}

// failures is the current run of failures of one reflector.
type failures struct {
	resource string
	count    int
	last     time.Time
	err      error
	// resourceVersion is the reflector's last synced resource version at the
	// last failure; it moves when a list or a watch event gets through.
	resourceVersion string
}

// NewWatches returns a Watches with no failures.
func NewWatches() *Watches {
	return &Watches{failures: map[*toolscache.Reflector]*failures{}, now: time.Now}
}

// HandleWatchError logs err as client-go's default handler does and records it
// unless it is part of a watch's normal life (expired resource version, closed
// connection).
func (w *Watches) HandleWatchError(ctx context.Context, r *toolscache.Reflector, err error) {
	toolscache.DefaultWatchErrorHandler(ctx, r, err)
	if routine(err) {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	resourceVersion := r.LastSyncResourceVersion()
	f := w.failures[r]
	if f == nil {
		f = &failures{resource: r.TypeDescription()}
		w.failures[r] = f
	}
	// A list or watch event that got through since the last failure, or a
	// long silence, ended that run of failures.
	if f.resourceVersion != resourceVersion || now.Sub(f.last) >= RecoveredAfter {
		f.count = 0
	}
	f.count++
	f.last = now
	f.err = err
	f.resourceVersion = resourceVersion
}

// routine says whether err is part of a watch's normal life rather than a
// failure: the reflector relists at once and nothing is stale for long.
func routine(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		apierrors.IsResourceExpired(err) || apierrors.IsGone(err)
}

// keepsFailing says whether a run of failures still counts as a failing watch
// when the reflector's resource version is resourceVersion at now.
func keepsFailing(f failures, resourceVersion string, now time.Time) bool {
	return f.count >= FailuresBeforeNotReady && f.resourceVersion == resourceVersion && now.Sub(f.last) < RecoveredAfter
}

// Failing returns an error naming every watch that keeps failing, nil if none.
func (w *Watches) Failing() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	var messages []string
	for r, f := range w.failures {
		if keepsFailing(*f, r.LastSyncResourceVersion(), now) {
			messages = append(messages, fmt.Sprintf("watch of %s failed %d times in a row, last %s ago: %v", f.resource, f.count, now.Sub(f.last).Round(time.Second), f.err))
		}
	}
	if len(messages) == 0 {
		return nil
	}
	sort.Strings(messages)
	return errors.New(strings.Join(messages, "; "))
}

// Checker is the /readyz check: it fails while c has not synced every
// informer started so far (a replica that does not lead has started none),
// then while some watch keeps failing.
func (w *Watches) Checker(c cache.Cache) healthz.Checker {
	return func(req *http.Request) error {
		ctx, cancel := context.WithTimeout(req.Context(), syncWait)
		defer cancel()
		if !c.WaitForCacheSync(ctx) {
			return errors.New("the informer caches have not synced")
		}
		return w.Failing()
	}
}
