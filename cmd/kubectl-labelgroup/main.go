// kubectl-labelgroup is a kubectl plugin (run it as `kubectl labelgroup` once
// it is on PATH): it lints manifests for LabelGroup problems offline, finds the
// selectors that pick a pod, and creates LabelGroups from kubectl -l selectors.
package main

import (
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/labelgroup/labelgroup-operator/internal/plugin/commands"
)

func main() {
	os.Exit(commands.Execute(os.Args[1:], genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}))
}
