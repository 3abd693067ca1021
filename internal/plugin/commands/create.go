package commands

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/printers"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/config/crd"
	"github.com/labelgroup/labelgroup-operator/internal/crdvalidation"
	"github.com/labelgroup/labelgroup-operator/internal/selector"
)

// The values of --dry-run, as kubectl names them.
const (
	dryRunNone   = "none"
	dryRunClient = "client"
	dryRunServer = "server"
)

// CreateOptions are the flags and state of kubectl labelgroup create.
type CreateOptions struct {
	ConfigFlags   *genericclioptions.ConfigFlags
	PrintFlags    *genericclioptions.PrintFlags
	Selector      string
	OverlapPolicy string
	DryRun        string

	name    string
	group   *v1alpha1.LabelGroup
	printer printers.ResourcePrinter
	// newClient connects to the cluster; tests replace it.
	newClient func() (client.Client, error)

	genericiooptions.IOStreams
}

// pluginScheme knows the LabelGroup, for the printers and the client.
var pluginScheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}()

// NewCmdCreate returns kubectl labelgroup create.
func NewCmdCreate(streams genericiooptions.IOStreams) *cobra.Command {
	o := &CreateOptions{
		ConfigFlags:   genericclioptions.NewConfigFlags(true),
		PrintFlags:    genericclioptions.NewPrintFlags("created").WithTypeSetter(pluginScheme),
		OverlapPolicy: string(v1alpha1.OverlapPolicyMembers),
		DryRun:        dryRunNone,
		IOStreams:     streams,
	}
	o.newClient = o.clusterClient
	cmd := &cobra.Command{
		DisableFlagsInUseLine: true,
		Use:                   "create NAME --selector SELECTOR [--overlap-policy Members|Selectors] [--dry-run=none|client|server] [-o yaml|json]",
		Short:                 "Create a LabelGroup from a selector written as for kubectl -l",
		Long: `Create a LabelGroup from a selector written as for kubectl -l.

The selector is read by apimachinery's label selector parser, as kubectl get
-l reads it: key=value and key==value, key!=value, key in (a,b), key notin
(a,b), key (the key exists) and !key (it does not), separated by commas and
all required. key=value becomes a matchLabels entry, != becomes NotIn, and the
rest become In, NotIn, Exists and DoesNotExist requirements. > and < are
refused: a LabelGroup cannot express them. The group's status.selector, once
the operator has reconciled it, reads back as the same requirements.

The group is checked against the LabelGroup CRD built into this plugin before
anything is sent, so --dry-run=client refuses what the API server would.

` + exitCodesHelp,
		Example: `  # Create a group of the production and qa frontend pods, canaries excepted
  kubectl labelgroup create frontend --selector 'tier=frontend,environment in (production,qa),!canary'

  # A strict partition: any selector that could overlap this one counts
  kubectl labelgroup create payments --selector 'team=payments' --overlap-policy Selectors -n shop

  # Print the manifest instead of creating it, to commit it to Git
  kubectl labelgroup create frontend --selector 'tier=frontend' --dry-run=client -o yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	o.ConfigFlags.AddFlags(cmd.Flags())
	o.PrintFlags.AddFlags(cmd)
	cmd.Flags().StringVar(&o.Selector, "selector", "", "Label selector of the group, as for kubectl -l (required)")
	cmd.Flags().StringVar(&o.OverlapPolicy, "overlap-policy", o.OverlapPolicy, "When another group overlaps this one: Members (they share a pod) or Selectors (their selectors could select the same pod)")
	cmd.Flags().StringVar(&o.DryRun, "dry-run", o.DryRun, `Must be "none", "client", or "server". If client, only print the group that would be sent; if server, send it as a dry run, which the API server validates without storing it`)
	cmd.Flags().Lookup("dry-run").NoOptDefVal = dryRunClient
	return cmd
}

// Complete builds the group from the flags.
func (o *CreateOptions) Complete(args []string) error {
	if len(args) != 1 {
		return usageError("create takes exactly one NAME, got %d arguments", len(args))
	}
	o.name = args[0]
	if o.Selector == "" {
		return usageError("--selector is required: a selector as for kubectl -l, such as 'tier=frontend,environment in (production,qa)'")
	}
	sel, err := selector.Parse(o.Selector)
	if err != nil {
		return usageError("--selector: %v", err)
	}
	namespace, _, err := o.ConfigFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return err
	}
	o.group = &v1alpha1.LabelGroup{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "LabelGroup"},
		ObjectMeta: metav1.ObjectMeta{Name: o.name, Namespace: namespace},
		Spec:       v1alpha1.LabelGroupSpec{Selector: sel, OverlapPolicy: v1alpha1.OverlapPolicy(o.OverlapPolicy)},
	}
	switch o.DryRun {
	case dryRunClient:
		err = o.PrintFlags.Complete("%s (dry run)")
	case dryRunServer:
		err = o.PrintFlags.Complete("%s (server dry run)")
	}
	if err != nil {
		return err
	}
	o.printer, err = o.PrintFlags.ToPrinter()
	if err != nil {
		return usageError("--output: %v", err)
	}
	return nil
}

// Validate checks the flags and the group against the CRD.
func (o *CreateOptions) Validate() error {
	if o.DryRun != dryRunNone && o.DryRun != dryRunClient && o.DryRun != dryRunServer {
		return usageError(`--dry-run: %q is not one of "none", "client", "server"`, o.DryRun)
	}
	validator, err := crdvalidation.New(crd.Bases)
	if err != nil {
		return err
	}
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o.group)
	if err != nil {
		return err
	}
	if _, err := validator.Validate(&unstructured.Unstructured{Object: content}); err != nil {
		return usageError("%v", err)
	}
	return nil
}

// Run creates the group (or not, on a dry run) and prints it.
func (o *CreateOptions) Run(ctx context.Context) error {
	if o.DryRun == dryRunClient {
		// Print what would be sent: no status, which the API server drops
		// on create anyway, so the manifest is fit to commit.
		content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o.group)
		if err != nil {
			return err
		}
		delete(content, "status")
		return o.printer.PrintObj(&unstructured.Unstructured{Object: content}, o.Out)
	}
	c, err := o.newClient()
	if err != nil {
		return err
	}
	opts := []client.CreateOption{client.FieldValidation(metav1.FieldValidationStrict), client.FieldOwner("kubectl-labelgroup")}
	if o.DryRun == dryRunServer {
		opts = append(opts, client.DryRunAll)
	}
	if err := c.Create(ctx, o.group, opts...); err != nil {
		return fmt.Errorf("creating LabelGroup %s/%s: %w", o.group.Namespace, o.group.Name, err)
	}
	return o.printer.PrintObj(o.group, o.Out)
}

// clusterClient connects to the cluster the kubeconfig flags name.
func (o *CreateOptions) clusterClient() (client.Client, error) {
	cfg, err := o.ConfigFlags.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	return client.New(cfg, client.Options{Scheme: pluginScheme})
}
