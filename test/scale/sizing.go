package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/test/builders"
)

// sizingParams are scale sizing's command line.
type sizingParams struct {
	planeFlags
	manager, memoryLimit   string
	pods, namespaces, apps int
	budgets                bool
}

// sizing (scale sizing) measures what the manager needs for a given number of
// pods: it starts a real API server and etcd (envtest), creates the pods (no
// node is needed: a pod's labels are all the operator reads) and LabelGroups
// over them, then runs the manager binary as its own process, as in a cluster,
// and reports how long until every group's status is right and the process's
// peak RSS and heap.
//
//	go -C test build -o ../bin/scale ./scale && bin/scale sizing -manager bin/manager -pods 10000
func sizing(args []string) {
	var p sizingParams
	flags := flag.NewFlagSet("scale sizing", flag.ExitOnError)
	p.planeFlags.register(flags, "bin/sizing")
	flags.StringVar(&p.manager, "manager", "bin/manager", "the manager binary to measure")
	flags.IntVar(&p.pods, "pods", 10000, "pods to create")
	flags.IntVar(&p.namespaces, "namespaces", 0, "namespaces to spread them over (default: one per 1,000 pods)")
	flags.IntVar(&p.apps, "apps", 10, "apps (Deployments) per namespace; each gets a group, and each namespace one group of all its pods")
	flags.StringVar(&p.memoryLimit, "memory-limit", "", "a container memory limit in bytes to pass as MEMORY_LIMIT_BYTES, as the Deployment does (default: none, GOMEMLIMIT off)")
	flags.BoolVar(&p.budgets, "budgets", false, "also create a PodDisruptionBudget per app and one that covers two apps in each namespace, and run the manager with --watch-pod-disruption-budgets")
	_ = flags.Parse(args) // ExitOnError
	if p.namespaces == 0 {
		p.namespaces = max(1, p.pods/1000)
	}
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := measureSizing(ctx, p)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sizing:", err)
		os.Exit(1)
	}
}

func measureSizing(ctx context.Context, p sizingParams) error {
	cp, err := startControlPlane(p.planeFlags, nil)
	if err != nil {
		return fmt.Errorf("starting envtest (set KUBEBUILDER_ASSETS): %w", err)
	}
	defer cp.stop()
	scheme, err := newScheme()
	if err != nil {
		return err
	}
	c, err := client.New(cp.cfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}

	start := time.Now()
	expected, err := populate(ctx, c, p.pods, p.namespaces, p.apps)
	if err != nil {
		return err
	}
	budgetCount := 0
	if p.budgets {
		if budgetCount, err = populateBudgets(ctx, c, p.namespaces, p.apps); err != nil {
			return err
		}
	}
	fmt.Printf("created %d pods and %d groups in %d namespaces in %s\n", p.pods, len(expected), p.namespaces, time.Since(start).Round(time.Second))

	metricsAddr, err := freeAddress()
	if err != nil {
		return err
	}
	args := []string{"--metrics-bind-address=" + metricsAddr, "--metrics-secure=false"}
	if p.budgets {
		args = append(args, "--watch-pod-disruption-budgets")
	}
	env := []string{"GOMEMLIMIT=off"}
	if p.memoryLimit != "" {
		env = []string{"MEMORY_LIMIT_BYTES=" + p.memoryLimit}
	}
	start = time.Now()
	manager, err := cp.startManager(p.manager, env, args...)
	if err != nil {
		return err
	}
	if err := waitConverged(ctx, c, expected, 15*time.Minute); err != nil {
		return err
	}
	if err := waitSeries(ctx, metricsAddr, "labelgroup_poddisruptionbudget_shared_pods", budgetCount, 15*time.Minute); err != nil {
		return err
	}
	converged := time.Since(start)
	used, err := manager.usage()
	if err != nil {
		return err
	}
	heap, err := scrapeGauge(metricsAddr, "go_memstats_heap_inuse_bytes")
	if err != nil {
		return err
	}
	limit := "none"
	if p.memoryLimit != "" {
		limit = p.memoryLimit + " bytes"
	}
	fmt.Println("| pods | namespaces | groups | budgets | memory limit | converged after | peak RSS | heap in use |")
	fmt.Printf("| %d | %d | %d | %d | %s | %s | %.1f MiB | %.1f MiB |\n", p.pods, p.namespaces, len(expected), budgetCount, limit,
		converged.Round(time.Second), mib(used.hwm), heap/(1<<20))
	return nil
}

// populate creates the namespaces, their pods (as Deployments' pods: app and
// pod-template-hash labels) and groups, and returns each group's expected
// member count by namespace/name.
func populate(ctx context.Context, c client.Client, podCount, namespaceCount, apps int) (map[string]int32, error) {
	expected := map[string]int32{}
	var objects []client.Object
	for n := range namespaceCount {
		ns := fmt.Sprintf("team-%03d", n)
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return nil, err
		}
		for a := range apps {
			app := fmt.Sprintf("app-%02d", a)
			objects = append(objects, builders.MakeGroup(app).Namespace(ns).Label("app", app).Obj())
			expected[ns+"/"+app] = 0
		}
		objects = append(objects, builders.MakeGroup("everything").Namespace(ns).Obj())
		expected[ns+"/everything"] = 0
	}
	for i := range podCount {
		ns := fmt.Sprintf("team-%03d", i%namespaceCount)
		app := fmt.Sprintf("app-%02d", (i/namespaceCount)%apps)
		name := fmt.Sprintf("%s-5d8f7c9b4-%06d", app, i)
		objects = append(objects, builders.MakePod(name).Namespace(ns).Label("app", app).Label("pod-template-hash", "5d8f7c9b4").Obj())
		expected[ns+"/"+app]++
		expected[ns+"/everything"]++
	}
	if err := parallel(len(objects), 32, func(i int) error { return c.Create(ctx, objects[i]) }); err != nil {
		return nil, fmt.Errorf("creating objects: %w", err)
	}
	return expected, nil
}

// populateBudgets creates, in each namespace, a PodDisruptionBudget per app
// and one that covers the first two apps, and returns how many it created.
func populateBudgets(ctx context.Context, c client.Client, namespaceCount, apps int) (int, error) {
	created := 0
	create := func(ns, name string, sel *metav1.LabelSelector) error {
		one := intstr.FromInt32(1)
		created++
		return c.Create(ctx, &policyv1.PodDisruptionBudget{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec:       policyv1.PodDisruptionBudgetSpec{Selector: sel, MaxUnavailable: &one},
		})
	}
	for n := range namespaceCount {
		ns := fmt.Sprintf("team-%03d", n)
		for a := range apps {
			app := fmt.Sprintf("app-%02d", a)
			if err := create(ns, app, &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}); err != nil {
				return created, err
			}
		}
		if err := create(ns, "first-two-apps", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"app-00", "app-01"}},
		}}); err != nil {
			return created, err
		}
	}
	return created, nil
}

// waitSeries waits until the manager publishes count series of the metric.
func waitSeries(ctx context.Context, addr, name string, count int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		n := 0
		scanner := bufio.NewScanner(resp.Body)
		for scanner.Scan() {
			if strings.HasPrefix(scanner.Text(), name+"{") {
				n++
			}
		}
		_ = resp.Body.Close()
		if n == count {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d series of %s after %s", n, count, name, timeout)
		}
		time.Sleep(time.Second)
	}
}

// waitConverged waits until every group's status is of its generation and
// counts its expected members.
func waitConverged(ctx context.Context, c client.Client, expected map[string]int32, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var list v1alpha1.LabelGroupList
		if err := c.List(ctx, &list); err != nil {
			return err
		}
		right := 0
		for _, g := range list.Items {
			if g.Status.ObservedGeneration == g.Generation && g.Status.MemberCount == expected[g.Namespace+"/"+g.Name] {
				right++
			}
		}
		if right == len(expected) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d groups right after %s", right, len(expected), timeout)
		}
		time.Sleep(time.Second)
	}
}

// scrapeGauge reads one unlabelled sample from the manager's metrics.
func scrapeGauge(addr, name string) (float64, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	scanner := bufio.NewScanner(resp.Body)
	for scanner.Scan() {
		if value, ok := strings.CutPrefix(scanner.Text(), name+" "); ok {
			return strconv.ParseFloat(value, 64)
		}
	}
	return 0, errors.New("no " + name + " in the manager's metrics")
}
