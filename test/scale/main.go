// Command scale is the harness for every measurement that needs a control
// plane: scale bench (make bench-scale) compares the operator with the
// EndpointSlice controller, scale sizing (make sizing) measures what the
// manager needs by pod count. Each starts etcd and kube-apiserver (envtest),
// runs the manager binary as its own process, as in a cluster, and reads what
// it used from /proc.
package main

import (
	"fmt"
	"os"
)

const commands = `usage: scale <command> [flags]

commands:
  bench   compare the operator with the EndpointSlice controller (make bench-scale)
  sizing  measure the manager's convergence time and memory by pod count (make sizing)

scale <command> --help lists the command's flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, commands)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "bench":
		bench(os.Args[2:])
	case "sizing":
		sizing(os.Args[2:])
	case "help", "-h", "-help", "--help":
		fmt.Print(commands)
	default:
		fmt.Fprintf(os.Stderr, "scale: unknown command %q\n\n%s", os.Args[1], commands)
		os.Exit(2)
	}
}
