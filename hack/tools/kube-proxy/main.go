// Command kube-proxy is the upstream kube-proxy, built from its Go module for
// the kind node image (hack/kind-node-image.sh), where it implements Services
// such as the kubernetes Service that the manager reaches the API server by.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // for client metric registration
	_ "k8s.io/component-base/metrics/prometheus/version"  // for version metric registration
	"k8s.io/kubernetes/cmd/kube-proxy/app"
)

func main() {
	os.Exit(cli.Run(app.NewProxyCommand()))
}
