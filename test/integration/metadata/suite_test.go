// Package metadata tests the stamping of spec.memberMetadata against a real API
// server, with the manager running with --enable-member-metadata.
package metadata

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/internal/controller"
	"github.com/labelgroup/labelgroup-operator/test/integration/testenv"
)

var (
	ctx       context.Context
	testEnv   *testenv.Env
	k8sClient client.Client
)

func TestMemberMetadata(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Member metadata suite")
}

var _ = BeforeSuite(func() {
	ctx, testEnv = testenv.StartSuite(testenv.WithAuditLog())
	k8sClient = testEnv.Client
	managerConfig, err := testEnv.ManagerConfig()
	Expect(err).NotTo(HaveOccurred())

	memberMetadata := &controller.MemberMetadata{Concurrency: controller.DefaultStampConcurrency}
	mgr := testEnv.NewManager(managerConfig, controller.CacheOptionsWithMemberMetadata(memberMetadata), "0")
	// The shipped defaults, but for a status member limit small enough to cross.
	reconciler := controller.NewLabelGroupReconciler(mgr.GetClient(), mgr.GetEventRecorder("labelgroup-controller"))
	reconciler.MemberLimit = 10
	reconciler.MemberMetadata = memberMetadata
	Expect(reconciler.SetupWithManager(mgr)).To(Succeed())

	testenv.RunManager(ctx, mgr)
})

// The manager's writes, counted by the API server, are all of the kinds the
// operator makes.
var _ = AfterSuite(func() {
	testEnv.ExpectOnlyOperatorWrites()
})
