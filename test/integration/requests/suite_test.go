// Package requests counts what the manager sends to the API server, from the
// API server's own audit log: a converged operator writes nothing, through
// pod events that change nothing it shows, restarts and leader changes.
package requests

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/labelgroup/labelgroup-operator/internal/controller"
	"github.com/labelgroup/labelgroup-operator/internal/outage"
	"github.com/labelgroup/labelgroup-operator/test/integration/testenv"
)

var (
	ctx           context.Context
	testEnv       *testenv.Env
	k8sClient     client.Client
	managerConfig *rest.Config
)

func TestRequests(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Requests suite")
}

var _ = BeforeSuite(func() {
	ctx, testEnv = testenv.StartSuite(testenv.WithAuditLog())
	k8sClient = testEnv.Client
	var err error
	managerConfig, err = testEnv.ManagerConfig()
	Expect(err).NotTo(HaveOccurred())
})

// runningManager is a manager of the suite's, started by startManager.
type runningManager struct {
	elected <-chan struct{}
	stop    func()
}

// startManager starts a manager wired as cmd/manager wires it with
// --enable-member-metadata, --watch-pod-disruption-budgets and, if
// leaderElection, --leader-elect, with every other setting at its default, as
// testenv.ManagerUser.
func startManager(leaderElection bool) *runningManager {
	memberMetadata := &controller.MemberMetadata{Concurrency: controller.DefaultStampConcurrency}
	cacheOptions := controller.CacheOptionsWithMemberMetadata(memberMetadata)
	gate, err := outage.NewGate(managerConfig)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	cacheOptions.NewInformer = gate.NewInformer
	mgr, err := ctrl.NewManager(managerConfig, ctrl.Options{
		Scheme:                        testEnv.Scheme,
		Metrics:                       metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress:        "0",
		Cache:                         cacheOptions,
		LeaderElection:                leaderElection,
		LeaderElectionID:              "labelgroup-operator.grouping.labelgroup.io",
		LeaderElectionNamespace:       "default",
		LeaderElectionReleaseOnCancel: true,
		// The specs start managers one after the other, and two at once.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	reconciler := controller.NewLabelGroupReconciler(mgr.GetClient(), mgr.GetEventRecorder("labelgroup-controller"))
	reconciler.MemberMetadata = memberMetadata
	ExpectWithOffset(1, reconciler.SetupWithManager(mgr)).To(Succeed())
	// The budgets' reconciler shares the pod informer, and may be the one
	// that starts it.
	ExpectWithOffset(1, (&controller.PodDisruptionBudgetReconciler{
		Client:                  mgr.GetClient(),
		Recorder:                mgr.GetEventRecorder("labelgroup-controller"),
		MaxConcurrentReconciles: controller.DefaultMaxConcurrentReconciles,
		PodEventDelay:           controller.DefaultMinReconcileInterval,
		MemberMetadata:          memberMetadata,
	}).SetupWithManager(mgr)).To(Succeed())

	mgrCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(done)
		Expect(mgr.Start(mgrCtx)).To(Succeed())
	}()
	return &runningManager{elected: mgr.Elected(), stop: func() {
		cancel()
		<-done
	}}
}

// reconciles is how many reconciles the suite's managers have finished, from
// controller-runtime's own metric: a count that grows shows that an event was
// handled, so that a count of writes that stays 0 means something.
func reconciles() float64 {
	families, err := metrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	total := 0.0
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			if labelValue(m, "controller") == "labelgroup" {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
