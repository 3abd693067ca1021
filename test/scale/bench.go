package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap/zapcore"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/labelgroup/labelgroup-operator/internal/outage"
)

// params are the command line.
type params struct {
	planeFlags
	kwok, operatorBin, operatorArgs string
	pods, groups, namespaces, nodes int
	relabelShare                    float64
	memberLimit                     int
	kcmQPS                          int
	singleEvents                    int
	churnRate                       int
	churnDuration                   time.Duration
	outage                          time.Duration
	outageRelabels                  int
	profile                         time.Duration
	solo                            bool
	writeCost                       int
	timeout                         time.Duration
	informer                        string // internal: run a floor informer
	kubeconfig                      string
}

func parseParams(args []string) params {
	var p params
	flags := flag.NewFlagSet("scale bench", flag.ExitOnError)
	p.planeFlags.register(flags, "bin/bench-scale")
	flags.StringVar(&p.kwok, "kwok", "bin/kwok", "the kwok binary")
	flags.StringVar(&p.operatorBin, "operator", "bin/manager", "the operator's manager binary")
	flags.StringVar(&p.operatorArgs, "operator-args", "", "more flags for the operator, space-separated")
	flags.IntVar(&p.pods, "pods", 10000, "pods in all")
	flags.IntVar(&p.groups, "groups", 200, "groups per namespace: a headless Service and a LabelGroup each")
	flags.IntVar(&p.namespaces, "namespaces", 1, "namespaces the pods and groups are spread over")
	flags.IntVar(&p.nodes, "nodes", 50, "kwok nodes the pods are spread over")
	flags.Float64Var(&p.relabelShare, "relabel-share", 0.2, "share of the pods relabelled into the next group, as fast as the API server takes them")
	flags.IntVar(&p.memberLimit, "member-limit", 100, "the operator's --status-member-limit")
	flags.IntVar(&p.kcmQPS, "kcm-qps", 5000, "kube-controller-manager's --kube-api-qps and --kube-api-burst (its default, 20, would measure its rate limiter)")
	flags.IntVar(&p.writeCost, "write-cost", 0, "instead of the comparison, time this many writes of each tool's kind on an idle control plane and report the API server's CPU per write")
	flags.BoolVar(&p.solo, "solo", true, "then time a second set of new selectors with each tool resumed alone, the other paused")
	flags.IntVar(&p.singleEvents, "single-events", 0, "then relabel this many pods one at a time, each waiting for both tools (the cost of one pod event)")
	flags.IntVar(&p.churnRate, "churn-rate", 0, "then relabel this many pods per second for --churn-duration")
	flags.DurationVar(&p.churnDuration, "churn-duration", 60*time.Second, "how long the churn lasts")
	flags.DurationVar(&p.outage, "apiserver-outage", 0, "then stop kube-apiserver this long, start it again and relabel --outage-relabels pods (see outage.go)")
	flags.IntVar(&p.outageRelabels, "outage-relabels", 20, "pods relabelled right after the API server's return")
	flags.DurationVar(&p.profile, "profile", 0, "take a CPU profile of the operator this long from the creation of the selectors (into --out-dir)")
	flags.DurationVar(&p.timeout, "timeout", 10*time.Minute, "give up on a phase after this long")
	flags.StringVar(&p.informer, "informer", "", "internal: run only a metadata-only pod informer (bare or strip-managed-fields) with --informer-kubeconfig")
	flags.StringVar(&p.kubeconfig, "informer-kubeconfig", "", "internal: the kubeconfig of --informer")
	_ = flags.Parse(args) // ExitOnError
	if p.informer == "" && (p.pods < 1 || p.groups < 2 || p.namespaces < 1 || p.nodes < 1 || p.relabelShare < 0 || p.relabelShare > 1) {
		fatalf("need --pods >= 1, --groups >= 2, --namespaces >= 1, --nodes >= 1 and 0 <= --relabel-share <= 1")
	}
	return p
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "benchscale: "+format+"\n", args...)
	os.Exit(1)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "benchscale: %s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
}

// bench (scale bench) measures labelgroup-operator against the closest thing
// Kubernetes has to it, the EndpointSlice controller, in one run on one local
// control plane: both record which pods a selector picks.
//
// It starts etcd and kube-apiserver (envtest), kwok with its own fast stages
// (fake nodes; pods on them become Running and Ready with an IP),
// kube-controller-manager running only the EndpointSlice controller, the
// operator built from this tree, and two bare metadata-only pod informers (the
// memory floor). It then creates the pods, a headless Service and a LabelGroup
// with the same selector per group, and relabels pods, and prints how long each
// tool took to get every record right, what CPU it used (/proc/<pid>/stat) and
// what memory it held (/proc/<pid>/status), with the ratios. See
// docs/performance.md.
func bench(args []string) {
	p := parseParams(args)
	ctrllog.SetLogger(zap.New(zap.Level(zapcore.WarnLevel), zap.StacktraceLevel(zapcore.PanicLevel), zap.ConsoleEncoder()))
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()
	if p.informer != "" {
		if err := runFloorInformer(ctx, p.kubeconfig, p.informer == "strip-managed-fields"); err != nil {
			fatalf("%v", err)
		}
		return
	}
	r := &run{p: p}
	var err error
	if p.writeCost > 0 {
		r.out = os.Stdout
		err = r.writeCost(ctx)
	} else {
		err = r.run(ctx)
	}
	r.stop()
	if err != nil {
		fatalf("%v", err)
	}
}

// run is one measurement: the control plane, the processes and the results.
type run struct {
	*controlPlane
	p         params
	kcm, op   *process
	floors    [2]*process // bare, strip-managed-fields
	pprofAddr string
	w         *workload
	tr        *tracker
	out       io.Writer
	auditLog  string
}

// startCluster starts etcd, kube-apiserver and kwok, and returns the
// harness's clients.
func (r *run) startCluster() (kubernetes.Interface, client.Client, cache.Cache, error) {
	logf("starting the control plane and kwok")
	var err error
	if r.controlPlane, err = startControlPlane(r.p.planeFlags, r.prepareOutage); err != nil {
		return nil, nil, nil, err
	}
	stages := filepath.Join(r.p.outDir, "kwok-stages.yaml")
	if err := os.WriteFile(stages, kwokStages, 0o644); err != nil {
		return nil, nil, nil, err
	}
	addr, err := freeAddress()
	if err != nil {
		return nil, nil, nil, err
	}
	if _, err := r.start("kwok", nil, r.p.kwok, "--kubeconfig="+r.kubeconfig, "--config="+stages,
		"--manage-all-nodes=false", "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
		"--server-address="+addr); err != nil {
		return nil, nil, nil, err
	}
	// No client-side rate limit: the harness must not be what is measured.
	r.cfg.QPS, r.cfg.Burst = -1, 0
	return r.clients(r.cfg)
}

// startTools starts the EndpointSlice controller, the operator and the floor
// informers, all with no pod in the cluster yet.
func (r *run) startTools() error {
	var err error
	qps := fmt.Sprint(r.p.kcmQPS)
	r.kcm, err = r.start("kube-controller-manager", nil, filepath.Join(r.p.assets, "kube-controller-manager"),
		"--kubeconfig="+r.kubeconfig, "--controllers=endpointslice-controller", "--leader-elect=false",
		"--secure-port=0", "--kube-api-qps="+qps, "--kube-api-burst="+qps)
	if err != nil {
		return err
	}
	args := []string{"--metrics-bind-address=0", fmt.Sprintf("--status-member-limit=%d", r.p.memberLimit)}
	if r.p.profile > 0 {
		if r.pprofAddr, err = freeAddress(); err != nil {
			return err
		}
		args = append(args, "--pprof-bind-address="+r.pprofAddr)
	}
	args = append(args, strings.Fields(r.p.operatorArgs)...)
	if r.op, err = r.startManager(r.p.operatorBin, nil, args...); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	for i, mode := range []string{"bare", "strip-managed-fields"} {
		if r.floors[i], err = r.start("floor-informer-"+mode, nil, self, "bench", "--informer="+mode, "--informer-kubeconfig="+r.kubeconfig); err != nil {
			return err
		}
	}
	return nil
}

// settle waits for the processes to go idle and their memory to level out.
func (r *run) settle(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
	}
	return r.checkAlive()
}

// fetchProfile saves the operator's pprof endpoint path into the out dir.
func (r *run) fetchProfile(path, file string) {
	resp, err := http.Get("http://" + r.pprofAddr + path)
	if err != nil {
		logf("profile %s: %v", path, err)
		return
	}
	defer resp.Body.Close()
	f, err := os.Create(filepath.Join(r.p.outDir, file))
	if err != nil {
		logf("profile %s: %v", path, err)
		return
	}
	defer f.Close()
	_, _ = io.Copy(f, resp.Body)
	logf("saved %s", f.Name())
}

// fetchAPIServerProfile saves a CPU profile of kube-apiserver (its
// /debug/pprof, which admin may read), to see what the tools' writes cost it.
func (r *run) fetchAPIServerProfile(ctx context.Context, seconds int, name string) {
	data, err := r.w.kube.CoreV1().RESTClient().Get().AbsPath("/debug/pprof/profile").
		Param("seconds", fmt.Sprint(seconds)).Timeout(time.Duration(seconds+30) * time.Second).DoRaw(ctx)
	if err != nil {
		logf("kube-apiserver profile: %v", err)
		return
	}
	file := filepath.Join(r.p.outDir, name)
	if err := os.WriteFile(file, data, 0o644); err != nil {
		logf("kube-apiserver profile: %v", err)
		return
	}
	logf("saved %s", file)
}

func (r *run) clients(cfg *rest.Config) (kubernetes.Interface, client.Client, cache.Cache, error) {
	scheme, err := newScheme()
	if err != nil {
		return nil, nil, nil, err
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, nil, nil, err
	}
	// The harness's informers wait out an API server outage (--apiserver-outage)
	// on a probe, as the operator's do, so that they see the tools' records
	// within a second of its return whatever the tool under test does.
	gate, err := outage.NewGate(cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	ca, err := cache.New(cfg, cache.Options{Scheme: scheme, DefaultTransform: cache.TransformStripManagedFields(), NewInformer: gate.NewInformer})
	if err != nil {
		return nil, nil, nil, err
	}
	return kube, c, ca, nil
}
