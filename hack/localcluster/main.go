// Command localcluster runs a real Kubernetes cluster on this machine, for
// `make demo` and the local e2e tests, from the binaries that `make
// node-binaries` builds (bin/k8s-<version>) and Debian's containerd and runc
// (hack/install-node-deps.sh).
//
// By default it runs a control plane only, etcd and kube-apiserver, through
// controller-runtime's envtest, which makes the certificates, picks free ports
// and provisions an admin user. With --node it also runs
// kube-controller-manager, kube-scheduler, containerd and a kubelet, so that
// Deployments get real pods: pods that use the host's network (there is no pod
// network) and reach the API server at 127.0.0.1 (see README.md).
//
// Once the cluster is up it writes an admin kubeconfig (--kubeconfig-out) and
// a file of shell variables (--env-out) and prints both; it then runs until
// SIGINT or SIGTERM, and stops and deletes everything it started. Run as root
// it does so in a PID and mount namespace of its own, so that even a SIGKILL
// leaves no process or mount behind (see isolate.go).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// config holds the command line.
type config struct {
	node          bool
	assets        string
	kubeconfigOut string
	envOut        string
	logDir        string
	workDir       string
	crdDirs       []string
	pauseImageTar string
	imageTars     []string
	startTimeout  time.Duration
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func parseFlags() (*config, error) {
	cfg := &config{}
	flag.BoolVar(&cfg.node, "node", false, "also run kube-controller-manager, kube-scheduler, containerd and a kubelet (needs root)")
	flag.StringVar(&cfg.assets, "assets", os.Getenv("KUBEBUILDER_ASSETS"), "directory of the Kubernetes binaries (default $KUBEBUILDER_ASSETS)")
	flag.StringVar(&cfg.kubeconfigOut, "kubeconfig-out", "bin/local-cluster/kubeconfig", "where to write the admin kubeconfig")
	flag.StringVar(&cfg.envOut, "env-out", "", "where to write the shell variables KUBECONFIG, APISERVER_* ... once the cluster is ready (default: env beside the kubeconfig); removed on exit")
	flag.StringVar(&cfg.logDir, "log-dir", "", "where the components' logs go, kept after exit (default: logs beside the kubeconfig)")
	flag.StringVar(&cfg.workDir, "work-dir", os.TempDir(), "where to make the run's temporary directory, deleted on exit")
	flag.Var((*stringList)(&cfg.crdDirs), "crd-dir", "install the CRDs in this directory once the API server is up (repeatable)")
	flag.StringVar(&cfg.pauseImageTar, "pause-image-tar", "", "with --node: image tarball of the pause container (hack/pause packed by hack/imagetar); its tag becomes containerd's sandbox image")
	flag.Var((*stringList)(&cfg.imageTars), "image-tar", "with --node: another image tarball to import into containerd before the node starts (repeatable)")
	flag.DurationVar(&cfg.startTimeout, "start-timeout", 3*time.Minute, "how long the cluster may take to come up")
	flag.Parse()
	if flag.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	if cfg.assets == "" {
		return nil, fmt.Errorf("no --assets and no $KUBEBUILDER_ASSETS: where are kube-apiserver and etcd? (make control-plane-binaries)")
	}
	if cfg.node && cfg.pauseImageTar == "" {
		return nil, fmt.Errorf("--node needs --pause-image-tar")
	}
	if cfg.node && os.Geteuid() != 0 {
		return nil, fmt.Errorf("--node needs root: containerd and the kubelet do")
	}
	// Every path is made absolute here, before the stages start, so that they
	// all mean the same files.
	var err error
	abs := func(p *string) {
		if *p != "" && err == nil {
			*p, err = filepath.Abs(*p)
		}
	}
	abs(&cfg.assets)
	abs(&cfg.kubeconfigOut)
	if cfg.envOut == "" {
		cfg.envOut = filepath.Join(filepath.Dir(cfg.kubeconfigOut), "env")
	}
	if cfg.logDir == "" {
		cfg.logDir = filepath.Join(filepath.Dir(cfg.kubeconfigOut), "logs")
	}
	abs(&cfg.envOut)
	abs(&cfg.logDir)
	abs(&cfg.workDir)
	abs(&cfg.pauseImageTar)
	for i := range cfg.crdDirs {
		abs(&cfg.crdDirs[i])
	}
	for i := range cfg.imageTars {
		abs(&cfg.imageTars[i])
	}
	if err != nil {
		return nil, err
	}
	return cfg, checkBinaries(cfg)
}

// checkBinaries fails early, saying how to get them, when programs are missing.
func checkBinaries(cfg *config) error {
	k8s := []string{"etcd", "kube-apiserver"}
	hint := "make control-plane-binaries"
	if cfg.node {
		k8s = append(k8s, "kube-controller-manager", "kube-scheduler", "kubelet")
		hint = "make node-binaries"
	}
	for _, name := range k8s {
		if _, err := os.Stat(filepath.Join(cfg.assets, name)); err != nil {
			return fmt.Errorf("no %s in %s (%s)", name, cfg.assets, hint)
		}
	}
	if cfg.node {
		for _, name := range []string{"containerd", "containerd-shim-runc-v2", "runc", "ctr", "/usr/lib/cni/loopback"} {
			if _, err := exec.LookPath(name); err != nil {
				return fmt.Errorf("no %s (hack/install-node-deps.sh)", name)
			}
		}
	}
	return nil
}

func main() {
	cfg, err := parseFlags()
	if err != nil {
		logf("%v", err)
		os.Exit(2)
	}
	switch os.Getenv(stageEnv) {
	case "init":
		if os.Getpid() != 1 {
			logf("the init stage must be PID 1 of its namespace")
			os.Exit(1)
		}
		os.Exit(initStage(cfg, os.Getenv(runDirEnv)))
	case "run":
		os.Exit(runStage(cfg, os.Getenv(runDirEnv)))
	}
	if os.Geteuid() == 0 {
		os.Exit(outerStage(cfg))
	}
	// Without root there are no namespaces: run the control plane directly.
	// A clean stop still stops everything; a SIGKILL leaves etcd and
	// kube-apiserver running.
	logf("not root: running without a PID namespace of its own")
	if err := removeStaleRuns(cfg.workDir); err != nil {
		logf("warning: %v", err)
	}
	runDir, err := newRunDir(cfg.workDir)
	if err != nil {
		logf("%v", err)
		os.Exit(1)
	}
	os.Setenv("TMPDIR", filepath.Join(runDir, "tmp"))
	os.Setenv(pidEnv, fmt.Sprint(os.Getpid()))
	code := runStage(cfg, runDir)
	removeEnvFile(cfg.envOut, os.Getpid())
	if err := removeRun(runDir); err != nil {
		logf("warning: %v", err)
	}
	os.Exit(code)
}

// logf prints a line of the launcher's own to stderr.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "localcluster: "+format+"\n", args...)
}
