package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

// groupLabel is the label every selector of the run matches on: pod i of a
// namespace starts in group i mod groups; a relabel moves it to the next one.
const groupLabel = "bench.labelgroup.io/group"

// workload lays the pods and selectors out and makes every change to them,
// telling the tracker first.
type workload struct {
	p       params
	kube    kubernetes.Interface
	client  client.Client
	tracker *tracker

	// podGroup[ns][j] is the group pod j of namespace ns is in now.
	podGroup [][]int
}

func namespaceName(ns int) string { return fmt.Sprintf("bench-%04d", ns) }
func podName(j int) string        { return fmt.Sprintf("pod-%06d", j) }
func groupName(g int) string      { return fmt.Sprintf("g-%04d", g) }
func nodeName(n int) string       { return fmt.Sprintf("kwok-node-%03d", n) }

func newWorkload(p params, kube kubernetes.Interface, c client.Client, tr *tracker) *workload {
	w := &workload{p: p, kube: kube, client: c, tracker: tr, podGroup: make([][]int, p.namespaces)}
	for i := 0; i < p.pods; i++ {
		ns, j := i%p.namespaces, i/p.namespaces
		w.podGroup[ns] = append(w.podGroup[ns], j%p.groups)
	}
	return w
}

// parallel runs do(0..n-1) on workers goroutines and returns the first error.
func parallel(n, workers int, do func(i int) error) error {
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := do(i); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// createNodes makes the fake nodes kwok runs pods on; each gets a /16 of pod
// IPs of its own.
func (w *workload) createNodes(ctx context.Context) error {
	return parallel(w.p.nodes, 8, func(n int) error {
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name:        nodeName(n),
				Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
				Labels:      map[string]string{"type": "kwok"},
			},
			Spec: corev1.NodeSpec{PodCIDR: fmt.Sprintf("10.%d.0.0/16", n+1)},
			Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{
				corev1.ResourcePods: resource.MustParse("100000"),
			}},
		}
		_, err := w.kube.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
		return err
	})
}

func (w *workload) createNamespaces(ctx context.Context) error {
	return parallel(w.p.namespaces, 8, func(ns int) error {
		_, err := w.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespaceName(ns)}}, metav1.CreateOptions{})
		return err
	})
}

// createPods makes every pod, bound to a fake node so that no scheduler is needed.
func (w *workload) createPods(ctx context.Context) error {
	return parallel(w.p.pods, 32, func(i int) error {
		ns, j := i%w.p.namespaces, i/w.p.namespaces
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Name:      podName(j),
				Namespace: namespaceName(ns),
				Labels:    map[string]string{"app": "bench", groupLabel: groupName(w.podGroup[ns][j])},
			},
			Spec: corev1.PodSpec{
				NodeName:   nodeName(i % w.p.nodes),
				Containers: []corev1.Container{{Name: "app", Image: "localhost/fake:1"}},
			},
		}
		_, err := w.kube.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
		return err
	})
}

// waitPodsRunning waits until kwok has every pod Running and Ready with an IP:
// only then does the EndpointSlice controller list it as ready.
func (w *workload) waitPodsRunning(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		ready := 0
		opts := metav1.ListOptions{Limit: 5000, FieldSelector: "status.phase=Running"}
		for {
			list, err := w.kube.CoreV1().Pods("").List(ctx, opts)
			if err != nil {
				return err
			}
			for _, p := range list.Items {
				if p.Status.PodIP != "" {
					ready++
				}
			}
			if list.Continue == "" {
				break
			}
			opts.Continue = list.Continue
		}
		if ready == w.p.pods {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d pods Running with an IP after %s", ready, w.p.pods, timeout)
		}
		time.Sleep(2 * time.Second)
	}
}

// expectAll tells the tracker what every selector named prefix plus a group's
// name picks.
func (w *workload) expectAll(prefix string) {
	for ns := range w.p.namespaces {
		sets := make([]map[string]bool, w.p.groups)
		for g := range sets {
			sets[g] = map[string]bool{}
		}
		for j, g := range w.podGroup[ns] {
			sets[g][podName(j)] = true
		}
		for g, set := range sets {
			w.tracker.expect(key{namespaceName(ns), prefix + groupName(g)}, set)
		}
	}
}

// createSelectors makes, for every group, a headless Service and a LabelGroup
// with the same selector, interleaved so that neither tool gets a head start.
// Both are named prefix plus the group's name.
func (w *workload) createSelectors(ctx context.Context, prefix string) error {
	n := w.p.namespaces * w.p.groups
	return parallel(2*n, 16, func(i int) error {
		ns, g := (i/2)%w.p.namespaces, (i/2)/w.p.namespaces
		meta := metav1.ObjectMeta{Name: prefix + groupName(g), Namespace: namespaceName(ns)}
		selector := map[string]string{groupLabel: groupName(g)}
		if i%2 == 0 {
			return w.client.Create(ctx, &corev1.Service{
				ObjectMeta: meta,
				Spec: corev1.ServiceSpec{
					ClusterIP: corev1.ClusterIPNone,
					Selector:  selector,
					Ports:     []corev1.ServicePort{{Name: "http", Port: 80}},
				},
			})
		}
		return w.client.Create(ctx, &v1alpha1.LabelGroup{
			ObjectMeta: meta,
			Spec: v1alpha1.LabelGroupSpec{Selector: v1alpha1.LabelSelector{
				MatchLabels: map[string]v1alpha1.LabelValue{groupLabel: v1alpha1.LabelValue(groupName(g))},
			}},
		})
	})
}

// relabel moves pod j of namespace ns to the next group; the caller makes
// sure no other relabel of that pod is in flight.
func (w *workload) relabel(ctx context.Context, ns, j int) error {
	from := w.podGroup[ns][j]
	to := (from + 1) % w.p.groups
	w.podGroup[ns][j] = to
	w.tracker.move(key{namespaceName(ns), groupName(from)}, key{namespaceName(ns), groupName(to)}, podName(j))
	patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%q}}}`, groupLabel, groupName(to))
	_, err := w.kube.CoreV1().Pods(namespaceName(ns)).Patch(ctx, podName(j), types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	return err
}

// podRef names one pod of the run by namespace index and index in it.
type podRef struct{ ns, j int }

// pick returns n distinct pods, at random but the same in every run.
func (w *workload) pick(n int, seed uint64) []podRef {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]podRef, 0, n)
	for _, i := range rng.Perm(w.p.pods)[:n] {
		out = append(out, podRef{i % w.p.namespaces, i / w.p.namespaces})
	}
	return out
}

// touchUnrelated adds a label no selector reads to n pods: both tools see the
// events, and neither should write anything.
func (w *workload) touchUnrelated(ctx context.Context, n int) error {
	pods := w.pick(n, 99)
	return parallel(len(pods), 8, func(i int) error {
		p := pods[i]
		_, err := w.kube.CoreV1().Pods(namespaceName(p.ns)).Patch(ctx, podName(p.j), types.MergePatchType,
			[]byte(`{"metadata":{"labels":{"bench.labelgroup.io/unrelated":"touched"}}}`), metav1.PatchOptions{})
		return err
	})
}
