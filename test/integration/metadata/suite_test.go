// Package metadata tests the stamping of spec.memberMetadata against a real API
// server, with the manager running with --enable-member-metadata.
package metadata

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

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
	ctx, testEnv = testenv.StartSuite()
	k8sClient = testEnv.Client

	// Small, so that a namespace's writes really queue.
	memberMetadata := &controller.MemberMetadata{Concurrency: 2}
	mgr, err := ctrl.NewManager(testEnv.Config, ctrl.Options{
		Scheme:                 testEnv.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  controller.CacheOptionsWithMemberMetadata(memberMetadata),
	})
	Expect(err).NotTo(HaveOccurred())
	Expect((&controller.LabelGroupReconciler{
		Client:         mgr.GetClient(),
		Recorder:       mgr.GetEventRecorder("labelgroup-controller"),
		MemberLimit:    10,
		MemberMetadata: memberMetadata,
	}).SetupWithManager(mgr)).To(Succeed())

	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
})
