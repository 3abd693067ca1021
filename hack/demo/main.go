// Command demo is the embedded control plane of `make demo`: it starts
// controller-runtime's envtest (etcd and kube-apiserver from
// KUBEBUILDER_ASSETS, no node, no Docker) with the CRDs of --crd-dir
// installed, writes an administrator's kubeconfig to --dir, runs the given
// command (hack/demo.sh) with KUBECONFIG and DEMO_DIR set, and stops the
// control plane when the command ends, also on Ctrl-C.
//
//	go -C hack build -o $PWD/bin/demo-control-plane ./demo && bin/demo-control-plane --crd-dir config/crd/bases --dir bin/demo -- hack/demo.sh
//
// The exit status is the command's (130 when Ctrl-C ended it).
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

func main() {
	crdDir := flag.String("crd-dir", "config/crd/bases", "the CRDs to install")
	dir := flag.String("dir", "bin/demo", "where the kubeconfig and the logs go")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: demo [--crd-dir DIR] [--dir DIR] -- command [args...]")
		os.Exit(2)
	}
	code, err := run(*crdDir, *dir, flag.Args())
	if err != nil {
		log.Fatalf("demo: %v", err)
	}
	os.Exit(code)
}

func run(crdDir, dir string, command []string) (int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return 0, err
	}
	env := &envtest.Environment{CRDDirectoryPaths: []string{crdDir}, ErrorIfCRDPathMissing: true}
	if _, err := env.Start(); err != nil {
		return 0, fmt.Errorf("start the control plane (KUBEBUILDER_ASSETS=%q): %w", os.Getenv("KUBEBUILDER_ASSETS"), err)
	}
	defer func() {
		if err := env.Stop(); err != nil {
			log.Printf("demo: stop the control plane: %v", err)
		}
	}()
	admin, err := env.AddUser(envtest.User{Name: "demo", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return 0, err
	}
	kubeconfig, err := admin.KubeConfig()
	if err != nil {
		return 0, err
	}
	kubeconfigPath := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfigPath, kubeconfig, 0o600); err != nil {
		return 0, err
	}

	// Ctrl-C reaches the command from the terminal; this process only waits
	// for it to end, then stops the control plane. A SIGTERM, which may be
	// sent to this process alone (a supervisor, timeout), is passed on to the
	// command, so that the control plane is stopped either way and no etcd or
	// API server outlives the demo. (Caught, not ignored: an ignored signal
	// would stay ignored in the command.)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(signals)
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfigPath, "DEMO_DIR="+dir)
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	go func() {
		for s := range signals {
			if s == syscall.SIGTERM {
				_ = cmd.Process.Signal(s)
			}
		}
	}()
	err = cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if status, ok := exit.Sys().(syscall.WaitStatus); ok && status.Signaled() {
			return 128 + int(status.Signal()), nil
		}
		return exit.ExitCode(), nil
	}
	return 0, err
}
