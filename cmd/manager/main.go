// Command manager runs the labelgroup-operator: the LabelGroup reconciler, its
// metrics endpoint and its health probes.
package main

import (
	"crypto/tls"
	"flag"
	"os"
	"runtime/debug"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	_ "k8s.io/client-go/plugin/pkg/client/auth" // exec and OIDC credentials of kubeconfig files
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	groupingv1alpha1 "github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/controller"
	"github.com/labelgroup/labelgroup-operator/internal/outage"
	"github.com/labelgroup/labelgroup-operator/internal/readiness"
)

func main() {
	// flag.CommandLine also holds controller-runtime's --kubeconfig.
	o, err := parseFlags(flag.CommandLine, os.Args[1:])
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&o.zap)))
	setupLog := ctrl.Log.WithName("setup")
	if err != nil {
		setupLog.Error(err, "Invalid flag")
		os.Exit(2)
	}
	memoryLimit, ok, err := goMemoryLimit(os.Getenv("GOMEMLIMIT"), os.Getenv("MEMORY_LIMIT_BYTES"))
	if err != nil {
		setupLog.Error(err, "Invalid environment")
		os.Exit(2)
	}
	if ok {
		debug.SetMemoryLimit(memoryLimit)
	}

	var memberMetadata *controller.MemberMetadata
	if o.memberMetadata {
		memberMetadata = &controller.MemberMetadata{Concurrency: o.stampConcurrency}
	}
	watches := readiness.NewWatches()
	mgr, err := newManager(o, memberMetadata, watches)
	if err != nil {
		setupLog.Error(err, "Failed to create the manager")
		os.Exit(1)
	}
	if err := setupReconcilers(mgr, o, memberMetadata); err != nil {
		setupLog.Error(err, "Failed to set up the controllers")
		os.Exit(1)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		setupLog.Error(err, "Failed to set up the health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("informers", watches.Checker(mgr.GetCache())); err != nil {
		setupLog.Error(err, "Failed to set up the ready check")
		os.Exit(1)
	}

	setupLog.Info("Starting manager", "statusMemberLimit", o.memberLimit, "statusOverlapLimit", o.overlapLimit,
		"maxConcurrentReconciles", o.concurrentReconciles, "statusWriters", o.statusWriters,
		"minReconcileInterval", o.reconcileInterval, "goMemoryLimit", debug.SetMemoryLimit(-1), "memberMetadata", o.memberMetadata,
		"watchPodDisruptionBudgets", o.watchBudgets)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		setupLog.Error(err, "Manager stopped with an error")
		os.Exit(1)
	}
}

// newManager makes the manager: its cache keeps what the reconcilers read
// (with member metadata, also the stamped annotations), its informers' watch
// errors feed /readyz, and they wait out an unreachable API server on one
// /readyz probe, so that client-go's backoff does not keep them blind after
// its return.
func newManager(o *options, memberMetadata *controller.MemberMetadata, watches *readiness.Watches) (manager.Manager, error) {
	cacheOptions := controller.CacheOptions()
	if memberMetadata != nil {
		cacheOptions = controller.CacheOptionsWithMemberMetadata(memberMetadata)
	}
	cacheOptions.DefaultWatchErrorHandler = watches.HandleWatchError
	restConfig := ctrl.GetConfigOrDie()
	apiServerGate, err := outage.NewGate(restConfig)
	if err != nil {
		return nil, err
	}
	cacheOptions.NewInformer = apiServerGate.NewInformer

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(groupingv1alpha1.AddToScheme(scheme))
	return ctrl.NewManager(restConfig, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsOptions(o),
		HealthProbeBindAddress: o.probeAddr,
		PprofBindAddress:       o.pprofAddr,
		LeaderElection:         o.leaderElect,
		LeaderElectionID:       "labelgroup-operator.grouping.labelgroup.io",
		// The manager exits right after a lost lease, so it may release it early
		// and let the next leader start at once instead of after the lease expires.
		LeaderElectionReleaseOnCancel: true,
		Cache:                         cacheOptions,
	})
}

// metricsOptions serve /metrics over HTTP/1.1 unless --enable-http2, and with
// --metrics-secure only to callers whose token may get /metrics (the
// metrics-reader role).
func metricsOptions(o *options) metricsserver.Options {
	var tlsOpts []func(*tls.Config)
	if !o.enableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	opts := metricsserver.Options{BindAddress: o.metricsAddr, SecureServing: o.secureMetrics, TLSOpts: tlsOpts}
	if o.secureMetrics {
		opts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	return opts
}

// setupReconcilers sets up the LabelGroup reconciler and, with
// --watch-pod-disruption-budgets, the budgets' one.
func setupReconcilers(mgr manager.Manager, o *options, memberMetadata *controller.MemberMetadata) error {
	recorder := mgr.GetEventRecorder("labelgroup-controller")
	reconciler := controller.NewLabelGroupReconciler(mgr.GetClient(), recorder)
	reconciler.MemberLimit = o.memberLimit
	reconciler.OverlapLimit = o.overlapLimit
	reconciler.MemberMetadata = memberMetadata
	reconciler.MaxConcurrentReconciles = o.concurrentReconciles
	reconciler.StatusWriters = o.statusWriters
	reconciler.MinReconcileInterval = o.reconcileInterval
	if err := reconciler.SetupWithManager(mgr); err != nil {
		return err
	}
	if !o.watchBudgets {
		return nil
	}
	return (&controller.PodDisruptionBudgetReconciler{
		Client:                  mgr.GetClient(),
		Recorder:                recorder,
		MaxConcurrentReconciles: o.concurrentReconciles,
		PodEventDelay:           o.reconcileInterval,
		MemberMetadata:          memberMetadata,
	}).SetupWithManager(mgr)
}
