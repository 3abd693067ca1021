package main

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	groupingv1alpha1 "github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/controller"
)

// options are the manager's flags; their defaults are the controller
// package's.
type options struct {
	metricsAddr          string
	probeAddr            string
	pprofAddr            string
	leaderElect          bool
	secureMetrics        bool
	enableHTTP2          bool
	memberLimit          int
	overlapLimit         int
	concurrentReconciles int
	statusWriters        int
	reconcileInterval    time.Duration
	memberMetadata       bool
	stampConcurrency     int
	watchBudgets         bool
	zap                  zap.Options
}

// parseFlags defines the manager's flags on fs, parses args and checks them:
// the error names every flag whose value breaks a rule, and the rule. The
// options are returned also with an error, so that the logger can be set up
// to report it.
func parseFlags(fs *flag.FlagSet, args []string) (*options, error) {
	o := &options{}
	fs.StringVar(&o.metricsAddr, "metrics-bind-address", "0", "The address the metrics endpoint binds to. "+
		"Use :8443 for HTTPS or :8080 for HTTP, or leave as 0 to disable the metrics service.")
	fs.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "The address the probe endpoint binds to.")
	fs.BoolVar(&o.leaderElect, "leader-elect", false,
		"Enable leader election for controller manager. "+
			"Enabling this will ensure there is only one active controller manager.")
	fs.BoolVar(&o.secureMetrics, "metrics-secure", true,
		"If set, the metrics endpoint is served securely via HTTPS, and only to clients whose token "+
			"is allowed to get /metrics. Use --metrics-secure=false to use HTTP instead.")
	fs.BoolVar(&o.enableHTTP2, "enable-http2", false,
		"If set, HTTP/2 will be enabled for the metrics server (off by default: CVE-2023-44487, CVE-2023-39325).")
	fs.IntVar(&o.memberLimit, "status-member-limit", controller.DefaultMemberLimit,
		fmt.Sprintf("The most member pod names written to a LabelGroup's status.members (0 to %d); status.memberCount stays exact.", groupingv1alpha1.MaxStatusMembers))
	fs.IntVar(&o.overlapLimit, "status-overlap-limit", controller.DefaultOverlapLimit,
		fmt.Sprintf("The most overlapping groups written to a LabelGroup's status.overlaps (0 to %d); status.overlapCount stays exact.", groupingv1alpha1.MaxStatusOverlaps))
	fs.IntVar(&o.concurrentReconciles, "max-concurrent-reconciles", controller.DefaultMaxConcurrentReconciles,
		"How many namespaces are reconciled at once; one namespace is never reconciled twice at once.")
	fs.IntVar(&o.statusWriters, "status-writers", controller.DefaultStatusWriters,
		"How many LabelGroup status patches of one namespace are sent at once.")
	fs.DurationVar(&o.reconcileInterval, "min-reconcile-interval", controller.DefaultMinReconcileInterval,
		"The shortest time between two reconciles of one namespace caused by pod events: the first of a quiet namespace is handled at once, "+
			"the events that follow within this time together by one reconcile. 0 reconciles on every event.")
	fs.StringVar(&o.pprofAddr, "pprof-bind-address", "", "The address Go's pprof profiles are served on, such as 127.0.0.1:6060. "+
		"Empty (the default) serves none.")
	fs.BoolVar(&o.memberMetadata, "enable-member-metadata", false,
		"Stamp each LabelGroup's spec.memberMetadata on its member pods with server-side apply. "+
			"Needs patch on pods (the member-metadata kustomize component, or the Helm value memberMetadata.enabled).")
	fs.IntVar(&o.stampConcurrency, "member-metadata-concurrency", controller.DefaultStampConcurrency,
		"The most pod writes of member metadata in flight at once.")
	fs.BoolVar(&o.watchBudgets, "watch-pod-disruption-budgets", false,
		"Find the PodDisruptionBudgets that cover a pod in common, which the eviction API refuses to evict: a gauge and events per budget. "+
			"Needs list and watch on poddisruptionbudgets (the pod-disruption-budgets kustomize component, or the Helm value podDisruptionBudgets.watch).")
	o.zap.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	return o, o.validate()
}

// validate checks every flag with a rule and names each one that breaks it.
func (o *options) validate() error {
	errs := []error{validateStatusLimits(o.memberLimit, o.overlapLimit)}
	if o.reconcileInterval < 0 {
		errs = append(errs, fmt.Errorf("--min-reconcile-interval is %s: must be 0 or more", o.reconcileInterval))
	}
	for _, f := range []struct {
		name  string
		value int
	}{
		{"max-concurrent-reconciles", o.concurrentReconciles},
		{"status-writers", o.statusWriters},
		{"member-metadata-concurrency", o.stampConcurrency},
	} {
		if f.value < 1 {
			errs = append(errs, fmt.Errorf("--%s is %d: must be 1 or more", f.name, f.value))
		}
	}
	return errors.Join(errs...)
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
