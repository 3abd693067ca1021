// Package lifecycle starts and stops the manager itself, against a real API
// server: what GitOps tools read of a LabelGroup before the operator runs,
// while it runs and after a spec edit, and what /readyz says when the manager
// may not watch pods.
package lifecycle

import (
	"context"
	"fmt"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/labelgroup/labelgroup-operator/internal/controller"
	"github.com/labelgroup/labelgroup-operator/internal/readiness"
	"github.com/labelgroup/labelgroup-operator/test/integration/testenv"
)

var (
	ctx       context.Context
	testEnv   *testenv.Env
	k8sClient client.Client
)

func TestLifecycle(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Manager lifecycle suite")
}

var _ = BeforeSuite(func() {
	ctx, testEnv = testenv.StartSuite()
	k8sClient = testEnv.Client
	// The readiness spec removes and reinstalls the CRD.
	Expect(apiextensionsv1.AddToScheme(testEnv.Scheme)).To(Succeed())
})

// startManager starts a manager wired as cmd/manager wires it (cache options,
// watch error handler, readiness check), as the user cfg authenticates, with
// the default status limits unless memberLimit says otherwise, and returns the
// URL of its /readyz, what its watch error handler recorded, and a function
// that stops it and waits until it has.
func startManager(cfg *rest.Config, memberLimit ...int) (readyz string, watches *readiness.Watches, stop func()) {
	probeAddr := testenv.FreeLocalAddress()
	watches = readiness.NewWatches()
	cacheOptions := controller.CacheOptions()
	cacheOptions.DefaultWatchErrorHandler = watches.HandleWatchError
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 testEnv.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: probeAddr,
		Cache:                  cacheOptions,
		// Each spec starts managers of its own, one after the other.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	reconciler := controller.NewLabelGroupReconciler(mgr.GetClient(), mgr.GetEventRecorder("labelgroup-controller"))
	reconciler.MemberLimit = append(memberLimit, controller.DefaultMemberLimit)[0]
	ExpectWithOffset(1, reconciler.SetupWithManager(mgr)).To(Succeed())
	ExpectWithOffset(1, mgr.AddReadyzCheck("informers", watches.Checker(mgr.GetCache()))).To(Succeed())

	mgrCtx, stopManager := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(done)
		// A manager that may not watch pods stops with an error once its
		// controller gives up waiting for the cache; that is not this test's
		// concern.
		_ = mgr.Start(mgrCtx)
	}()
	return fmt.Sprintf("http://%s/readyz", probeAddr), watches, func() {
		stopManager()
		<-done
	}
}
