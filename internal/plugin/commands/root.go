// Package commands is kubectl-labelgroup's command line: one cobra command
// per subcommand, each with an Options struct whose Complete, Validate and Run
// do the work, as kubectl's own commands do. Input and output go through
// IOStreams, so tests run every command on buffers.
package commands

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// The exit codes, part of the interface (kubectl labelgroup --help says them).
const (
	// ExitOK: the command did what was asked; lint found nothing that reaches --fail-on.
	ExitOK = 0
	// ExitFailure: lint found something that reaches --fail-on; for the other
	// commands, the cluster refused or failed the request.
	ExitFailure = 1
	// ExitUsage: a usage error, or input that cannot be read; the message names
	// the flag or the file.
	ExitUsage = 2
)

// exitError carries an exit code. A nil err prints nothing (lint's report
// already said why it fails).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit code %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageError is a usage error: exit code 2.
func usageError(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

const exitCodesHelp = `Exit codes:
  0  success; for lint, no finding reaches --fail-on
  1  lint found a finding that reaches --fail-on; other commands: the request failed
  2  usage error, or input that cannot be read (the message names the file)`

// NewCmdLabelGroup returns the root command, kubectl labelgroup.
func NewCmdLabelGroup(streams genericiooptions.IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kubectl-labelgroup",
		Short: "Lint, look up and create LabelGroups",
		Long: `Lint, look up and create LabelGroups.

A LabelGroup (grouping.labelgroup.io/v1alpha1) names the pods of its
namespace that a label selector picks; labelgroup-operator records its
members and the other groups that overlap it. This plugin checks manifests
before they reach a cluster, finds every selector that picks a pod, and
creates groups from selectors typed the way kubectl -l reads them.

` + exitCodesHelp,
		Example: `  # Lint the manifests a GitOps repository renders, as a CI step
  kustomize build overlays/prod | kubectl labelgroup lint -f - -o junit > lint.xml

  # Which LabelGroups, Services and PodDisruptionBudgets select this pod?
  kubectl labelgroup who-selects pod/web-1 -n shop

  # Create a group from a kubectl -l selector
  kubectl labelgroup create frontend --selector 'tier=frontend,environment in (production,qa),!canary'`,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl labelgroup"},
		SilenceUsage:  true,
		SilenceErrors: true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SetOut(streams.Out)
			return cmd.Help()
		},
	}
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: ExitUsage, err: err}
	})
	cmd.CompletionOptions.DisableDefaultCmd = true
	cmd.AddCommand(NewCmdLint(streams), NewCmdWhoSelects(streams), NewCmdCreate(streams))
	return cmd
}

// Execute runs the command line args and returns the exit code, printing any
// error to streams.ErrOut the way kubectl does ("error: ...").
func Execute(args []string, streams genericiooptions.IOStreams) int {
	cmd := NewCmdLabelGroup(streams)
	cmd.SetArgs(args)
	err := cmd.Execute()
	if err == nil {
		return ExitOK
	}
	code := ExitFailure
	var exit *exitError
	if errors.As(err, &exit) {
		code = exit.code
		if exit.err == nil {
			return code
		}
	}
	fmt.Fprintf(streams.ErrOut, "error: %v\n", err)
	return code
}
