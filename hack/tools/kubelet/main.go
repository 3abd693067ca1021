// Command kubelet is the upstream kubelet, built from its Go module for the
// local single-node cluster that the e2e tests run on.
package main

import (
	"context"
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kubelet/app"
)

func main() {
	os.Exit(cli.Run(app.NewKubeletCommand(context.Background())))
}
