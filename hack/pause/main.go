// Command pause is the local cluster's pause container: the process that holds
// a pod's namespaces while the pod's real containers come and go. It does
// nothing but wait, and exits 0 on SIGINT or SIGTERM so that stopping a pod is
// immediate instead of running into the kubelet's grace period.
//
// Build it static (CGO_ENABLED=0) so the image needs no libc: hack/imagetar
// packs the binary alone into an image.
//
// As PID 1 of its PID namespace (when a pod shares its process namespace) the
// pause process also has to reap orphaned zombies, so it asks for SIGCHLD and
// reaps on each one.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range sigs {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		reap()
	}
}

// reap collects every exited child without blocking.
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
