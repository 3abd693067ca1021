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
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/labelgroup/labelgroup-operator/internal/controller"
	"github.com/labelgroup/labelgroup-operator/test/integration/testenv"
)

var (
	ctx       context.Context
	cancel    context.CancelFunc
	testEnv   *testenv.Env
	k8sClient client.Client
)

func TestMemberMetadata(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Member metadata suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	ctx, cancel = context.WithCancel(context.Background())

	var err error
	testEnv, err = testenv.Start()
	Expect(err).NotTo(HaveOccurred())
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

var _ = AfterSuite(func() {
	cancel()
	Expect(testEnv.Stop()).To(Succeed())
})
