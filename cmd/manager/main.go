// Command manager runs the labelgroup-operator: the LabelGroup reconciler, its
// metrics endpoint and its health probes.
package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	_ "k8s.io/client-go/plugin/pkg/client/auth" // exec and OIDC credentials of kubeconfig files
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	groupingv1alpha1 "github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/controller"
	"github.com/labelgroup/labelgroup-operator/internal/outage"
	"github.com/labelgroup/labelgroup-operator/internal/readiness"
)

func main() {
	var (
		metricsAddr          string
		probeAddr            string
		enableLeaderElection bool
		secureMetrics        bool
		enableHTTP2          bool
		statusMemberLimit    int
		pprofAddr            string
		concurrentReconciles int
		statusWriters        int
		reconcileInterval    time.Duration
		enableMemberMetadata bool
		stampConcurrency     int
		statusOverlapLimit   int
		watchBudgets         bool
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", "0", "The address the metrics endpoint binds to. "+
		"Use :8443 for HTTPS or :8080 for HTTP, or leave as 0 to disable the metrics service.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "The address the probe endpoint binds to.")
	flag.BoolVar(&enableLeaderElection, "leader-elect", false,
		"Enable leader election for controller manager. "+
			"Enabling this will ensure there is only one active controller manager.")
	flag.BoolVar(&secureMetrics, "metrics-secure", true,
		"If set, the metrics endpoint is served securely via HTTPS, and only to clients whose token "+
			"is allowed to get /metrics. Use --metrics-secure=false to use HTTP instead.")
	flag.BoolVar(&enableHTTP2, "enable-http2", false,
		"If set, HTTP/2 will be enabled for the metrics server (off by default: CVE-2023-44487, CVE-2023-39325).")
	flag.IntVar(&statusMemberLimit, "status-member-limit", controller.DefaultMemberLimit,
		fmt.Sprintf("The most member pod names written to a LabelGroup's status.members (0 to %d); status.memberCount stays exact.", groupingv1alpha1.MaxStatusMembers))
	flag.IntVar(&statusOverlapLimit, "status-overlap-limit", controller.DefaultOverlapLimit,
		fmt.Sprintf("The most overlapping groups written to a LabelGroup's status.overlaps (0 to %d); status.overlapCount stays exact.", groupingv1alpha1.MaxStatusOverlaps))
	flag.IntVar(&concurrentReconciles, "max-concurrent-reconciles", controller.DefaultMaxConcurrentReconciles,
		"How many namespaces are reconciled at once; one namespace is never reconciled twice at once.")
	flag.IntVar(&statusWriters, "status-writers", controller.DefaultStatusWriters,
		"How many LabelGroup status patches of one namespace are sent at once.")
	flag.DurationVar(&reconcileInterval, "min-reconcile-interval", controller.DefaultMinReconcileInterval,
		"The shortest time between two reconciles of one namespace caused by pod events: the first of a quiet namespace is handled at once, "+
			"the events that follow within this time together by one reconcile. 0 reconciles on every event.")
	flag.StringVar(&pprofAddr, "pprof-bind-address", "", "The address Go's pprof profiles are served on, such as 127.0.0.1:6060. "+
		"Empty (the default) serves none.")
	flag.BoolVar(&enableMemberMetadata, "enable-member-metadata", false,
		"Stamp each LabelGroup's spec.memberMetadata on its member pods with server-side apply. "+
			"Needs patch on pods (the member-metadata kustomize component, or the Helm value memberMetadata.enabled).")
	flag.IntVar(&stampConcurrency, "member-metadata-concurrency", controller.DefaultStampConcurrency,
		"The most pod writes of member metadata in flight at once.")
	flag.BoolVar(&watchBudgets, "watch-pod-disruption-budgets", false,
		"Find the PodDisruptionBudgets that cover a pod in common, which the eviction API refuses to evict: a gauge and events per budget. "+
			"Needs list and watch on poddisruptionbudgets (the pod-disruption-budgets kustomize component, or the Helm value podDisruptionBudgets.watch).")
	opts := zap.Options{Development: false}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	setupLog := ctrl.Log.WithName("setup")

	if err := validateStatusLimits(statusMemberLimit, statusOverlapLimit); err != nil {
		setupLog.Error(err, "Invalid flag")
		os.Exit(2)
	}
	if reconcileInterval < 0 {
		setupLog.Error(fmt.Errorf("--min-reconcile-interval is %s", reconcileInterval), "Invalid flag: --min-reconcile-interval must be 0 or more")
		os.Exit(2)
	}
	for name, value := range map[string]int{"max-concurrent-reconciles": concurrentReconciles, "status-writers": statusWriters} {
		if value < 1 {
			setupLog.Error(fmt.Errorf("--%s is %d", name, value), "Invalid flag: --"+name+" must be 1 or more")
			os.Exit(2)
		}
	}
	memoryLimit, ok, err := goMemoryLimit(os.Getenv("GOMEMLIMIT"), os.Getenv("MEMORY_LIMIT_BYTES"))
	if err != nil {
		setupLog.Error(err, "Invalid environment")
		os.Exit(2)
	}
	if ok {
		debug.SetMemoryLimit(memoryLimit)
	}

	if stampConcurrency < 1 {
		setupLog.Error(fmt.Errorf("--member-metadata-concurrency is %d", stampConcurrency), "Invalid flag: --member-metadata-concurrency must be 1 or more")
		os.Exit(2)
	}
	cacheOptions := controller.CacheOptions()
	var memberMetadata *controller.MemberMetadata
	if enableMemberMetadata {
		memberMetadata = &controller.MemberMetadata{Concurrency: stampConcurrency}
		cacheOptions = controller.CacheOptionsWithMemberMetadata(memberMetadata)
	}

	var tlsOpts []func(*tls.Config)
	if !enableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	metricsOptions := metricsserver.Options{
		BindAddress:   metricsAddr,
		SecureServing: secureMetrics,
		TLSOpts:       tlsOpts,
	}
	if secureMetrics {
		// Only callers whose token may get /metrics (the metrics-reader role) are served.
		metricsOptions.FilterProvider = filters.WithAuthenticationAndAuthorization
	}

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(groupingv1alpha1.AddToScheme(scheme))

	// The watch errors of the cache's informers feed /readyz.
	watches := readiness.NewWatches()
	cacheOptions.DefaultWatchErrorHandler = watches.HandleWatchError
	// The informers wait out an unreachable API server on one /readyz probe,
	// so that client-go's backoff does not keep them blind after its return.
	restConfig := ctrl.GetConfigOrDie()
	apiServerGate, err := outage.NewGate(restConfig)
	if err != nil {
		setupLog.Error(err, "Failed to set up the API server probe")
		os.Exit(1)
	}
	cacheOptions.NewInformer = apiServerGate.NewInformer
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsOptions,
		HealthProbeBindAddress: probeAddr,
		PprofBindAddress:       pprofAddr,
		LeaderElection:         enableLeaderElection,
		LeaderElectionID:       "labelgroup-operator.grouping.labelgroup.io",
		// The manager exits right after a lost lease, so it may release it early
		// and let the next leader start at once instead of after the lease expires.
		LeaderElectionReleaseOnCancel: true,
		Cache:                         cacheOptions,
	})
	if err != nil {
		setupLog.Error(err, "Failed to create the manager")
		os.Exit(1)
	}

	reconciler := controller.NewLabelGroupReconciler(mgr.GetClient(), mgr.GetEventRecorder("labelgroup-controller"))
	reconciler.MemberLimit = statusMemberLimit
	reconciler.OverlapLimit = statusOverlapLimit
	reconciler.MemberMetadata = memberMetadata
	reconciler.MaxConcurrentReconciles = concurrentReconciles
	reconciler.StatusWriters = statusWriters
	reconciler.MinReconcileInterval = reconcileInterval
	if err := reconciler.SetupWithManager(mgr); err != nil {
		setupLog.Error(err, "Failed to set up the controller", "controller", "labelgroup")
		os.Exit(1)
	}

	if watchBudgets {
		if err := (&controller.PodDisruptionBudgetReconciler{
			Client:                  mgr.GetClient(),
			Recorder:                mgr.GetEventRecorder("labelgroup-controller"),
			MaxConcurrentReconciles: concurrentReconciles,
			PodEventDelay:           reconcileInterval,
		}).SetupWithManager(mgr); err != nil {
			setupLog.Error(err, "Failed to set up the controller", "controller", "poddisruptionbudget")
			os.Exit(1)
		}
	}

	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		setupLog.Error(err, "Failed to set up the health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("informers", watches.Checker(mgr.GetCache())); err != nil {
		setupLog.Error(err, "Failed to set up the ready check")
		os.Exit(1)
	}

	setupLog.Info("Starting manager", "statusMemberLimit", statusMemberLimit, "statusOverlapLimit", statusOverlapLimit,
		"maxConcurrentReconciles", concurrentReconciles, "statusWriters", statusWriters,
		"minReconcileInterval", reconcileInterval, "goMemoryLimit", debug.SetMemoryLimit(-1), "memberMetadata", enableMemberMetadata,
		"watchPodDisruptionBudgets", watchBudgets)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		setupLog.Error(err, "Manager stopped with an error")
		os.Exit(1)
	}
}

// validateStatusLimits checks the status limits against the CRD's maxItems:
// a larger limit would have every status write of a large group refused.
func validateStatusLimits(memberLimit, overlapLimit int) error {
	var errs []error
	if memberLimit < 0 || memberLimit > groupingv1alpha1.MaxStatusMembers {
		errs = append(errs, fmt.Errorf("--status-member-limit is %d: must be from 0 to %d (status.members maxItems)", memberLimit, groupingv1alpha1.MaxStatusMembers))
	}
	if overlapLimit < 0 || overlapLimit > groupingv1alpha1.MaxStatusOverlaps {
		errs = append(errs, fmt.Errorf("--status-overlap-limit is %d: must be from 0 to %d (status.overlaps maxItems)", overlapLimit, groupingv1alpha1.MaxStatusOverlaps))
	}
	return errors.Join(errs...)
}
