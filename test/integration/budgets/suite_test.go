// Package budgets tests --watch-pod-disruption-budgets against a real API
// server with the manager running: the budgets that cover a pod in common,
// found live, checked against the eviction API (which refuses to evict such a
// pod), against kubectl-labelgroup's lint and who-selects on the same objects,
// and their gauges and events.
package budgets

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

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
// informer as they do in a cluster, and with the rights it has there: the
// generated role and the pod-disruption-budgets component's, nothing more.
var _ = BeforeSuite(func() {
	ctx, testEnv = testenv.StartSuite()
	k8sClient = testEnv.Client
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(50 * time.Millisecond)
	var err error
	clientset, err = kubernetes.NewForConfig(testEnv.Config)
	Expect(err).NotTo(HaveOccurred())

	mgr := testEnv.NewManager(managerConfig(), controller.CacheOptions(), "0")
	recorder := mgr.GetEventRecorder("labelgroup-controller")
	Expect((&controller.LabelGroupReconciler{Client: mgr.GetClient(), Recorder: recorder}).SetupWithManager(mgr)).To(Succeed())
	Expect((&controller.PodDisruptionBudgetReconciler{Client: mgr.GetClient(), Recorder: recorder}).SetupWithManager(mgr)).To(Succeed())

	testenv.RunManager(ctx, mgr)
})

// managerConfig binds the user "manager" to the rules of config/rbac/role.yaml
// and of config/components/pod-disruption-budgets/role.yaml and returns a
// config that acts as that user.
func managerConfig() *rest.Config {
	_, thisFile, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(thisFile), "..", "..", "..")
	var rules []rbacv1.PolicyRule
	for _, file := range []string{"config/rbac/role.yaml", "config/components/pod-disruption-budgets/role.yaml"} {
		data, err := os.ReadFile(filepath.Join(root, file))
		Expect(err).NotTo(HaveOccurred())
		var role rbacv1.ClusterRole
		Expect(yaml.UnmarshalStrict(data, &role)).To(Succeed(), file)
		rules = append(rules, role.Rules...)
	}
	return testEnv.ConfigAs(ctx, "manager", rules)
}
