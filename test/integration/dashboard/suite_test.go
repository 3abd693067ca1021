// Package dashboard runs every query of the Grafana dashboard
// config/grafana/labelgroup-operator.json against a real Prometheus that
// scrapes the manager, running in-process against a real API server, while
// LabelGroups overlap: a panel whose query returns nothing, or returns series
// without the labels its legend and the README promise, fails.
package dashboard

import (
	"context"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/controller"
	"github.com/labelgroup/labelgroup-operator/test/integration/testenv"
)

// memoryLimit is what the manager sets GOMEMLIMIT to in a container limited
// to the shipped 256Mi: 90% of it.
const memoryLimit = 256 << 20 * 9 / 10

var (
	ctx         context.Context
	testEnv     *testenv.Env
	k8sClient   client.Client
	metricsAddr string
	prom        *prometheusServer
)

func TestDashboard(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Grafana dashboard suite")
}

var _ = BeforeSuite(func() {
	ctx, testEnv = testenv.StartSuite()
	k8sClient = testEnv.Client

	previous := debug.SetMemoryLimit(memoryLimit)
	DeferCleanup(func() { debug.SetMemoryLimit(previous) })

	metricsAddr = testenv.FreeLocalAddress()
	mgr := testEnv.NewManager(testEnv.Config, controller.CacheOptions(), metricsAddr)
	Expect((&controller.LabelGroupReconciler{
		Client:   mgr.GetClient(),
		Recorder: mgr.GetEventRecorder("labelgroup-controller"),
		// Above the CRD's maxItems, as a newer manager with an older CRD
		// could be: the API server refuses the status of a group with more
		// members, which is how the suite makes status write errors.
		MemberLimit:  v1alpha1.MaxStatusMembers + 1,
		OverlapLimit: 100,
	}).SetupWithManager(mgr)).To(Succeed())
	testenv.RunManager(ctx, mgr)

	prom = startPrometheus(metricsAddr)
})

// repoPath is a path in the repository.
func repoPath(parts ...string) string {
	_, thisFile, _, _ := runtime.Caller(0)
	return filepath.Join(append([]string{filepath.Dir(thisFile), "..", "..", ".."}, parts...)...)
}
