// Package controller tests the LabelGroup reconciler against a real API server
// with the manager running, as it runs in a cluster (but as cluster-admin).
package controller

import (
	"context"
	"fmt"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/internal/controller"
	"github.com/labelgroup/labelgroup-operator/test/integration/testenv"
)

// The limits are small so that capping status.members and status.overlaps is
// easy to see.
const (
	memberLimit  = 3
	overlapLimit = 5
)

var (
	ctx        context.Context
	testEnv    *testenv.Env
	k8sClient  client.Client
	metricsURL string
)

func TestController(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Controller suite")
}

var _ = BeforeSuite(func() {
	ctx, testEnv = testenv.StartSuite(testenv.WithAuditLog())
	k8sClient = testEnv.Client
	managerConfig, err := testEnv.ManagerConfig()
	Expect(err).NotTo(HaveOccurred())

	metricsAddr := testenv.FreeLocalAddress()
	metricsURL = fmt.Sprintf("http://%s/metrics", metricsAddr)
	mgr := testEnv.NewManager(managerConfig, controller.CacheOptions(), metricsAddr)
	// The shipped defaults, but for the status limits.
	reconciler := controller.NewLabelGroupReconciler(mgr.GetClient(), mgr.GetEventRecorder("labelgroup-controller"))
	reconciler.MemberLimit = memberLimit
	reconciler.OverlapLimit = overlapLimit
	Expect(reconciler.SetupWithManager(mgr)).To(Succeed())

	testenv.RunManager(ctx, mgr)
})

// The manager's writes, counted by the API server, are all of the kinds the
// operator makes.
var _ = AfterSuite(func() {
	testEnv.ExpectOnlyOperatorWrites()
})
