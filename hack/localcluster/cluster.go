package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap/zapcore"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// cluster is what the run stage starts and stops.
type cluster struct {
	cfg    *config
	runDir string
	env    *envtest.Environment
	admin  *rest.Config
	port   string // the API server's port on 127.0.0.1

	// Only with --node.
	nodeName   string
	containerd string       // containerd's socket
	components []*component // in start order
}

// runStage starts the cluster, announces it, waits for a signal or for a
// component to die, and stops the cluster. It returns the exit code.
func runStage(cfg *config, runDir string) int {
	// envtest logs through controller-runtime: its retries are worth seeing,
	// without stack traces.
	ctrllog.SetLogger(zap.New(zap.Level(zapcore.WarnLevel), zap.StacktraceLevel(zapcore.PanicLevel), zap.ConsoleEncoder()))
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer cancel()

	c := &cluster{cfg: cfg, runDir: runDir}
	began := time.Now()
	startCtx, cancelStart := context.WithTimeout(ctx, cfg.startTimeout)
	err := c.start(startCtx)
	cancelStart()
	code := 0
	if err != nil {
		logf("start-up failed after %.1fs: %v", time.Since(began).Seconds(), err)
		code = 1
	} else {
		c.announce(time.Since(began))
		err = c.watch(ctx)
		if err != nil {
			logf("%v", err)
			code = 1
		}
	}
	// From here on a second Ctrl-C kills the run stage at once, and with it,
	// through the init stage, everything else.
	cancel()
	logf("stopping")
	c.stop()
	logf("stopped")
	return code
}

func (c *cluster) start(ctx context.Context) error {
	if err := os.MkdirAll(c.cfg.logDir, 0o755); err != nil {
		return err
	}
	if err := c.startControlPlane(); err != nil {
		return err
	}
	if c.cfg.node {
		if err := c.startNode(ctx); err != nil {
			return err
		}
	}
	return c.writeOutputs()
}

// startControlPlane starts etcd and kube-apiserver through envtest, which
// retries on a port clash, and installs the CRDs of --crd-dir.
func (c *cluster) startControlPlane() error {
	etcdLog, err := os.Create(filepath.Join(c.cfg.logDir, "etcd.log"))
	if err != nil {
		return err
	}
	apiLog, err := os.Create(filepath.Join(c.cfg.logDir, "kube-apiserver.log"))
	if err != nil {
		return err
	}
	c.env = &envtest.Environment{
		BinaryAssetsDirectory:    c.cfg.assets,
		ControlPlaneStartTimeout: time.Minute,
		ControlPlaneStopTimeout:  30 * time.Second,
		CRDDirectoryPaths:        c.cfg.crdDirs,
		ErrorIfCRDPathMissing:    true,
	}
	c.env.ControlPlane.Etcd = &envtest.Etcd{Out: etcdLog, Err: etcdLog}
	api := c.env.ControlPlane.GetAPIServer()
	api.Out, api.Err = apiLog, apiLog
	if c.cfg.node {
		args := api.Configure()
		// envtest turns the ServiceAccount admission plugin off because it
		// runs no controller to make the default ServiceAccount; we do, and
		// without the plugin pods get no token.
		args.Set("disable-admission-plugins", "")
		// The kubelet serves on 127.0.0.1 only (see kubeletConfig).
		args.Set("kubelet-preferred-address-types", "InternalIP")
		// The kubernetes Service gets the range's first address: 127.0.0.1
		// instead of envtest's 10.0.0.1. Pods see it as
		// KUBERNETES_SERVICE_HOST, so a pod on the host's network that was
		// not told the API server's port connects to 127.0.0.1:443 and is
		// refused, instead of sending traffic off the machine. (There is no
		// kube-proxy: Services are not reachable at their ClusterIP.)
		args.Set("service-cluster-ip-range", "127.0.0.0/24")
	}
	// envtest looks at $KUBEBUILDER_ASSETS before BinaryAssetsDirectory.
	os.Setenv("KUBEBUILDER_ASSETS", c.cfg.assets)
	admin, err := c.env.Start()
	if err != nil {
		return fmt.Errorf("control plane: %w", err)
	}
	c.admin = admin
	u, err := url.Parse(admin.Host)
	if err != nil {
		return err
	}
	c.port = u.Port()
	return nil
}

// writeOutputs writes the kubeconfig, then the env file: the env file's
// appearance is what tells a script that the cluster is ready, so it is
// written last, and both are written whole (rename) so nobody reads half.
func (c *cluster) writeOutputs() error {
	if err := writeFileAtomic(c.cfg.kubeconfigOut, c.env.KubeConfig, 0o600); err != nil {
		return err
	}
	vars := [][2]string{
		{"KUBECONFIG", c.cfg.kubeconfigOut},
		{"APISERVER_HOST", "127.0.0.1"},
		{"APISERVER_PORT", c.port},
		{"APISERVER_URL", c.admin.Host},
		{"LOCALCLUSTER_PID", os.Getenv(pidEnv)},
		{"LOCALCLUSTER_NODE", c.nodeName},
		{"LOCALCLUSTER_LOG_DIR", c.cfg.logDir},
	}
	if c.cfg.node {
		// ctr reads these: `ctr images import x.tar` imports for the kubelet.
		vars = append(vars, [2]string{"CONTAINERD_ADDRESS", c.containerd}, [2]string{"CONTAINERD_NAMESPACE", "k8s.io"})
	}
	var b strings.Builder
	b.WriteString("# Written by hack/localcluster for the cluster it runs; removed when it stops.\n")
	for _, v := range vars {
		fmt.Fprintf(&b, "%s=%s\n", v[0], shellQuote(v[1]))
	}
	return writeFileAtomic(c.cfg.envOut, []byte(b.String()), 0o644)
}

// announce prints what a person or a script needs to use the cluster.
func (c *cluster) announce(took time.Duration) {
	kind := "control plane (etcd, kube-apiserver)"
	if c.cfg.node {
		kind = "cluster (control plane, controller-manager, scheduler, containerd, kubelet; node " + c.nodeName + ")"
	}
	fmt.Printf("%s\n", c.env.KubeConfig)
	logf("%s ready in %.1fs", kind, took.Seconds())
	logf("API server: %s (127.0.0.1:%s)", c.admin.Host, c.port)
	logf("kubeconfig: %s", c.cfg.kubeconfigOut)
	logf("env file:   %s (source it: set -a; . %s; set +a)", c.cfg.envOut, c.cfg.envOut)
	logf("logs:       %s", c.cfg.logDir)
	logf("stop with Ctrl-C or: kill %s", os.Getenv(pidEnv))
}

// watch blocks until ctx ends (a signal) or a component dies.
func (c *cluster) watch(ctx context.Context) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			for _, comp := range c.components {
				if comp.exited() {
					return comp.failure()
				}
			}
		}
	}
}

// stop stops the node's components in reverse start order, then the control
// plane. Whatever survives that (pods' containers, containerd's shims) the
// init stage's exit kills.
func (c *cluster) stop() {
	for i := len(c.components) - 1; i >= 0; i-- {
		c.components[i].stop(10 * time.Second)
	}
	if c.cfg.node {
		killRest()
	}
	if c.env != nil {
		if err := c.env.Stop(); err != nil {
			logf("warning: stop the control plane: %v", err)
		}
	}
}

// killRest SIGKILLs every other process in the PID namespace but the init
// stage and etcd and kube-apiserver (envtest stops those): the pods'
// containers and containerd's shims, which stopping containerd leaves running.
func killRest() {
	if os.Getenv(stageEnv) != "run" || os.Getppid() != 1 {
		return // not in a PID namespace of our own: every process is someone's
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	keep := map[string]bool{"1": true, fmt.Sprint(os.Getpid()): true}
	for _, e := range entries {
		if keep[e.Name()] {
			continue
		}
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
			continue
		}
		comm, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		switch strings.TrimSpace(string(comm)) {
		case "etcd", "kube-apiserver":
			continue
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// freePort returns a TCP port on 127.0.0.1 that nothing listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// writeFileAtomic writes data to path through a temporary file and a rename.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// removeEnvFile removes the env file if it is the launcher's with the given
// PID, so that nobody sources the variables of a cluster that is gone.
func removeEnvFile(path string, pid int) {
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	if strings.Contains(string(data), fmt.Sprintf("\nLOCALCLUSTER_PID=%d\n", pid)) {
		_ = os.Remove(path)
	}
}

// shellQuote quotes s for a POSIX shell: single quotes, unless s is plain.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:,=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// poll calls cond every interval until it returns true or an error, ctx ends,
// or a component dies.
func (c *cluster) poll(ctx context.Context, what string, cond func(context.Context) (bool, error)) error {
	for {
		for _, comp := range c.components {
			if comp.exited() {
				return fmt.Errorf("waiting for %s: %w", what, comp.failure())
			}
		}
		ok, err := cond(ctx)
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, context.Cause(ctx))
		case <-time.After(250 * time.Millisecond):
		}
	}
}
