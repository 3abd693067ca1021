// Command scale is the harness for every measurement that needs a control
// plane. Each starts etcd and kube-apiserver (envtest) and runs the manager
// binary as its own process, as in a cluster, reading what it used from
// /proc:
//
//   - scale bench compares the operator with the closest thing Kubernetes has
//     to it, the EndpointSlice controller, on one control plane with kwok
//     nodes: new selectors, relabels, single events, churn, an API server
//     outage, and (--write-cost) what one write of each costs the API server.
//     See docs/performance.md.
//   - scale sizing measures what the manager needs for a given number of
//     pods: how long until every group's status is right, and its peak RSS
//     and heap.
//
// make bench-scale and make sizing run them; scale <command> --help lists a
// command's flags.
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
