package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

// controlPlane is etcd and kube-apiserver (envtest) with the LabelGroup CRD,
// the admin kubeconfig the processes the harness starts read, and those
// processes. Every file of a run goes under one out dir: the kubeconfig, and
// each process's output in logs/<name>.log.
type controlPlane struct {
	env        *envtest.Environment
	cfg        *rest.Config
	kubeconfig string
	logDir     string
	procs      []*process
}

// planeFlags are the command line of the control plane, the same for every
// command.
type planeFlags struct{ assets, crdDir, outDir string }

func (f *planeFlags) register(flags *flag.FlagSet, outDir string) {
	flags.StringVar(&f.assets, "assets", os.Getenv("KUBEBUILDER_ASSETS"), "directory of etcd and kube-apiserver (and for bench kube-controller-manager)")
	flags.StringVar(&f.crdDir, "crd-dir", "config/crd/bases", "the LabelGroup CRD")
	flags.StringVar(&f.outDir, "out-dir", outDir, "the run's logs, kubeconfig and profiles")
}

// startControlPlane starts etcd and kube-apiserver. configure, when not nil,
// changes kube-apiserver's setup before it starts.
func startControlPlane(f planeFlags, configure func(*envtest.APIServer) error) (*controlPlane, error) {
	cp := &controlPlane{kubeconfig: filepath.Join(f.outDir, "kubeconfig"), logDir: filepath.Join(f.outDir, "logs")}
	if err := os.MkdirAll(cp.logDir, 0o755); err != nil {
		return nil, err
	}
	etcdLog, err := os.Create(filepath.Join(cp.logDir, "etcd.log"))
	if err != nil {
		return nil, err
	}
	apiLog, err := os.Create(filepath.Join(cp.logDir, "kube-apiserver.log"))
	if err != nil {
		return nil, err
	}
	cp.env = &envtest.Environment{
		BinaryAssetsDirectory:    f.assets,
		ControlPlaneStartTimeout: time.Minute,
		CRDDirectoryPaths:        []string{f.crdDir},
		ErrorIfCRDPathMissing:    true,
	}
	cp.env.ControlPlane.Etcd = &envtest.Etcd{Out: etcdLog, Err: etcdLog}
	api := cp.env.ControlPlane.GetAPIServer()
	api.Out, api.Err = apiLog, apiLog
	if configure != nil {
		if err := configure(api); err != nil {
			return nil, err
		}
	}
	if err := os.Setenv("KUBEBUILDER_ASSETS", f.assets); err != nil {
		return nil, err
	}
	if cp.cfg, err = cp.env.Start(); err != nil {
		_ = cp.env.Stop()
		return nil, fmt.Errorf("control plane (etcd and kube-apiserver from %q): %w", f.assets, err)
	}
	if err := os.WriteFile(cp.kubeconfig, cp.env.KubeConfig, 0o600); err != nil {
		_ = cp.env.Stop()
		return nil, err
	}
	return cp, nil
}

// start starts bin with args and the harness's environment plus env; stop
// stops it.
func (cp *controlPlane) start(name string, env []string, bin string, args ...string) (*process, error) {
	p, err := startProcess(name, cp.logDir, env, bin, args...)
	if err == nil {
		cp.procs = append(cp.procs, p)
	}
	return p, err
}

// startManager starts the manager binary with the admin kubeconfig, no
// health probes (nothing here probes it) and args.
func (cp *controlPlane) startManager(bin string, env []string, args ...string) (*process, error) {
	return cp.start("labelgroup-operator", env, bin,
		append([]string{"--kubeconfig=" + cp.kubeconfig, "--health-probe-bind-address=0"}, args...)...)
}

// checkAlive fails when a process the run depends on has died.
func (cp *controlPlane) checkAlive() error {
	for _, p := range cp.procs {
		if p.exited() {
			return fmt.Errorf("%s exited (see %s)", p.name, filepath.Join(cp.logDir, p.name+".log"))
		}
	}
	return nil
}

// stop stops the processes, last started first, then the control plane.
func (cp *controlPlane) stop() {
	if cp == nil {
		return
	}
	for i := len(cp.procs) - 1; i >= 0; i-- {
		cp.procs[i].stop()
	}
	_ = cp.env.Stop()
}

// newScheme knows the built-in kinds and LabelGroups.
func newScheme() (*runtime.Scheme, error) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	return scheme, v1alpha1.AddToScheme(scheme)
}
