// Package testenv starts the real API server (and etcd) that the integration
// suites run against, with the LabelGroup CRD installed.
package testenv

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"runtime"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	apiruntime "k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	groupingv1alpha1 "github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

// Env is a running control plane and a client for it.
type Env struct {
	*envtest.Environment
	Config *rest.Config
	Scheme *apiruntime.Scheme
	Client client.Client
	// Audit is the API server's audit log, when the suite asked for it.
	Audit *AuditLog
}

// Option changes how the control plane starts.
type Option func(*Env) error

// Start starts kube-apiserver and etcd from KUBEBUILDER_ASSETS (make test sets
// it to the binaries it builds in bin/) and installs the CRDs of config/crd.
func Start(opts ...Option) (*Env, error) {
	_, thisFile, _, _ := runtime.Caller(0)
	env := &Env{Environment: &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(filepath.Dir(thisFile), "..", "..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}}
	for _, opt := range opts {
		if err := opt(env); err != nil {
			return nil, err
		}
	}
	cfg, err := env.Environment.Start()
	if err != nil {
		return nil, fmt.Errorf("starting envtest (run `make test`, or set KUBEBUILDER_ASSETS to a folder holding kube-apiserver and etcd): %w", err)
	}
	env.Config = cfg
	env.Scheme = apiruntime.NewScheme()
	if err := clientgoscheme.AddToScheme(env.Scheme); err != nil {
		return nil, err
	}
	if err := groupingv1alpha1.AddToScheme(env.Scheme); err != nil {
		return nil, err
	}
	env.Client, err = client.New(cfg, client.Options{Scheme: env.Scheme})
	return env, err
}

// StartSuite starts the control plane for a Ginkgo suite: call it from
// BeforeSuite. Logs go to GinkgoWriter. The returned context is cancelled, and
// the control plane stopped, when the suite ends.
func StartSuite(opts ...Option) (context.Context, *Env) {
	logf.SetLogger(zap.New(zap.WriteTo(ginkgo.GinkgoWriter), zap.UseDevMode(true)))
	ctx, cancel := context.WithCancel(context.Background())
	env, err := Start(opts...)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	ginkgo.DeferCleanup(func() {
		cancel()
		gomega.Expect(env.Stop()).To(gomega.Succeed())
	})
	return ctx, env
}

// ConfigAs binds user to a ClusterRole of its own name holding rules, and
// returns a config that acts as user (by impersonation), with those rights
// and no more.
func (e *Env) ConfigAs(ctx context.Context, user string, rules []rbacv1.PolicyRule) *rest.Config {
	gomega.ExpectWithOffset(1, e.Client.Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: user}, Rules: rules})).To(gomega.Succeed())
	gomega.ExpectWithOffset(1, e.Client.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: user},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: user},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
	})).To(gomega.Succeed())
	config := rest.CopyConfig(e.Config)
	config.Impersonate = rest.ImpersonationConfig{UserName: user}
	return config
}

// NewManager makes a manager that acts as the user cfg authenticates, on the
// suite's scheme, with cacheOptions as its cache options and no health
// probes; its metrics server listens on metricsAddr, "0" for none.
func (e *Env) NewManager(cfg *rest.Config, cacheOptions cache.Options, metricsAddr string) manager.Manager {
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 e.Scheme,
		Metrics:                metricsserver.Options{BindAddress: metricsAddr},
		HealthProbeBindAddress: "0",
		Cache:                  cacheOptions,
	})
	gomega.ExpectWithOffset(1, err).NotTo(gomega.HaveOccurred())
	return mgr
}

// RunManager starts mgr in the background until ctx is cancelled (for a
// suite's manager, when the suite ends), and fails the suite if it stops with
// an error.
func RunManager(ctx context.Context, mgr manager.Manager) {
	go func() {
		defer ginkgo.GinkgoRecover()
		gomega.Expect(mgr.Start(ctx)).To(gomega.Succeed())
	}()
}

// NewNamespace creates a namespace named prefix-<random> for the current spec
// and deletes it when the spec ends.
func NewNamespace(ctx context.Context, c client.Client, prefix string) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}
	gomega.ExpectWithOffset(1, c.Create(ctx, ns)).To(gomega.Succeed())
	ginkgo.DeferCleanup(func() { gomega.Expect(client.IgnoreNotFound(c.Delete(ctx, ns))).To(gomega.Succeed()) })
	return ns.Name
}

// FreeLocalAddress returns a loopback address with a port nothing listens on,
// for a server a suite starts (metrics, probes, Prometheus).
func FreeLocalAddress() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	gomega.ExpectWithOffset(1, err).NotTo(gomega.HaveOccurred())
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}
