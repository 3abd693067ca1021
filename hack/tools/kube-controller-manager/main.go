// Command kube-controller-manager is the upstream kube-controller-manager, built from its Go module for the
// local single-node cluster that the e2e tests and the demo run on.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	os.Exit(cli.Run(app.NewControllerManagerCommand()))
}
