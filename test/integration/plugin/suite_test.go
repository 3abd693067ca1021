// Package plugin proves kubectl-labelgroup against a real API server: lint's
// invalid verdict equals the server's accept or refuse on random and corpus
// LabelGroups, who-selects reads a live namespace, and create sends a server
// dry run.
package plugin

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/test/integration/testenv"
)

var (
	ctx        context.Context
	testEnv    *testenv.Env
	k8sClient  client.Client
	kubeconfig string
)

func TestPlugin(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "kubectl-labelgroup suite")
}

var _ = BeforeSuite(func() {
	ctx, testEnv = testenv.StartSuite()
	k8sClient = testEnv.Client
	kubeconfig = filepath.Join(GinkgoT().TempDir(), "kubeconfig")
	Expect(os.WriteFile(kubeconfig, testEnv.KubeConfig, 0o600)).To(Succeed())
})
