//go:build e2e

// Package e2e proves the operator as shipped: built into an image, installed
// from config/ with `kubectl apply -k`, running as its Deployment under its own
// ServiceAccount on a real cluster. envtest cannot catch a missing RBAC rule, a
// broken overlay, a bad probe or security context, a flag that does not parse
// or a metrics endpoint nobody can scrape; this suite does.
//
// It runs against whatever cluster KUBECONFIG points to, with the operator
// already deployed (`make test-e2e` on kind). Environment:
//
//	E2E_KUSTOMIZE_DIR   the configuration that was applied, relative to the
//	                    repository (default config/default)
//	E2E_HA_KUSTOMIZE_DIR the high-availability configuration the leader
//	                    election spec applies over it (default config/ha)
//	KIND_CLUSTER        the kind cluster's name, which lets a spec kill the
//	                    manager's process on the node
package e2e

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apiruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/config"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

const (
	// statusTimeout bounds how long a running manager may take to make a
	// status, event or metric follow a change.
	statusTimeout = 30 * time.Second
	// recoveryTimeout bounds how long the manager may take to come back: a
	// replaced pod first waits for the old one to stop (up to
	// its 10 s termination grace period), a restarted process for the lease
	// its predecessor could not release to expire.
	recoveryTimeout = 2 * time.Minute
	pollInterval    = 250 * time.Millisecond
)

var (
	ctx        = context.Background()
	restConfig *rest.Config
	k8sClient  client.Client
	clientset  *kubernetes.Clientset
	// repoRoot is where kubectl runs, so that paths read as in the README.
	repoRoot string
	// kustomizeDir is the configuration the operator was deployed from.
	kustomizeDir string
	// specNamespaces are the namespaces the current spec created, for the
	// diagnostics dumped when it fails.
	specNamespaces []string
)

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "labelgroup-operator e2e suite")
}

var _ = BeforeSuite(func() {
	var err error
	// The clients log through Ginkgo (shown when a spec fails).
	ctrllog.SetLogger(GinkgoLogr)
	restConfig, err = config.GetConfig()
	Expect(err).NotTo(HaveOccurred(), "KUBECONFIG must name the cluster to test")
	scheme := apiruntime.NewScheme()
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(v1alpha1.AddToScheme(scheme)).To(Succeed())
	k8sClient, err = client.New(restConfig, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	clientset, err = kubernetes.NewForConfig(restConfig)
	Expect(err).NotTo(HaveOccurred())

	_, thisFile, _, _ := runtime.Caller(0)
	repoRoot = filepath.Join(filepath.Dir(thisFile), "..", "..")
	kustomizeDir = os.Getenv("E2E_KUSTOMIZE_DIR")
	if kustomizeDir == "" {
		kustomizeDir = "config/default"
	}

	SetDefaultEventuallyTimeout(statusTimeout)
	SetDefaultEventuallyPollingInterval(pollInterval)
	SetDefaultConsistentlyPollingInterval(pollInterval)
})

// Every spec starts with the shipped manager Available and alone, whatever
// an earlier spec did to it.
var _ = BeforeEach(func() {
	specNamespaces = nil
	By("waiting for the manager's Deployment to be Available with one ready pod")
	Eventually(theManagerPod).WithTimeout(recoveryTimeout).Should(HaveField("Status.Phase", corev1.PodRunning))
})

var _ = AfterEach(func() {
	if CurrentSpecReport().Failed() {
		dumpDiagnostics(specNamespaces)
	}
})
