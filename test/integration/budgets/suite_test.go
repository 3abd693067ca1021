// Package budgets tests --watch-pod-disruption-budgets against a real API
// server with the manager running: the budgets that cover a pod in common,
// found live, checked against the eviction API (which refuses to evict such a
// pod), against kubectl-labelgroup's lint and who-selects on the same objects,
// and their gauges and events.
package budgets

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/kubernetes"
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
	clientset *kubernetes.Clientset
)

func TestBudgets(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "PodDisruptionBudget suite")
}

// The manager runs as cmd/manager runs it with --watch-pod-disruption-budgets,
// with the LabelGroup reconciler beside it, so that the two share the pod
// informer as they do in a cluster.
var _ = BeforeSuite(func() {
	ctx, testEnv = testenv.StartSuite()
	k8sClient = testEnv.Client
	var err error
	clientset, err = kubernetes.NewForConfig(testEnv.Config)
	Expect(err).NotTo(HaveOccurred())

	mgr, err := ctrl.NewManager(testEnv.Config, ctrl.Options{
		Scheme:                 testEnv.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  controller.CacheOptions(),
	})
	Expect(err).NotTo(HaveOccurred())
	recorder := mgr.GetEventRecorder("labelgroup-controller")
	Expect((&controller.LabelGroupReconciler{Client: mgr.GetClient(), Recorder: recorder}).SetupWithManager(mgr)).To(Succeed())
	Expect((&controller.PodDisruptionBudgetReconciler{Client: mgr.GetClient(), Recorder: recorder}).SetupWithManager(mgr)).To(Succeed())

	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
})
