package commands

import (
	"errors"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/labelgroup/labelgroup-operator/config/crd"
	"github.com/labelgroup/labelgroup-operator/internal/crdvalidation"
	"github.com/labelgroup/labelgroup-operator/internal/plugin/lint"
	"github.com/labelgroup/labelgroup-operator/internal/plugin/manifest"
)

// LintOptions are the flags and state of kubectl labelgroup lint.
type LintOptions struct {
	Filenames []string
	Namespace string
	Output    string
	FailOn    string

	printer lint.Printer
	failOn  lint.Severity

	genericiooptions.IOStreams
}

// NewCmdLint returns kubectl labelgroup lint.
func NewCmdLint(streams genericiooptions.IOStreams) *cobra.Command {
	o := &LintOptions{Namespace: "default", Output: "text", FailOn: string(lint.SeverityError), IOStreams: streams}
	cmd := &cobra.Command{
		DisableFlagsInUseLine: true,
		Use:                   "lint -f FILENAME [-f FILENAME]... [--namespace NS] [-o text|json|junit] [--fail-on error|warning]",
		Short:                 "Check manifests for invalid and overlapping LabelGroups, offline",
		Long: `Check manifests for invalid and overlapping LabelGroups, offline.

Lint reads YAML and JSON files, multi-document streams, List kinds,
directories (recursively: *.yaml, *.yml, *.json) and stdin (-f -), and talks
to no cluster. Objects without a namespace are in --namespace, as kubectl
apply would put them.

Rules:
  invalid        error    the API server would refuse the LabelGroup: it is
                          checked against the CRD built into this plugin, with
                          the API server's own schema, defaulting, unknown-field
                          and CEL validation code
  overlap        warning  two LabelGroups of a namespace overlap under the
                          overlapPolicy of one of them: Selectors when their
                          selectors could select the same pod, Members when a
                          workload of the input would have pods in both (Pods,
                          and the pod templates of Deployments, StatefulSets,
                          DaemonSets, ReplicaSets, ReplicationControllers,
                          Jobs and CronJobs)
  pdb-overlap    error    two PodDisruptionBudgets select the same workload's
                          pods: the eviction API refuses to evict such pods, so
                          node drains and autoscalers stall
  unsatisfiable  warning  a LabelGroup's selector can never select a pod, such
                          as tier in (web) with !tier

Output formats (-o): text (file:line first), json
({"findings":[{"severity","rule","namespace","kind","name","message","file",
"related":[{"kind","name"}]}]}), junit (one test case per object read).

` + exitCodesHelp,
		Example: `  # Lint a directory of manifests
  kubectl labelgroup lint -f ./deploy/

  # Lint what kustomize renders, failing on warnings too, as JUnit for CI
  kustomize build overlays/prod | kubectl labelgroup lint -f - -o junit --fail-on warning

  # Lint two files as one namespace's objects
  kubectl labelgroup lint -f groups.yaml -f workloads.yaml --namespace shop -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run()
		},
	}
	cmd.Flags().StringSliceVarP(&o.Filenames, "filename", "f", nil, "File, directory or - (stdin) to lint; repeat for more")
	cmd.Flags().StringVarP(&o.Namespace, "namespace", "n", o.Namespace, "Namespace of the objects that name none")
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "Output format: "+strings.Join(lint.Formats, "|"))
	cmd.Flags().StringVar(&o.FailOn, "fail-on", o.FailOn, "Exit 1 when a finding is at least this severe: error|warning")
	return cmd
}

// noArgs refuses positional arguments as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError("%s takes no arguments, got %q; see %s --help", cmd.CommandPath(), args, cmd.CommandPath())
	}
	return nil
}

// Complete chooses the printer and the threshold.
func (o *LintOptions) Complete() error {
	printer, err := lint.PrinterFor(o.Output)
	if err != nil {
		return usageError("--output: %v", err)
	}
	o.printer = printer
	o.failOn = lint.Severity(o.FailOn)
	return nil
}

// Validate checks the flags.
func (o *LintOptions) Validate() error {
	if len(o.Filenames) == 0 {
		return usageError("lint needs at least one -f FILENAME (a file, a directory, or - for stdin)")
	}
	if !slices.Contains([]lint.Severity{lint.SeverityError, lint.SeverityWarning}, o.failOn) {
		return usageError("--fail-on: %q is not a severity: use error or warning", o.FailOn)
	}
	if o.Namespace == "" {
		return usageError("--namespace must not be empty")
	}
	return nil
}

// Run reads the manifests, lints them and prints the report.
func (o *LintOptions) Run() error {
	objects, err := manifest.Read(o.Filenames, o.In, o.Namespace)
	if err != nil {
		var readErr *manifest.Error
		if errors.As(err, &readErr) {
			return &exitError{code: ExitUsage, err: err}
		}
		return err
	}
	validator, err := crdvalidation.New(crd.Bases)
	if err != nil {
		return err
	}
	report := lint.Report{Objects: objects, Findings: lint.New(validator).Lint(objects), FailOn: o.failOn}
	if err := o.printer.Print(o.Out, report); err != nil {
		return err
	}
	if report.Failed() {
		return &exitError{code: ExitFailure}
	}
	return nil
}
