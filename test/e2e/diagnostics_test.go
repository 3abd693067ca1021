//go:build e2e

package e2e

import (
	"fmt"
	"slices"

	. "github.com/onsi/ginkgo/v2"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

// dumpDiagnostics writes the post-mortem of a failed spec to the GinkgoWriter:
// the log of every manager pod (and of its previous container when it was
// restarted), the events of the manager's namespace and of the spec's, and
// the spec's LabelGroups.
func dumpDiagnostics(namespaces []string) {
	var pods corev1.PodList
	if err := k8sClient.List(ctx, &pods, client.InNamespace(managerNamespace)); err != nil {
		_, _ = fmt.Fprintf(GinkgoWriter, "Failed to list the manager's pods: %v\n", err)
	}
	for _, pod := range pods.Items {
		for _, cs := range pod.Status.ContainerStatuses {
			dumpLog(pod.Name, cs.Name, false)
			if cs.RestartCount > 0 {
				dumpLog(pod.Name, cs.Name, true)
			}
		}
	}
	for _, ns := range append([]string{managerNamespace}, namespaces...) {
		dumpEvents(ns)
	}
	for _, ns := range namespaces {
		dumpGroups(ns)
	}
}

func dumpLog(pod, container string, previous bool) {
	opts := &corev1.PodLogOptions{Container: container, Previous: previous}
	log, err := clientset.CoreV1().Pods(managerNamespace).GetLogs(pod, opts).DoRaw(ctx)
	_, _ = fmt.Fprintf(GinkgoWriter, "\n--- Log of %s/%s container %s (previous: %t) ---\n%s\n", managerNamespace, pod, container, previous, log)
	if err != nil {
		_, _ = fmt.Fprintf(GinkgoWriter, "Failed to get the log: %v\n", err)
	}
}

func dumpEvents(namespace string) {
	var events eventsv1.EventList
	if err := k8sClient.List(ctx, &events, client.InNamespace(namespace)); err != nil {
		_, _ = fmt.Fprintf(GinkgoWriter, "Failed to list the events of %s: %v\n", namespace, err)
		return
	}
	slices.SortStableFunc(events.Items, func(a, b eventsv1.Event) int {
		return a.CreationTimestamp.Compare(b.CreationTimestamp.Time)
	})
	_, _ = fmt.Fprintf(GinkgoWriter, "\n--- Events of namespace %s ---\n", namespace)
	for _, e := range events.Items {
		_, _ = fmt.Fprintf(GinkgoWriter, "%s %s %s %s/%s: %s\n", e.CreationTimestamp.Format("15:04:05"),
			e.Type, e.Reason, e.Regarding.Kind, e.Regarding.Name, e.Note)
	}
}

func dumpGroups(namespace string) {
	var groups v1alpha1.LabelGroupList
	if err := k8sClient.List(ctx, &groups, client.InNamespace(namespace)); err != nil {
		_, _ = fmt.Fprintf(GinkgoWriter, "Failed to list the LabelGroups of %s: %v\n", namespace, err)
		return
	}
	for _, g := range groups.Items {
		g.ManagedFields = nil
		out, _ := yaml.Marshal(g)
		_, _ = fmt.Fprintf(GinkgoWriter, "\n--- LabelGroup %s/%s ---\n%s", namespace, g.Name, out)
	}
}
