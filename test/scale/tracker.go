package main

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

// tool is one of the two programs under comparison.
type tool int

const (
	endpointSlices tool = iota // kube-controller-manager's EndpointSlice controller
	operator                   // labelgroup-operator
)

func (t tool) String() string {
	return [...]string{"EndpointSlice controller", "labelgroup-operator"}[t]
}

// key names a selector: a headless Service and a LabelGroup of the same name
// and namespace select the same pods.
type key struct{ namespace, name string }

// groupStatus is what a LabelGroup's status says about its members.
type groupStatus struct {
	computed bool // observedGeneration is the generation
	count    int32
	members  []string
}

// tracker knows which pods every selector should pick (the harness made every
// change) and what each tool has recorded (from watches), and so when each
// tool's records are all correct.
type tracker struct {
	memberLimit int

	mu        sync.Mutex
	expected  map[key]map[string]bool
	slices    map[key]map[string][]string // Service -> EndpointSlice name -> pod names
	groups    map[key]groupStatus
	wrong     [2]map[key]bool
	lastRight [2]time.Time // when the tool's last wrong record became right
	writes    [2]int64     // EndpointSlice adds and updates; LabelGroup updates
	// perSecond counts writes per record and wall-clock second while counting.
	counting  bool
	perSecond [2]map[key]map[int64]int
	// undelivered holds the relabelled pods whose new label the harness's own
	// pod watch has not seen yet, and delivered when it last saw them all: no
	// tool can be right before the API server has told it of the change.
	undelivered map[key]string
	delivered   time.Time
}

func newTracker(memberLimit int) *tracker {
	t := &tracker{
		memberLimit: memberLimit,
		expected:    map[key]map[string]bool{},
		slices:      map[key]map[string][]string{},
		groups:      map[key]groupStatus{},
		undelivered: map[key]string{},
	}
	for i := range t.wrong {
		t.wrong[i] = map[key]bool{}
		t.perSecond[i] = map[key]map[int64]int{}
	}
	return t
}

// watch feeds the tracker from informers on EndpointSlices and LabelGroups.
func (t *tracker) watch(ctx context.Context, c cache.Cache) error {
	es, err := c.GetInformer(ctx, &discoveryv1.EndpointSlice{})
	if err != nil {
		return err
	}
	if _, err := es.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { t.sliceChanged(obj.(*discoveryv1.EndpointSlice), false) },
		UpdateFunc: func(_, obj any) { t.sliceChanged(obj.(*discoveryv1.EndpointSlice), false) },
		DeleteFunc: func(obj any) {
			if s, ok := obj.(*discoveryv1.EndpointSlice); ok {
				t.sliceChanged(s, true)
			}
		},
	}); err != nil {
		return err
	}
	pods := &metav1.PartialObjectMetadata{}
	pods.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Pod"))
	pi, err := c.GetInformer(ctx, pods)
	if err != nil {
		return err
	}
	if _, err := pi.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, obj any) { t.podChanged(obj.(*metav1.PartialObjectMetadata)) },
	}); err != nil {
		return err
	}
	lg, err := c.GetInformer(ctx, &v1alpha1.LabelGroup{})
	if err != nil {
		return err
	}
	_, err = lg.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { t.groupChanged(obj.(*v1alpha1.LabelGroup), false) },
		UpdateFunc: func(_, obj any) { t.groupChanged(obj.(*v1alpha1.LabelGroup), true) },
	})
	return err
}

func (t *tracker) sliceChanged(s *discoveryv1.EndpointSlice, deleted bool) {
	k := key{s.Namespace, s.Labels[discoveryv1.LabelServiceName]}
	var pods []string
	for _, e := range s.Endpoints {
		if e.TargetRef != nil && e.TargetRef.Kind == "Pod" {
			pods = append(pods, e.TargetRef.Name)
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.slices[k] == nil {
		t.slices[k] = map[string][]string{}
	}
	if deleted {
		delete(t.slices[k], s.Name)
	} else {
		t.slices[k][s.Name] = pods
		t.countWrite(endpointSlices, k)
	}
	t.recheck(endpointSlices, k)
}

func (t *tracker) groupChanged(g *v1alpha1.LabelGroup, update bool) {
	k := key{g.Namespace, g.Name}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.groups[k] = groupStatus{
		computed: g.Status.ObservedGeneration == g.Generation,
		count:    g.Status.MemberCount,
		members:  g.Status.Members,
	}
	if update {
		// The harness never changes a group after creating it: every update is
		// the operator's status write.
		t.countWrite(operator, k)
	}
	t.recheck(operator, k)
}

func (t *tracker) countWrite(tl tool, k key) {
	t.writes[tl]++
	if !t.counting {
		return
	}
	if t.perSecond[tl][k] == nil {
		t.perSecond[tl][k] = map[int64]int{}
	}
	t.perSecond[tl][k][time.Now().Unix()]++
}

func (t *tracker) podChanged(p *metav1.PartialObjectMetadata) {
	k := key{p.Namespace, p.Name}
	t.mu.Lock()
	defer t.mu.Unlock()
	if want, ok := t.undelivered[k]; ok && p.Labels[groupLabel] == want {
		delete(t.undelivered, k)
		if len(t.undelivered) == 0 {
			t.delivered = time.Now()
		}
	}
}

// deliveredAt returns when the harness's pod watch last caught up with every relabel.
func (t *tracker) deliveredAt() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.delivered
}

// expect records that the selector k now picks pods.
func (t *tracker) expect(k key, pods map[string]bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expected[k] = pods
	t.recheck(endpointSlices, k)
	t.recheck(operator, k)
}

// move records that a pod left one selector for another.
func (t *tracker) move(from, to key, pod string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.expected[from], pod)
	t.expected[to][pod] = true
	t.undelivered[key{from.namespace, pod}] = to.name
	for _, k := range []key{from, to} {
		t.recheck(endpointSlices, k)
		t.recheck(operator, k)
	}
}

// recheck compares one record of one tool with the truth; t.mu is held.
func (t *tracker) recheck(tl tool, k key) {
	want, ok := t.expected[k]
	if !ok {
		return
	}
	var right bool
	switch tl {
	case endpointSlices:
		right = t.slicesRight(k, want)
	case operator:
		right = t.groupRight(k, want)
	}
	if !right {
		t.wrong[tl][k] = true
		return
	}
	if t.wrong[tl][k] {
		delete(t.wrong[tl], k)
		if len(t.wrong[tl]) == 0 {
			t.lastRight[tl] = time.Now()
		}
	}
}

func (t *tracker) slicesRight(k key, want map[string]bool) bool {
	slices := t.slices[k]
	if len(slices) == 0 {
		return false
	}
	n := 0
	for _, pods := range slices {
		for _, p := range pods {
			if !want[p] {
				return false
			}
			n++
		}
	}
	return n == len(want)
}

func (t *tracker) groupRight(k key, want map[string]bool) bool {
	g, ok := t.groups[k]
	if !ok || !g.computed || int(g.count) != len(want) {
		return false
	}
	names := make([]string, 0, len(want))
	for p := range want {
		names = append(names, p)
	}
	sort.Strings(names)
	if len(names) > t.memberLimit {
		names = names[:t.memberLimit]
	}
	return slices.Equal(names, g.members)
}

// converged waits until both tools have had every record right for settle,
// and returns when each got its last wrong record right.
func (t *tracker) converged(ctx context.Context, settle, timeout time.Duration) ([2]time.Time, error) {
	deadline := time.Now().Add(timeout)
	var rightSince time.Time
	for {
		t.mu.Lock()
		allRight := len(t.wrong[endpointSlices]) == 0 && len(t.wrong[operator]) == 0
		last := t.lastRight
		wrong := [2]int{len(t.wrong[endpointSlices]), len(t.wrong[operator])}
		t.mu.Unlock()
		switch {
		case !allRight:
			rightSince = time.Time{}
		case rightSince.IsZero():
			rightSince = time.Now()
		case time.Since(rightSince) >= settle:
			return last, nil
		}
		if time.Now().After(deadline) {
			return last, fmt.Errorf("not converged after %s: %d Services and %d LabelGroups still wrong", timeout, wrong[0], wrong[1])
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// rightAgain waits until one tool has every record right, and returns when it
// got its last wrong record right.
func (t *tracker) rightAgain(ctx context.Context, tl tool, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	for {
		t.mu.Lock()
		wrong, last := len(t.wrong[tl]), t.lastRight[tl]
		t.mu.Unlock()
		if wrong == 0 {
			return last, nil
		}
		if time.Now().After(deadline) {
			return last, fmt.Errorf("%s: %d records still wrong after %s", tl, wrong, timeout)
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// writeCounts returns both tools' write counters.
func (t *tracker) writeCounts() [2]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.writes
}

// countPerSecond starts (or stops and returns the statistics of) counting
// writes per record and second.
func (t *tracker) countPerSecond(on bool) [2]rateStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.counting = on
	var stats [2]rateStats
	for tl := range t.perSecond {
		for _, secs := range t.perSecond[tl] {
			for _, n := range secs {
				stats[tl].total += n
				stats[tl].max = max(stats[tl].max, n)
			}
		}
		stats[tl].records = len(t.perSecond[tl])
		t.perSecond[tl] = map[key]map[int64]int{}
	}
	return stats
}

// rateStats sums writes counted per record and second.
type rateStats struct {
	total   int // writes
	max     int // most writes to one record in one second
	records int // records written at least once
}
