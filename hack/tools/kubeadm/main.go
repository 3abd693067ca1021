// Command kubeadm is the upstream kubeadm, built from its Go module for the
// kind node image (hack/kind-node-image.sh): kind runs it in the node to set
// up the cluster.
package main

import (
	"k8s.io/kubernetes/cmd/kubeadm/app"
	utilerrors "k8s.io/kubernetes/cmd/kubeadm/app/util/errors"
)

func main() {
	utilerrors.HandleError(app.Run())
}
