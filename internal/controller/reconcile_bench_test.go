package controller

import (
	"context"

	"fmt"
	"github.com/go-logr/logr"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

// BenchmarkOnePodEvent measures what one pod event costs the operator, from
// the moment the informer's store holds the new pod: what the event handlers
// do with it (feed the namespace's index) and the reconcile of its namespace (cache read, compute, compare,
// metrics, and the status patches of the two groups the pod moved between,
// answered by a stub that puts the patched group in the cache as the watch
// would). The namespace is make bench-scale's: pods labelled
// bench.labelgroup.io/group=g-<i mod 200>, 200 groups each selecting one
// value. Each event moves one pod, spread over the namespace, to the next
// group. The cache is controller-runtime's own, fed by a lister-watcher that
// hands it the namespace and is then changed directly, as the reflector does.
func BenchmarkOnePodEvent(b *testing.B) {
	for _, pods := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("pods=%d/groups=200", pods), func(b *testing.B) {
			benchmarkOnePodEvent(b, pods, 200)
		})
	}
}

const benchNamespace = "bench"

func benchmarkOnePodEvent(b *testing.B, podCount, groupCount int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logf.SetLogger(logr.Discard())
	cluster := newBenchCluster(b, ctx, podCount, groupCount)
	r := cluster.reconciler(ctx)
	req := ctrl.Request{NamespacedName: client.ObjectKey{Namespace: benchNamespace}}
	if _, err := r.Reconcile(ctx, req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		// A stride coprime with the pod count visits every pod in turn,
		// spread over the name order.
		i := (n * 7919) % podCount
		n++
		cluster.relabel(i, (cluster.groupOf[i]+1)%groupCount)
		if _, err := r.Reconcile(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if cluster.writes == 0 {
		b.Fatal("no status was written: the events changed nothing")
	}
}

// benchCluster is a controller-runtime cache over informers whose stores the
// benchmark changes, and a client that reads from it and answers status
// patches by storing the patched group.
type benchCluster struct {
	b        testing.TB
	cache    cache.Cache
	client   client.Client
	pods     toolscache.SharedIndexInformer
	groups   toolscache.SharedIndexInformer
	groupOf  []int
	podNames []string
	// onPod and onGroup are what the informers' event handlers do with a change.
	onPod   func(client.Object)
	onGroup func(*v1alpha1.LabelGroup)

	mu     sync.Mutex
	rv     int
	writes int
}

func newBenchCluster(b testing.TB, ctx context.Context, podCount, groupCount int) *benchCluster {
	c := &benchCluster{b: b, groupOf: make([]int, podCount), podNames: make([]string, podCount)}
	podList := &metav1.PartialObjectMetadataList{}
	for i := range podCount {
		c.groupOf[i] = i % groupCount
		c.podNames[i] = fmt.Sprintf("pod-%06d", i)
		podList.Items = append(podList.Items, *c.pod(i))
	}
	groupList := &v1alpha1.LabelGroupList{}
	for g := range groupCount {
		groupList.Items = append(groupList.Items, v1alpha1.LabelGroup{
			ObjectMeta: metav1.ObjectMeta{Name: groupName(g), Namespace: benchNamespace, Generation: 1, ResourceVersion: c.nextRV()},
			Spec: v1alpha1.LabelGroupSpec{Selector: v1alpha1.LabelSelector{
				MatchLabels: map[string]v1alpha1.LabelValue{"bench.labelgroup.io/group": v1alpha1.LabelValue(groupName(g))}}},
		})
	}
	podList.ResourceVersion, groupList.ResourceVersion = c.nextRV(), c.nextRV()

	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		b.Fatal(err)
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		b.Fatal(err)
	}
	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(corev1.SchemeGroupVersion.WithKind("Pod"), meta.RESTScopeNamespace)
	mapper.Add(v1alpha1.GroupVersion.WithKind("LabelGroup"), meta.RESTScopeNamespace)
	opts := CacheOptions()
	opts.Scheme, opts.Mapper, opts.HTTPClient = scheme, mapper, http.DefaultClient
	opts.NewInformer = func(_ toolscache.ListerWatcher, obj runtime.Object, resync time.Duration, indexers toolscache.Indexers) toolscache.SharedIndexInformer {
		var list runtime.Object = groupList
		if _, ok := obj.(*metav1.PartialObjectMetadata); ok {
			list = podList
		}
		lw := listWatchWithoutWatchList{&toolscache.ListWatch{
			ListFunc:  func(metav1.ListOptions) (runtime.Object, error) { return list, nil },
			WatchFunc: func(metav1.ListOptions) (watch.Interface, error) { return watch.NewFake(), nil },
		}}
		informer := toolscache.NewSharedIndexInformer(lw, obj, resync, indexers)
		if list == podList {
			c.pods = informer
		} else {
			c.groups = informer
		}
		return informer
	}
	var err error
	c.cache, err = cache.New(&rest.Config{Host: "http://127.0.0.1:1"}, opts)
	if err != nil {
		b.Fatal(err)
	}
	podInformerObj := &metav1.PartialObjectMetadata{}
	podInformerObj.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Pod"))
	for _, obj := range []client.Object{podInformerObj, &v1alpha1.LabelGroup{}} {
		if _, err := c.cache.GetInformer(ctx, obj); err != nil {
			b.Fatal(err)
		}
	}
	go func() { _ = c.cache.Start(ctx) }()
	if !c.cache.WaitForCacheSync(ctx) {
		b.Fatal("cache did not sync")
	}
	c.client = interceptor.NewClient(fake.NewClientBuilder().WithScheme(scheme).Build(), interceptor.Funcs{
		Get: func(ctx context.Context, _ client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			return c.cache.Get(ctx, key, obj, opts...)
		},
		List: func(ctx context.Context, _ client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			return c.cache.List(ctx, list, opts...)
		},
		SubResourcePatch: func(_ context.Context, _ client.Client, _ string, obj client.Object, _ client.Patch, _ ...client.SubResourcePatchOption) error {
			group := obj.(*v1alpha1.LabelGroup)
			group.ResourceVersion = c.nextRV()
			c.mu.Lock()
			c.writes++
			c.mu.Unlock()
			stored := group.DeepCopy()
			c.deliverGroup(stored)
			return nil
		},
	})
	return c
}

// listWatchWithoutWatchList tells the reflector to list, then watch: the
// benchmark's watch sends nothing, not even the bookmark a streaming list ends
// with.
type listWatchWithoutWatchList struct{ *toolscache.ListWatch }

func (listWatchWithoutWatchList) IsWatchListSemanticsUnSupported() bool { return true }

// reconciler returns a reconciler whose index the informers' handlers fill,
// as SetupWithManager's watches do, and to which the benchmark then hands
// every change it makes to the cache.
func (c *benchCluster) reconciler(ctx context.Context) *LabelGroupReconciler {
	r := &LabelGroupReconciler{Client: c.client, Recorder: &events.FakeRecorder{}, MemberLimit: 100, OverlapLimit: 100, StatusWriters: 64}
	r.index.memberLimit = r.MemberLimit
	c.onPod = r.index.podChanged
	c.onGroup = func(group *v1alpha1.LabelGroup) {
		if !r.own.isEcho(group) {
			r.index.groupChanged(group)
		}
	}
	for informer, changed := range map[toolscache.SharedIndexInformer]func(client.Object){c.pods: r.index.podChanged, c.groups: r.index.groupChanged} {
		registration, err := informer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc: func(obj any) { changed(obj.(client.Object)) },
		})
		if err != nil {
			c.b.Fatal(err)
		}
		if !toolscache.WaitForCacheSync(ctx.Done(), registration.HasSynced) {
			c.b.Fatal("handlers did not sync")
		}
	}
	return r
}

func groupName(g int) string { return fmt.Sprintf("g-%04d", g) }

func (c *benchCluster) nextRV() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rv++
	return strconv.Itoa(c.rv)
}

// pod is pod i as the cache transform leaves it.
func (c *benchCluster) pod(i int) *metav1.PartialObjectMetadata {
	p := &metav1.PartialObjectMetadata{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: c.podNames[i], Namespace: benchNamespace, UID: types.UID("uid-" + c.podNames[i]), ResourceVersion: c.nextRV(),
			Labels: map[string]string{"app": "bench", "bench.labelgroup.io/group": groupName(c.groupOf[i])}},
	}
	return slimMetadata(p)
}

// relabel moves pod i to group g, as the reflector would on its watch event.
func (c *benchCluster) relabel(i, g int) {
	c.groupOf[i] = g
	c.deliverPod(c.pod(i))
}

func (c *benchCluster) deliverPod(pod *metav1.PartialObjectMetadata) {
	if err := c.pods.GetIndexer().Update(pod); err != nil {
		c.b.Fatal(err)
	}
	c.onPod(pod)
}

func (c *benchCluster) deliverGroup(group *v1alpha1.LabelGroup) {
	if err := c.groups.GetIndexer().Update(group); err != nil {
		c.b.Fatal(err)
	}
	c.onGroup(group)
}
