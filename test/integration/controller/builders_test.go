package controller

import (
	"bufio"
	"fmt"
	"net/http"

	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/test/builders"
	"github.com/labelgroup/labelgroup-operator/test/integration/testenv"
)

func newNamespace() string { return testenv.NewNamespace(ctx, k8sClient, "lg") }

// createPod creates a pod with the given labels, as key, value pairs.
func createPod(namespace, name string, keyValues ...string) *corev1.Pod {
	pod := builders.MakePod(name).Namespace(namespace).Obj()
	pod.Labels = labelMap(keyValues...)
	ExpectWithOffset(1, k8sClient.Create(ctx, pod)).To(Succeed())
	return pod
}

// createGroup creates the group b builds in namespace.
func createGroup(namespace string, b *builders.GroupBuilder) *v1alpha1.LabelGroup {
	group := b.Namespace(namespace).Obj()
	ExpectWithOffset(1, k8sClient.Create(ctx, group)).To(Succeed())
	return group
}

func objectMeta(namespace, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: namespace, Name: name}
}

// relabel replaces a pod's labels.
func relabel(pod *corev1.Pod, keyValues ...string) {
	patch := client.MergeFrom(pod.DeepCopy())
	pod.Labels = labelMap(keyValues...)
	ExpectWithOffset(1, k8sClient.Patch(ctx, pod, patch)).To(Succeed())
}

func labelMap(keyValues ...string) map[string]string {
	ExpectWithOffset(2, len(keyValues)%2).To(BeZero(), "labels come as key, value pairs")
	labels := map[string]string{}
	for i := 0; i < len(keyValues); i += 2 {
		labels[keyValues[i]] = keyValues[i+1]
	}
	return labels
}

// statusOf returns a function that reads a group's status, for Eventually.
func statusOf(namespace, name string) func(g Gomega) v1alpha1.LabelGroupStatus {
	return func(g Gomega) v1alpha1.LabelGroupStatus {
		var group v1alpha1.LabelGroup
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &group)).To(Succeed())
		return group.Status
	}
}

// condition returns the status of one condition of a group, "" if unset.
func condition(namespace, name, conditionType string) func(g Gomega) string {
	return func(g Gomega) string {
		if c := meta.FindStatusCondition(statusOf(namespace, name)(g).Conditions, conditionType); c != nil {
			return string(c.Status) + "/" + c.Reason
		}
		return ""
	}
}

// events returns the events.k8s.io events about a group with the given reason.
func events(namespace, group, reason string) func(g Gomega) []eventsv1.Event {
	return func(g Gomega) []eventsv1.Event {
		var list eventsv1.EventList
		g.Expect(k8sClient.List(ctx, &list, client.InNamespace(namespace))).To(Succeed())
		var found []eventsv1.Event
		for _, e := range list.Items {
			if e.Regarding.Kind == "LabelGroup" && e.Regarding.Name == group && e.Reason == reason {
				found = append(found, e)
			}
		}
		return found
	}
}

// occurrences counts how often events were emitted, including the repeats
// events.k8s.io folds into an event's series.
func occurrences(list []eventsv1.Event) int {
	n := 0
	for _, e := range list {
		n++
		if e.Series != nil {
			n += int(e.Series.Count) - 1
		}
	}
	return n
}

// metric returns a function that scrapes the manager's metrics endpoint and
// reads one gauge of one group: its value, or "absent".
func metric(name, namespace, group string) func(g Gomega) string {
	return func(g Gomega) string {
		resp, err := http.Get(metricsURL)
		g.Expect(err).NotTo(HaveOccurred())
		defer func() { _ = resp.Body.Close() }()
		g.Expect(resp.StatusCode).To(Equal(http.StatusOK))
		parser := expfmt.NewTextParser(model.UTF8Validation)
		families, err := parser.TextToMetricFamilies(bufio.NewReader(resp.Body))
		g.Expect(err).NotTo(HaveOccurred())
		return series(gaugeValue(families[name], namespace, group))
	}
}

func gaugeValue(family *dto.MetricFamily, namespace, group string) (float64, bool) {
	if family == nil {
		return 0, false
	}
	for _, m := range family.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["namespace"] == namespace && labels["labelgroup"] == group {
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

// series prints a gauge's value, or "absent" when the series does not exist.
func series(value float64, ok bool) string {
	if !ok {
		return "absent"
	}
	return fmt.Sprintf("%g", value)
}
