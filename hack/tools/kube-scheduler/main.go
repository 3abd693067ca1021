// Command kube-scheduler is the upstream kube-scheduler, built from its Go module for the
// local single-node cluster that the e2e tests and the demo run on.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-scheduler/app"
)

func main() {
	os.Exit(cli.Run(app.NewSchedulerCommand()))
}
