// Command sizing measures what the manager needs for a given number of pods:
// it starts a real API server and etcd (envtest, from KUBEBUILDER_ASSETS),
// creates the pods (no node is needed: a pod's labels are all the operator
// reads) and LabelGroups over them, then runs the manager binary as its own
// process, as in a cluster, and reports how long until every group's status
// is right and the process's peak RSS and heap.
//
//	go run ./test/scale/sizing -manager bin/manager -pods 10000
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	apiruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/test/builders"
)

func main() {
	manager := flag.String("manager", "bin/manager", "the manager binary to measure")
	pods := flag.Int("pods", 10000, "pods to create")
	namespaces := flag.Int("namespaces", 0, "namespaces to spread them over (default: one per 1,000 pods)")
	apps := flag.Int("apps", 10, "apps (Deployments) per namespace; each gets a group, and each namespace one group of all its pods")
	memoryLimit := flag.String("memory-limit", "", "a container memory limit in bytes to pass as MEMORY_LIMIT_BYTES, as the Deployment does (default: none, GOMEMLIMIT off)")
	budgets := flag.Bool("budgets", false, "also create a PodDisruptionBudget per app and one that covers two apps in each namespace, and run the manager with --watch-pod-disruption-budgets")
	flag.Parse()
	if *namespaces == 0 {
		*namespaces = max(1, *pods/1000)
	}
	if err := run(*manager, *pods, *namespaces, *apps, *memoryLimit, *budgets); err != nil {
		fmt.Fprintln(os.Stderr, "sizing:", err)
		os.Exit(1)
	}
}

func run(manager string, podCount, namespaceCount, apps int, memoryLimit string, budgets bool) error {
	env := &envtest.Environment{CRDDirectoryPaths: []string{filepath.Join("config", "crd", "bases")}, ErrorIfCRDPathMissing: true}
	cfg, err := env.Start()
	if err != nil {
		return fmt.Errorf("starting envtest (set KUBEBUILDER_ASSETS): %w", err)
	}
	defer func() { _ = env.Stop() }()
	scheme := apiruntime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = v1alpha1.AddToScheme(scheme)
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	ctx := context.Background()

	start := time.Now()
	expected, err := populate(ctx, c, podCount, namespaceCount, apps)
	if err != nil {
		return err
	}
	budgetCount := 0
	if budgets {
		if budgetCount, err = populateBudgets(ctx, c, namespaceCount, apps); err != nil {
			return err
		}
	}
	fmt.Printf("created %d pods and %d groups in %d namespaces in %s\n", podCount, len(expected), namespaceCount, time.Since(start).Round(time.Second))

	user, err := env.AddUser(envtest.User{Name: "sizing", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return err
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "sizing-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	if err := os.WriteFile(filepath.Join(dir, "kubeconfig"), kubeconfig, 0o600); err != nil {
		return err
	}
	metricsAddr := freeAddress()
	args := []string{"--kubeconfig", filepath.Join(dir, "kubeconfig"), "--metrics-bind-address", metricsAddr,
		"--metrics-secure=false", "--health-probe-bind-address", freeAddress()}
	if budgets {
		args = append(args, "--watch-pod-disruption-budgets")
	}
	cmd := exec.Command(manager, args...)
	cmd.Env = append(os.Environ(), "GOMEMLIMIT=off")
	if memoryLimit != "" {
		cmd.Env = append(os.Environ(), "MEMORY_LIMIT_BYTES="+memoryLimit)
	}
	log, err := os.Create(filepath.Join(os.TempDir(), "sizing-manager.log"))
	if err != nil {
		return err
	}
	defer func() { _ = log.Close() }()
	cmd.Stdout, cmd.Stderr = log, log
	start = time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	if err := waitConverged(ctx, c, expected, 15*time.Minute); err != nil {
		return err
	}
	if err := waitSeries(metricsAddr, "labelgroup_poddisruptionbudget_shared_pods", budgetCount, 15*time.Minute); err != nil {
		return err
	}
	converged := time.Since(start)
	peak, err := procStatus(cmd.Process.Pid, "VmHWM")
	if err != nil {
		return err
	}
	heap, err := scrapeGauge(metricsAddr, "go_memstats_heap_inuse_bytes")
	if err != nil {
		return err
	}
	limit := "none"
	if memoryLimit != "" {
		limit = memoryLimit + " bytes"
	}
	fmt.Println("| pods | namespaces | groups | budgets | memory limit | converged after | peak RSS | heap in use |")
	fmt.Printf("| %d | %d | %d | %d | %s | %s | %.1f MiB | %.1f MiB |\n", podCount, namespaceCount, len(expected), budgetCount, limit,
		converged.Round(time.Second), float64(peak)/(1<<20), heap/(1<<20))
	return nil
}

// populate creates the namespaces, their pods (as Deployments' pods: app and
// pod-template-hash labels) and groups, and returns each group's expected
// member count by namespace/name.
func populate(ctx context.Context, c client.Client, podCount, namespaceCount, apps int) (map[string]int32, error) {
	expected := map[string]int32{}
	jobs := make(chan client.Object, 256)
	var failed atomic.Value
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for obj := range jobs {
				if err := c.Create(ctx, obj); err != nil {
					failed.Store(err)
				}
			}
		})
	}
	for n := range namespaceCount {
		ns := fmt.Sprintf("team-%03d", n)
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return nil, err
		}
		for a := range apps {
			app := fmt.Sprintf("app-%02d", a)
			jobs <- builders.MakeGroup(app).Namespace(ns).Label("app", app).Obj()
			expected[ns+"/"+app] = 0
		}
		jobs <- builders.MakeGroup("everything").Namespace(ns).Obj()
		expected[ns+"/everything"] = 0
	}
	for i := range podCount {
		ns := fmt.Sprintf("team-%03d", i%namespaceCount)
		app := fmt.Sprintf("app-%02d", (i/namespaceCount)%apps)
		name := fmt.Sprintf("%s-5d8f7c9b4-%06d", app, i)
		jobs <- builders.MakePod(name).Namespace(ns).Label("app", app).Label("pod-template-hash", "5d8f7c9b4").Obj()
		expected[ns+"/"+app]++
		expected[ns+"/everything"]++
	}
	close(jobs)
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
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
func waitSeries(addr, name string, count int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get("http://" + addr + "/metrics")
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

// procStatus reads a kB field of /proc/<pid>/status, in bytes.
func procStatus(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		if value, ok := strings.CutPrefix(scanner.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
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

func freeAddress() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}
