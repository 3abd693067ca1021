package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The launcher runs as three processes, all this binary, told apart by the
// environment variable stageEnv:
//
//   - the outer stage, in the caller's namespaces, makes a fresh run directory,
//     starts the init stage and, once that has ended, deletes the run directory;
//   - the init stage is PID 1 of a new PID namespace and mount namespace. It
//     makes the mounts the cluster needs, starts the run stage and reaps
//     orphans (containerd's shims are re-parented to it);
//   - the run stage starts and stops the cluster.
//
// The namespaces are what make clean-up certain. Whenever PID 1 of a PID
// namespace ends, the kernel kills every other process in it, and when the
// last of them is gone their mount namespace goes too, with every mount made
// in it (the kubelet's volumes, containerd's overlays and /dev/shm). The init
// stage dies with the outer stage (Pdeathsig), so even a SIGKILL of the
// launcher leaves no process and no mount behind; the next run deletes the
// run directory it left (removeStaleRuns).
const (
	stageEnv  = "LOCALCLUSTER_STAGE"   // "" (outer), "init" or "run"
	runDirEnv = "LOCALCLUSTER_RUN_DIR" // the run directory, for init and run
	pidEnv    = "LOCALCLUSTER_PID"     // the outer stage's PID, as the host sees it
	runPrefix = "localcluster-"        // run directories are <work dir>/localcluster-*
	ownerFile = "owner"                // "<pid> <start time>" of the outer stage
)

// outerStage runs the launcher in fresh namespaces and returns its exit code.
func outerStage(cfg *config) int {
	// Pdeathsig fires when the thread that started the child ends, not the
	// process: keep this goroutine on one thread that lives as long as we do.
	runtime.LockOSThread()
	if err := removeStaleRuns(cfg.workDir); err != nil {
		logf("warning: %v", err)
	}
	runDir, err := newRunDir(cfg.workDir)
	if err != nil {
		logf("%v", err)
		return 1
	}
	code := runInit(runDir)
	removeEnvFile(cfg.envOut, os.Getpid())
	if err := removeRun(runDir); err != nil {
		logf("warning: %v", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// runInit starts the init stage in a new PID and mount namespace, passes it
// SIGINT, SIGTERM and SIGHUP, and returns its exit code.
func runInit(runDir string) int {
	self, err := os.Executable()
	if err != nil {
		logf("%v", err)
		return 1
	}
	cmd := exec.Command(self, os.Args[1:]...)
	cmd.Env = withEnv(os.Environ(),
		stageEnv+"=init",
		runDirEnv+"="+runDir,
		pidEnv+"="+strconv.Itoa(os.Getpid()),
		// envtest and anything else that makes temporary files makes them
		// in the run directory, which is deleted as a whole.
		"TMPDIR="+filepath.Join(runDir, "tmp"),
	)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWNS,
		Pdeathsig:  syscall.SIGKILL,
		// Its own process group, so a Ctrl-C in the terminal reaches only us
		// and the shutdown goes in order, not everything at once.
		Setpgid: true,
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		logf("start the init stage (needs root for the namespaces): %v", err)
		return 1
	}
	go func() {
		for sig := range sigs {
			_ = cmd.Process.Signal(sig)
		}
	}()
	err = cmd.Wait()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exitErr):
		return exitCode(exitErr.Sys().(syscall.WaitStatus))
	default:
		logf("init stage: %v", err)
		return 1
	}
}

// initStage is PID 1 of the cluster's namespaces: it makes the mounts, runs the
// run stage, reaps every process that ends, and returns the run stage's exit
// code. Its return ends the namespace and with it every process and mount in it.
func initStage(cfg *config, runDir string) int {
	if err := setupMounts(cfg, runDir); err != nil {
		logf("%v", err)
		return 1
	}
	self, err := os.Executable()
	if err != nil {
		logf("%v", err)
		return 1
	}
	env := withEnv(os.Environ(), stageEnv+"=run")
	// os.StartProcess and not exec.Cmd: the reaper below collects the run
	// stage too, and exec.Cmd.Wait would race with it.
	proc, err := os.StartProcess(self, os.Args, &os.ProcAttr{
		Env:   env,
		Files: []*os.File{nil, os.Stdout, os.Stderr},
	})
	if err != nil {
		logf("start the run stage: %v", err)
		return 1
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		for sig := range sigs {
			_ = proc.Signal(sig)
		}
	}()
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, 0, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			logf("init stage: wait: %v", err)
			return 1
		}
		if pid == proc.Pid {
			return exitCode(status)
		}
	}
}

// setupMounts prepares the new mount namespace of the init stage.
func setupMounts(cfg *config, runDir string) error {
	// Without this, on a host whose / is a shared mount (systemd's default)
	// the mounts made below, and the kubelet's, would show up on the host.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	// A /proc of the new PID namespace: with the host's, a process that reads
	// /proc/<its own PID> (containerd does) would read some other process.
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	if !cfg.node {
		return nil
	}
	// containerd 1.6 puts its shims' sockets under /run/containerd/s whatever
	// its configuration says, and the kubelet always links container logs
	// into /var/log/containers: a tmpfs over each keeps them off the host.
	// Only the (empty) directories are made on the host, if missing.
	for _, dir := range []string{"/run/containerd", "/var/log/containers"} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
			return fmt.Errorf("mount a tmpfs on %s: %w", dir, err)
		}
	}
	return pinKubeletSysctls(runDir)
}

// kubeletSysctls are the kernel settings that the kubelet sets at start-up
// when they differ (setupKernelTunables), with the values it wants.
var kubeletSysctls = map[string]string{
	"vm/overcommit_memory":      "1",
	"vm/panic_on_oom":           "0",
	"kernel/panic":              "10",
	"kernel/panic_on_oops":      "1",
	"kernel/keys/root_maxkeys":  "1000000",
	"kernel/keys/root_maxbytes": "25000000",
}

// pinKubeletSysctls shows the kubelet the kernel settings it wants, so that it
// leaves the host's alone: those are not namespaced, and a throwaway test
// cluster has no business turning on panic_on_oops or overcommit for the
// whole machine. Each differing /proc/sys file is covered, in this mount
// namespace only, by a read-only file that holds the wanted value. (The
// kubelet's protectKernelDefaults would not do: it refuses to start instead.)
func pinKubeletSysctls(runDir string) error {
	dir := filepath.Join(runDir, "sysctl")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, want := range kubeletSysctls {
		target := filepath.Join("/proc/sys", name)
		have, err := os.ReadFile(target)
		if err != nil || strings.TrimSpace(string(have)) == want {
			continue // missing here, or already as the kubelet wants it
		}
		file := filepath.Join(dir, strings.ReplaceAll(name, "/", "."))
		if err := os.WriteFile(file, []byte(want+"\n"), 0o444); err != nil {
			return err
		}
		if err := unix.Mount(file, target, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("cover %s: %w", target, err)
		}
		if err := unix.Mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
			return fmt.Errorf("make %s read-only: %w", target, err)
		}
	}
	return nil
}

// withEnv returns environ with the KEY=value pairs of set replacing any
// earlier value of the same keys. (A duplicate key would not do: a program
// sees the first of two, and so would run the same stage again, and again.)
func withEnv(environ []string, set ...string) []string {
	out := make([]string, 0, len(environ)+len(set))
	for _, kv := range environ {
		key, _, _ := strings.Cut(kv, "=")
		replaced := false
		for _, s := range set {
			if strings.HasPrefix(s, key+"=") {
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	return append(out, set...)
}

// exitCode turns a wait status into a shell-style exit code.
func exitCode(status syscall.WaitStatus) int {
	if status.Signaled() {
		return 128 + int(status.Signal())
	}
	return status.ExitStatus()
}

// newRunDir makes a fresh run directory in workDir and records its owner.
func newRunDir(workDir string) (string, error) {
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp(workDir, runPrefix)
	if err != nil {
		return "", err
	}
	start, err := processStartTime(os.Getpid())
	if err != nil {
		return "", err
	}
	owner := fmt.Sprintf("%d %s\n", os.Getpid(), start)
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(owner), 0o644); err != nil {
		return "", err
	}
	return dir, os.MkdirAll(filepath.Join(dir, "tmp"), 0o755)
}

// removeStaleRuns deletes the run directories in workDir whose launcher is no
// longer running: what a launcher killed with SIGKILL leaves behind.
func removeStaleRuns(workDir string) error {
	dirs, _ := filepath.Glob(filepath.Join(workDir, runPrefix+"*"))
	var errs []error
	for _, dir := range dirs {
		if ownerAlive(dir) || justMade(dir) {
			continue
		}
		logf("removing %s, left by a launcher that is gone", dir)
		if err := removeRun(dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ownerAlive reports whether the launcher that made the run directory dir is
// still running. The start time guards against a reused PID.
func ownerAlive(dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, ownerFile))
	if err != nil {
		return false
	}
	var pid int
	var start string
	if _, err := fmt.Sscan(string(data), &pid, &start); err != nil {
		return false
	}
	now, err := processStartTime(pid)
	return err == nil && now == start
}

// justMade reports whether dir is a run directory so new that its launcher
// may not have written the owner file yet.
func justMade(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, ownerFile)); err == nil {
		return false
	}
	info, err := os.Stat(dir)
	return err == nil && time.Since(info.ModTime()) < time.Minute
}

// processStartTime returns field 22 of /proc/<pid>/stat: when the process
// started, in clock ticks since boot.
func processStartTime(pid int) (string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", err
	}
	// The command name (field 2) may hold spaces; fields after it do not.
	rest := string(data[strings.LastIndexByte(string(data), ')')+2:])
	fields := strings.Fields(rest)
	if len(fields) < 20 {
		return "", fmt.Errorf("short /proc/%d/stat", pid)
	}
	return fields[19], nil
}

// removeRun deletes a run directory and its containers' cgroups. It first
// unmounts anything still mounted under the directory (nothing should be, in
// this mount namespace) and refuses to delete if that fails: a recursive
// delete through a bind mount would delete whatever the mount shows.
func removeRun(dir string) error {
	if err := unmountUnder(dir); err != nil {
		return fmt.Errorf("not removing %s: %w", dir, err)
	}
	removeContainerCgroups(dir)
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	return nil
}

// unmountUnder lazily unmounts every mount at or below dir, deepest first.
func unmountUnder(dir string) error {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	defer f.Close()
	var points []string
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) < 5 {
			continue
		}
		point := unescapeMountPath(fields[4])
		if point == dir || strings.HasPrefix(point, dir+"/") {
			points = append(points, point)
		}
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	for _, point := range points {
		if err := unix.Unmount(point, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("unmount %s: %w", point, err)
		}
	}
	return scanner.Err()
}

// unescapeMountPath undoes mountinfo's octal escapes (\040 for a space, ...).
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// removeContainerCgroups deletes the cgroups of the run's containers.
// containerd's CRI plugin puts each container, pod sandboxes included, in the
// cgroup /k8s.io/<container ID> of every hierarchy (the kubelet gives it no
// parent without its QoS cgroups), and a container killed rather than
// deleted, as every one is when the cluster ends, leaves its cgroups behind,
// empty. The IDs are the task directories in containerd's state, which is
// still there after a SIGKILL. Empty cgroups go by rmdir only; the /k8s.io
// parent goes too once empty (rmdir refuses a cgroup in use).
func removeContainerCgroups(runDir string) {
	var parents []string
	if isDir("/sys/fs/cgroup/k8s.io") {
		parents = append(parents, "/sys/fs/cgroup/k8s.io") // cgroup v2
	}
	v1, _ := filepath.Glob("/sys/fs/cgroup/*/k8s.io")
	parents = append(parents, v1...)
	if len(parents) == 0 {
		return
	}
	ids := map[string]bool{}
	for _, d := range []string{"state", "root"} {
		tasks, _ := os.ReadDir(filepath.Join(runDir, "containerd", d, "io.containerd.runtime.v2.task", "k8s.io"))
		for _, t := range tasks {
			ids[t.Name()] = true
		}
	}
	for _, parent := range parents {
		for id := range ids {
			removeCgroupTree(filepath.Join(parent, id))
		}
		_ = unix.Rmdir(parent)
	}
}

// removeCgroupTree removes the cgroup at root and those below it, deepest
// first.
func removeCgroupTree(root string) {
	var dirs []string
	_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := unix.Rmdir(dirs[i]); err != nil && !errors.Is(err, unix.ENOENT) {
			logf("warning: remove cgroup %s: %v", dirs[i], err)
		}
	}
}

func isDir(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.IsDir()
}
