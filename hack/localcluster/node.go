package main

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// nodeName is the node's name and also its address: the kubelet reports its
// name as the node's InternalIP when the name is an IP, and it accepts a
// loopback address only that way (--node-ip refuses one). So the API server
// reaches the kubelet (logs, exec) at 127.0.0.1 and nothing goes anywhere
// else.
const nodeName = "127.0.0.1"

// controllers are kube-controller-manager's controllers that the e2e tests
// need: Deployments down to pods, ServiceAccounts and their tokens, the
// kube-root-ca.crt ConfigMap, namespace deletion, garbage collection of owned
// objects, the node lifecycle, which lifts the not-ready taint that every
// new node gets once the node is Ready, the aggregation of ClusterRoles into
// the built-in admin, edit and view (the operator's roles aggregate), and the
// PodDisruptionBudget status that the eviction API consults.
var controllers = []string{
	"deployment-controller", "replicaset-controller",
	"serviceaccount-controller", "serviceaccount-token-controller",
	"root-ca-certificate-publisher-controller",
	"namespace-controller", "garbage-collector-controller",
	"node-lifecycle-controller",
	"clusterrole-aggregation-controller", "disruption-controller",
}

// startNode starts kube-controller-manager, kube-scheduler, containerd and
// the kubelet, and waits until the node is Ready and the default namespace
// has its ServiceAccount and root CA ConfigMap: until a Deployment applied
// now would get running pods.
func (c *cluster) startNode(ctx context.Context) error {
	c.nodeName = nodeName
	pki := filepath.Join(c.runDir, "pki")
	if err := os.MkdirAll(pki, 0o755); err != nil {
		return err
	}
	api := c.env.ControlPlane.GetAPIServer()
	caFile := filepath.Join(pki, "ca.crt")
	if err := os.WriteFile(caFile, api.SecureServing.CA, 0o644); err != nil {
		return err
	}
	kubeconfig := func(user string, groups ...string) (string, error) {
		u, err := c.env.AddUser(envtest.User{Name: user, Groups: groups}, nil)
		if err != nil {
			return "", err
		}
		data, err := u.KubeConfig()
		if err != nil {
			return "", err
		}
		path := filepath.Join(pki, strings.ReplaceAll(user, ":", "-")+".kubeconfig")
		return path, os.WriteFile(path, data, 0o600)
	}
	// Every component is a member of system:masters: envtest's API server
	// authorizes with RBAC alone (no Node authorizer), and the bootstrap
	// roles would need bindings that a throwaway cluster can do without.
	kcmConfig, err := kubeconfig("system:kube-controller-manager", "system:masters")
	if err != nil {
		return err
	}
	schedConfig, err := kubeconfig("system:kube-scheduler", "system:masters")
	if err != nil {
		return err
	}
	kubeletConfig, err := kubeconfig("system:node:"+nodeName, "system:nodes", "system:masters")
	if err != nil {
		return err
	}

	// The controllers first: they need nothing but the API server, and the
	// ServiceAccount they make is ready sooner.
	kcm, err := startComponent(c.cfg.logDir, "kube-controller-manager", c.bin("kube-controller-manager"),
		"--kubeconfig="+kcmConfig,
		"--controllers="+strings.Join(controllers, ","),
		"--service-account-private-key-file="+filepath.Join(api.CertDir, "sa-signer.key"),
		"--root-ca-file="+caFile,
		"--leader-elect=false",
		"--secure-port=0", // no metrics or health endpoint: nothing to listen on
		"--v=1",
	)
	if err != nil {
		return err
	}
	c.components = append(c.components, kcm)
	sched, err := startComponent(c.cfg.logDir, "kube-scheduler", c.bin("kube-scheduler"),
		"--kubeconfig="+schedConfig,
		"--leader-elect=false",
		"--secure-port=0",
		"--v=1",
	)
	if err != nil {
		return err
	}
	c.components = append(c.components, sched)

	sock, err := c.startContainerd(ctx)
	if err != nil {
		return err
	}
	c.containerd = sock
	if err := c.startKubelet(kubeletConfig, sock); err != nil {
		return err
	}
	return c.waitNodeUsable(ctx)
}

// bin is the path of one of the Kubernetes binaries.
func (c *cluster) bin(name string) string { return filepath.Join(c.cfg.assets, name) }

// startContainerd writes containerd's configuration, starts it, imports the
// images and returns its socket.
func (c *cluster) startContainerd(ctx context.Context) (string, error) {
	sandboxImage, err := imageTag(c.cfg.pauseImageTar)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(c.runDir, "containerd")
	cniConf := filepath.Join(c.runDir, "cni")
	for _, d := range []string{dir, cniConf} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", err
		}
	}
	// The loopback CNI network is the node's whole pod network: it makes the
	// runtime report its network ready, and so the node Ready, without any
	// address or route outside the pods' own namespaces. Pods that want to
	// reach anything use the host's network (hostNetwork: true).
	loopback := `{"cniVersion": "1.0.0", "name": "loopback", "plugins": [{"type": "loopback"}]}` + "\n"
	if err := os.WriteFile(filepath.Join(cniConf, "10-loopback.conflist"), []byte(loopback), 0o644); err != nil {
		return "", err
	}
	sock := filepath.Join(dir, "containerd.sock")
	config := fmt.Sprintf(containerdConfig, dir, sock, sandboxImage, cniConf)
	configPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(configPath, []byte(config), 0o644); err != nil {
		return "", err
	}
	ctrd, err := startComponent(c.cfg.logDir, "containerd", "containerd", "--config", configPath)
	if err != nil {
		return "", err
	}
	c.components = append(c.components, ctrd)
	if err := c.poll(ctx, "containerd", func(context.Context) (bool, error) {
		return exec.Command("ctr", "--address", sock, "version").Run() == nil, nil
	}); err != nil {
		return "", err
	}
	for _, tarball := range append([]string{c.cfg.pauseImageTar}, c.cfg.imageTars...) {
		// The CRI plugin sees only the k8s.io namespace.
		out, err := exec.CommandContext(ctx, "ctr", "--address", sock, "--namespace", "k8s.io",
			"images", "import", tarball).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("import %s: %v: %s", tarball, err, out)
		}
	}
	return sock, nil
}

// containerdConfig is containerd 1.6's configuration; its %s are the state
// directory, the socket, the sandbox image and the CNI configuration directory.
// Everything lives under the run directory; the CRI plugin's streaming server
// (exec, port-forward) listens on 127.0.0.1 only.
const containerdConfig = `version = 2
root = "%[1]s/root"
state = "%[1]s/state"
# /opt/containerd would be made on the host for nothing.
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "%[2]s"

[ttrpc]
  address = "%[2]s.ttrpc"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "%[3]s"
  # Without CAP_SYS_RESOURCE (as in some VMs and containers) the kernel
  # refuses the pause container's oom_score_adj of -998; this clamps it.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  # Pods' network namespaces under the state directory, not /run/netns.
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "%[1]s/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "%[4]s"
`

// startKubelet writes the kubelet's configuration and starts it.
func (c *cluster) startKubelet(kubeconfig, sock string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	dir := filepath.Join(c.runDir, "kubelet")
	podLogs := filepath.Join(c.runDir, "pod-logs")
	for _, d := range []string{dir, podLogs} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	config := fmt.Sprintf(kubeletConfig, port, "unix://"+sock, podLogs)
	configPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(configPath, []byte(config), 0o644); err != nil {
		return err
	}
	kubelet, err := startComponent(c.cfg.logDir, "kubelet", c.bin("kubelet"),
		"--config="+configPath,
		"--kubeconfig="+kubeconfig,
		"--root-dir="+filepath.Join(dir, "root"),
		"--hostname-override="+nodeName,
		"--v=1",
	)
	if err != nil {
		return err
	}
	c.components = append(c.components, kubelet)
	return nil
}

// kubeletConfig is the kubelet's configuration; its verbs are the port, the
// runtime's endpoint and the pod log directory (by default /var/log/pods, on
// the host).
const kubeletConfig = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: %d
readOnlyPort: 0
healthzPort: 0
authentication:
  anonymous:
    enabled: true
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
containerRuntimeEndpoint: %s
# cgroupfs, cgroup v1 allowed, and no QoS or node-allocatable cgroups of the
# kubelet's own: containerd puts each container in /k8s.io/<id> (see
# removeContainerCgroups).
cgroupDriver: cgroupfs
failCgroupV1: false
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
# Not -999: lowering it needs CAP_SYS_RESOURCE.
oomScoreAdj: 0
# No iptables chains in the host's tables.
makeIPTablesUtilChains: false
podLogsDir: %s
# A small disk or busy machine must not evict the tests' pods or collect
# their images (imported, so they cannot be pulled again).
evictionHard:
  memory.available: 1Mi
  nodefs.available: 1%%
  nodefs.inodesFree: 1%%
  imagefs.available: 1%%
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
`

// waitNodeUsable waits until the node is Ready without the not-ready taint
// and the default namespace has its ServiceAccount and kube-root-ca.crt.
func (c *cluster) waitNodeUsable(ctx context.Context) error {
	cl, err := client.New(c.admin, client.Options{})
	if err != nil {
		return err
	}
	if err := c.poll(ctx, "node "+nodeName+" to be Ready", func(ctx context.Context) (bool, error) {
		var node corev1.Node
		if err := cl.Get(ctx, client.ObjectKey{Name: nodeName}, &node); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		for _, t := range node.Spec.Taints {
			if t.Key == corev1.TaintNodeNotReady {
				return false, nil
			}
		}
		for _, cond := range node.Status.Conditions {
			if cond.Type == corev1.NodeReady {
				return cond.Status == corev1.ConditionTrue, nil
			}
		}
		return false, nil
	}); err != nil {
		return err
	}
	exists := func(obj client.Object, name string) func(context.Context) (bool, error) {
		return func(ctx context.Context) (bool, error) {
			err := cl.Get(ctx, client.ObjectKey{Namespace: "default", Name: name}, obj)
			if apierrors.IsNotFound(err) {
				return false, nil
			}
			return err == nil, err
		}
	}
	if err := c.poll(ctx, "the default ServiceAccount", exists(&corev1.ServiceAccount{}, "default")); err != nil {
		return err
	}
	return c.poll(ctx, "the kube-root-ca.crt ConfigMap", exists(&corev1.ConfigMap{}, "kube-root-ca.crt"))
}

// imageTag returns the first tag in the manifest.json of a `docker save`
// tarball, such as hack/imagetar writes.
func imageTag(tarball string) (string, error) {
	f, err := os.Open(tarball)
	if err != nil {
		return "", err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return "", fmt.Errorf("%s: no manifest.json: not a docker save tarball", tarball)
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", tarball, err)
		}
		if hdr.Name != "manifest.json" {
			continue
		}
		var manifest []struct{ RepoTags []string }
		if err := json.NewDecoder(tr).Decode(&manifest); err != nil {
			return "", fmt.Errorf("%s: manifest.json: %w", tarball, err)
		}
		if len(manifest) == 0 || len(manifest[0].RepoTags) == 0 {
			return "", fmt.Errorf("%s: the image has no tag", tarball)
		}
		return manifest[0].RepoTags[0], nil
	}
}
