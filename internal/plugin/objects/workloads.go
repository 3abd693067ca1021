// Package objects knows, for the kinds kubectl-labelgroup reads, where their
// pods' labels and their selectors are: the labels a Pod or a controller's pod
// template gives its pods, and the selector of a LabelGroup, a Service or a
// PodDisruptionBudget.
package objects

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// podLabelPaths says, for each kind that is or makes pods, where the labels
// of its pods are: a Pod's own, a controller's pod template's.
var podLabelPaths = map[schema.GroupKind][]string{
	{Group: "", Kind: "Pod"}:                   {"metadata", "labels"},
	{Group: "apps", Kind: "Deployment"}:        {"spec", "template", "metadata", "labels"},
	{Group: "apps", Kind: "StatefulSet"}:       {"spec", "template", "metadata", "labels"},
	{Group: "apps", Kind: "DaemonSet"}:         {"spec", "template", "metadata", "labels"},
	{Group: "apps", Kind: "ReplicaSet"}:        {"spec", "template", "metadata", "labels"},
	{Group: "batch", Kind: "Job"}:              {"spec", "template", "metadata", "labels"},
	{Group: "batch", Kind: "CronJob"}:          {"spec", "jobTemplate", "spec", "template", "metadata", "labels"},
	{Group: "", Kind: "ReplicationController"}: {"spec", "template", "metadata", "labels"},
}

// Workload is a Pod, or an object whose pod template says what labels the
// pods it creates will carry.
type Workload struct {
	Kind, Namespace, Name string
	// PodLabels are the labels of the workload's pods.
	PodLabels map[string]string
}

// Key names the workload uniquely within its namespace.
func (w Workload) Key() string { return w.Kind + "/" + w.Name }

// Pods says what the workload is to a reader: "Pod web-1" or "Deployment
// web's pods".
func (w Workload) Pods() string {
	if w.Kind == "Pod" {
		return "Pod " + w.Name
	}
	return w.Kind + " " + w.Name + "'s pods"
}

// WorkloadOf returns the workload obj is, if it is one.
func WorkloadOf(obj *unstructured.Unstructured) (Workload, bool) {
	path, ok := podLabelPaths[obj.GroupVersionKind().GroupKind()]
	if !ok {
		return Workload{}, false
	}
	podLabels, _, _ := unstructured.NestedStringMap(obj.Object, path...)
	return Workload{Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName(), PodLabels: podLabels}, true
}

// KindOf resolves a kubectl resource name or short name of a kind that is or
// makes pods (pod, po, pods, deployment, deploy, sts, ...) to its kind.
func KindOf(resource string) (schema.GroupKind, bool) {
	gk, ok := resourceNames[strings.ToLower(resource)]
	return gk, ok
}

var resourceNames = map[string]schema.GroupKind{}

func init() {
	for gk := range podLabelPaths {
		lower := strings.ToLower(gk.Kind)
		resourceNames[lower] = gk
		resourceNames[lower+"s"] = gk
	}
	for short, kind := range map[string]string{"po": "Pod", "deploy": "Deployment", "sts": "StatefulSet", "ds": "DaemonSet", "rs": "ReplicaSet", "cj": "CronJob", "rc": "ReplicationController"} {
		for gk := range podLabelPaths {
			if gk.Kind == kind {
				resourceNames[short] = gk
			}
		}
	}
}
