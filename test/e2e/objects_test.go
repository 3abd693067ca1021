//go:build e2e

package e2e

import (
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

// newNamespace creates a namespace of its own for the current spec, deleted
// after it (without waiting: nothing else uses it).
func newNamespace() string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "e2e-"}}
	ExpectWithOffset(1, k8sClient.Create(ctx, ns)).To(Succeed())
	specNamespaces = append(specNamespaces, ns.Name)
	DeferCleanup(func() { Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, ns))).To(Succeed()) })
	return ns.Name
}

// createIn creates objects in a namespace.
func createIn(namespace string, objects ...client.Object) {
	for _, obj := range objects {
		obj.SetNamespace(namespace)
		ExpectWithOffset(1, k8sClient.Create(ctx, obj)).To(Succeed(), "creating %s", obj.GetName())
	}
}

// setLabel sets one label of a pod with a merge patch, as `kubectl label
// --overwrite` does, without reading the pod first.
func setLabel(namespace, pod, key, value string) error {
	patch := []byte(`{"metadata":{"labels":{"` + key + `":"` + value + `"}}}`)
	obj := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: pod}}
	return k8sClient.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch))
}

// deletePod deletes a pod and waits until it is gone: a pod is a member for
// as long as it exists, also while it terminates.
func deletePod(namespace, name string) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	ExpectWithOffset(1, k8sClient.Delete(ctx, pod)).To(Succeed())
	EventuallyWithOffset(1, func() bool {
		return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(pod), pod))
	}).WithTimeout(time.Minute).Should(BeTrue(), "pod %s is still there", name)
}

// statusOf returns a function that reads a group's status, for Eventually.
func statusOf(namespace, name string) func(Gomega) v1alpha1.LabelGroupStatus {
	return func(g Gomega) v1alpha1.LabelGroupStatus {
		var group v1alpha1.LabelGroup
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &group)).To(Succeed())
		return group.Status
	}
}

// membersOf returns a function that reads a group's status.members.
func membersOf(namespace, name string) func(Gomega) []string {
	return func(g Gomega) []string { return statusOf(namespace, name)(g).Members }
}

// conditionOf returns a function that reads one condition of a group as
// "Status/Reason", or "" while it is unset.
func conditionOf(namespace, name, conditionType string) func(Gomega) string {
	return func(g Gomega) string {
		if c := meta.FindStatusCondition(statusOf(namespace, name)(g).Conditions, conditionType); c != nil {
			return string(c.Status) + "/" + c.Reason
		}
		return ""
	}
}

// groupEvents returns a function that lists the events.k8s.io events about a
// group with the given reason.
func groupEvents(namespace, group, reason string) func(Gomega) []eventsv1.Event {
	return func(g Gomega) []eventsv1.Event {
		var list eventsv1.EventList
		g.Expect(k8sClient.List(ctx, &list, client.InNamespace(namespace))).To(Succeed())
		return slices.DeleteFunc(list.Items, func(e eventsv1.Event) bool {
			return e.Regarding.Kind != "LabelGroup" || e.Regarding.Name != group || e.Reason != reason
		})
	}
}

// podNames returns the names of pods, sorted.
func podNames(pods []corev1.Pod) []string {
	names := make([]string, 0, len(pods))
	for _, p := range pods {
		names = append(names, p.Name)
	}
	slices.Sort(names)
	return names
}
