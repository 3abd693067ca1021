package metadata

import (
	"encoding/json"
	"slices"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/test/builders"
	"github.com/labelgroup/labelgroup-operator/test/integration/testenv"
)

func newNamespace() string { return testenv.NewNamespace(ctx, k8sClient, "md") }

// createPod creates a pod as its controller would, with that field manager.
func createPod(b *builders.PodBuilder, manager string) *corev1.Pod {
	pod := b.Obj()
	ExpectWithOffset(1, k8sClient.Create(ctx, pod, client.FieldOwner(manager))).To(Succeed())
	return pod
}

func createGroup(namespace string, b *builders.GroupBuilder) *v1alpha1.LabelGroup {
	group := b.Namespace(namespace).Obj()
	ExpectWithOffset(1, k8sClient.Create(ctx, group)).To(Succeed())
	return group
}

// podOf returns a function that reads a pod, managed fields included.
func podOf(namespace, name string) func(g Gomega) *corev1.Pod {
	return func(g Gomega) *corev1.Pod {
		pod := &corev1.Pod{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, pod)).To(Succeed())
		return pod
	}
}

func labelsOf(namespace, name string) func(g Gomega) map[string]string {
	return func(g Gomega) map[string]string { return podOf(namespace, name)(g).Labels }
}

func annotationsOf(namespace, name string) func(g Gomega) map[string]string {
	return func(g Gomega) map[string]string { return podOf(namespace, name)(g).Annotations }
}

// managersOf returns a function that lists, sorted, the field managers that own
// a label (kind "f:labels") or an annotation ("f:annotations") of a pod, as
// `kubectl get pod -o yaml --show-managed-fields` shows them.
func managersOf(namespace, name, kind, key string) func(g Gomega) []string {
	return func(g Gomega) []string {
		var managers []string
		for _, e := range podOf(namespace, name)(g).ManagedFields {
			var fields map[string]map[string]map[string]any
			g.Expect(json.Unmarshal(e.FieldsV1.Raw, &fields)).To(Succeed())
			if _, ok := fields["f:metadata"][kind]["f:"+key]; ok {
				managers = append(managers, e.Manager)
			}
		}
		slices.Sort(managers)
		return managers
	}
}

func groupOf(namespace, name string) func(g Gomega) *v1alpha1.LabelGroup {
	return func(g Gomega) *v1alpha1.LabelGroup {
		group := &v1alpha1.LabelGroup{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, group)).To(Succeed())
		return group
	}
}

func metadataStatus(namespace, name string) func(g Gomega) *v1alpha1.MemberMetadataStatus {
	return func(g Gomega) *v1alpha1.MemberMetadataStatus {
		return groupOf(namespace, name)(g).Status.MemberMetadata
	}
}

// condition returns "Status/Reason" of a group's condition, "" if unset.
func condition(namespace, name, conditionType string) func(g Gomega) string {
	return func(g Gomega) string {
		if c := meta.FindStatusCondition(groupOf(namespace, name)(g).Status.Conditions, conditionType); c != nil {
			return string(c.Status) + "/" + c.Reason
		}
		return ""
	}
}

func conditionMessage(namespace, name, conditionType string) func(g Gomega) string {
	return func(g Gomega) string {
		if c := meta.FindStatusCondition(groupOf(namespace, name)(g).Status.Conditions, conditionType); c != nil {
			return c.Message
		}
		return ""
	}
}

// eventReasons returns the reasons of the events about a group, in order.
func eventReasons(namespace, group string) func(g Gomega) []string {
	return func(g Gomega) []string {
		var list eventsv1.EventList
		g.Expect(k8sClient.List(ctx, &list, client.InNamespace(namespace))).To(Succeed())
		slices.SortFunc(list.Items, func(a, b eventsv1.Event) int { return a.EventTime.Compare(b.EventTime.Time) })
		var reasons []string
		for _, e := range list.Items {
			if e.Regarding.Kind == "LabelGroup" && e.Regarding.Name == group {
				reasons = append(reasons, e.Reason)
			}
		}
		return reasons
	}
}

// touch changes an annotation of the group, which brings its namespace back to
// the reconciler without changing anything the reconciler reads.
func touch(namespace, name, value string) {
	group := groupOf(namespace, name)(Default)
	patch := client.MergeFrom(group.DeepCopy())
	group.Annotations = map[string]string{"test/touched": value}
	ExpectWithOffset(1, k8sClient.Patch(ctx, group, patch)).To(Succeed())
}

// editGroup changes a group's spec with edit.
func editGroup(namespace, name string, edit func(*v1alpha1.LabelGroup)) {
	group := groupOf(namespace, name)(Default)
	patch := client.MergeFrom(group.DeepCopy())
	edit(group)
	ExpectWithOffset(1, k8sClient.Patch(ctx, group, patch)).To(Succeed())
}
