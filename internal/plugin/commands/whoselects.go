package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/printers"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/internal/plugin/manifest"
	"github.com/labelgroup/labelgroup-operator/internal/plugin/objects"
)

// WhoSelectsOptions are the flags and state of kubectl labelgroup who-selects.
type WhoSelectsOptions struct {
	ConfigFlags *genericclioptions.ConfigFlags
	Filenames   []string
	Labels      string
	Output      string

	// target is the kind and name of the pod or workload asked about; empty
	// Kind when --labels gives the labels.
	target    schema.GroupKind
	name      string
	podLabels map[string]string
	namespace string
	// newClient connects to the cluster; tests replace it.
	newClient func() (client.Client, error)

	genericiooptions.IOStreams
}

// NewCmdWhoSelects returns kubectl labelgroup who-selects.
func NewCmdWhoSelects(streams genericiooptions.IOStreams) *cobra.Command {
	o := &WhoSelectsOptions{ConfigFlags: genericclioptions.NewConfigFlags(true), Output: "text", IOStreams: streams}
	o.newClient = o.clusterClient
	cmd := &cobra.Command{
		DisableFlagsInUseLine: true,
		Use:                   "who-selects (TYPE/NAME | --labels KEY=VALUE,...) [-n NAMESPACE] [-f FILENAME]",
		Short:                 "List the LabelGroups, Services and PodDisruptionBudgets whose selectors pick a pod",
		Long: `List the LabelGroups, Services and PodDisruptionBudgets whose selectors pick a pod.

The pod is named as TYPE/NAME: a pod (pod/web-1), or a workload whose pod
template gives its pods their labels (deployment/web, statefulset, daemonset,
replicaset, job, cronjob); or --labels gives the labels of a pod that need not
exist yet. Only objects of the pod's namespace select it.

By default the objects are read from the cluster of the current kubeconfig
context (--kubeconfig, --context and -n as for kubectl). With -f, they are read
offline from manifests instead: files, directories or - for stdin.

A Service with no selector and a PodDisruptionBudget with a null selector
select no pod; the empty selector {} of a LabelGroup or a
PodDisruptionBudget selects every pod of the namespace.

` + exitCodesHelp,
		Example: `  # Which selectors pick the pod web-1 in the current namespace?
  kubectl labelgroup who-selects pod/web-1

  # Which would pick a pod with these labels in namespace shop?
  kubectl labelgroup who-selects --labels tier=frontend,environment=production -n shop

  # The same question, offline, over the manifests of a repository
  kubectl labelgroup who-selects deployment/web -f ./deploy/ -o json`,
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
	cmd.Flags().StringSliceVarP(&o.Filenames, "filename", "f", nil, "Read the objects from these files, directories or - (stdin) instead of the cluster")
	cmd.Flags().StringVarP(&o.Labels, "labels", "l", "", "Labels of the pod, as key=value,...")
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "Output format: text|json")
	return cmd
}

// Complete reads the target and the namespace.
func (o *WhoSelectsOptions) Complete(args []string) error {
	switch {
	case len(args) > 1:
		return usageError("who-selects takes one TYPE/NAME, got %q", args)
	case len(args) == 1 && o.Labels != "":
		return usageError("give either TYPE/NAME or --labels, not both")
	case len(args) == 1:
		resource, name, ok := strings.Cut(args[0], "/")
		if !ok || name == "" {
			return usageError("%q is not TYPE/NAME, such as pod/web-1", args[0])
		}
		gk, ok := objects.KindOf(resource)
		if !ok {
			return usageError("%q: who-selects looks up pods and the workloads that make them (pod, deployment, statefulset, daemonset, replicaset, job, cronjob), not %q", args[0], resource)
		}
		o.target, o.name = gk, name
	case o.Labels != "":
		set, err := labels.ConvertSelectorToLabelsMap(o.Labels)
		if err != nil {
			return usageError("--labels: %v", err)
		}
		o.podLabels = set
	default:
		return usageError("who-selects needs TYPE/NAME (such as pod/web-1) or --labels KEY=VALUE,...")
	}
	if len(o.Filenames) > 0 {
		// Offline: no kubeconfig is read.
		o.namespace = "default"
		if *o.ConfigFlags.Namespace != "" {
			o.namespace = *o.ConfigFlags.Namespace
		}
		return nil
	}
	namespace, _, err := o.ConfigFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return err
	}
	o.namespace = namespace
	return nil
}

// Validate checks the flags.
func (o *WhoSelectsOptions) Validate() error {
	if o.Output != "text" && o.Output != "json" {
		return usageError("--output: unknown output format %q: allowed formats are text, json", o.Output)
	}
	return nil
}

// Run finds the target's labels and the objects that select them, and prints them.
func (o *WhoSelectsOptions) Run(ctx context.Context) error {
	var (
		objs []*unstructured.Unstructured
		err  error
	)
	if len(o.Filenames) > 0 {
		objs, err = o.readManifests()
	} else {
		objs, err = o.readCluster(ctx)
	}
	if err != nil {
		return err
	}
	return o.print(objects.WhoSelects(o.podLabels, objs))
}

// readManifests reads the objects of the namespace from the manifests, and
// the target's labels.
func (o *WhoSelectsOptions) readManifests() ([]*unstructured.Unstructured, error) {
	read, err := manifest.Read(o.Filenames, o.In, o.namespace)
	if err != nil {
		return nil, &exitError{code: ExitUsage, err: err}
	}
	var objs []*unstructured.Unstructured
	found := false
	for _, obj := range read {
		if obj.GetNamespace() != o.namespace {
			continue
		}
		objs = append(objs, obj.Unstructured)
		if o.target.Kind != "" && obj.GroupVersionKind().GroupKind() == o.target && obj.GetName() == o.name {
			w, _ := objects.WorkloadOf(obj.Unstructured)
			o.podLabels, found = w.PodLabels, true
		}
	}
	if o.target.Kind != "" && !found {
		return nil, fmt.Errorf("%s %q not found in namespace %s of %s", strings.ToLower(o.target.Kind), o.name, o.namespace, strings.Join(o.Filenames, ", "))
	}
	return objs, nil
}

// readCluster reads the target's labels and the selecting objects of the
// namespace from the cluster.
func (o *WhoSelectsOptions) readCluster(ctx context.Context) ([]*unstructured.Unstructured, error) {
	c, err := o.newClient()
	if err != nil {
		return nil, err
	}
	if o.target.Kind != "" {
		obj := &unstructured.Unstructured{}
		obj.SetGroupVersionKind(o.target.WithVersion("v1"))
		if err := c.Get(ctx, client.ObjectKey{Namespace: o.namespace, Name: o.name}, obj); err != nil {
			return nil, err
		}
		w, _ := objects.WorkloadOf(obj)
		o.podLabels = w.PodLabels
	}
	var objs []*unstructured.Unstructured
	for _, gvk := range objects.SelectingKinds {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		err := c.List(ctx, list, client.InNamespace(o.namespace))
		if meta.IsNoMatchError(err) || apierrors.IsNotFound(err) {
			fmt.Fprintf(o.ErrOut, "Warning: the cluster serves no %s %s; is its CRD installed?\n", gvk.GroupVersion(), gvk.Kind)
			continue
		}
		if err != nil {
			return nil, err
		}
		for i := range list.Items {
			objs = append(objs, &list.Items[i])
		}
	}
	return objs, nil
}

// clusterClient connects to the cluster the kubeconfig flags name.
func (o *WhoSelectsOptions) clusterClient() (client.Client, error) {
	cfg, err := o.ConfigFlags.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	return client.New(cfg, client.Options{})
}

// subject says what was asked about: "pod/web-1" or "a pod labelled a=b".
func (o *WhoSelectsOptions) subject() string {
	if o.target.Kind != "" {
		return strings.ToLower(o.target.Kind) + "/" + o.name
	}
	return "a pod labelled " + labels.Set(o.podLabels).String()
}

func (o *WhoSelectsOptions) print(selecting []objects.Selecting) error {
	if o.Output == "json" {
		if selecting == nil {
			selecting = []objects.Selecting{}
		}
		enc := json.NewEncoder(o.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Namespace  string              `json:"namespace"`
			Subject    string              `json:"subject"`
			PodLabels  map[string]string   `json:"podLabels"`
			SelectedBy []objects.Selecting `json:"selectedBy"`
		}{o.namespace, o.subject(), o.podLabels, selecting})
	}
	if len(selecting) == 0 {
		fmt.Fprintf(o.ErrOut, "No LabelGroup, Service or PodDisruptionBudget in namespace %s selects %s.\n", o.namespace, o.subject())
		return nil
	}
	w := printers.GetNewTabWriter(o.Out)
	fmt.Fprintln(w, "KIND\tNAME\tSELECTOR")
	for _, s := range selecting {
		sel := s.Selector
		if sel == "" {
			sel = "{} (every pod)"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", s.Kind, s.Name, sel)
	}
	return w.Flush()
}
