package budgets

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/labelgroup/labelgroup-operator/test/builders"
	"github.com/labelgroup/labelgroup-operator/test/integration/testenv"
)

// The eviction API's answer for a pod more than one budget covers.
const refusedForBudgets = "more than one PodDisruptionBudget"

func newNamespace() string { return testenv.NewNamespace(ctx, k8sClient, "pdb") }

// createRunningPod creates a pod and moves it to Running through the status
// subresource, as a kubelet would: the eviction API skips the budget check for
// a Pending pod, and no kubelet runs here.
func createRunningPod(namespace, name string, podLabels map[string]string) *corev1.Pod {
	b := builders.MakePod(name).Namespace(namespace)
	for k, v := range podLabels {
		b.Label(k, v)
	}
	pod := b.Obj()
	Expect(k8sClient.Create(ctx, pod)).To(Succeed())
	pod.Status.Phase = corev1.PodRunning
	Expect(k8sClient.Status().Update(ctx, pod)).To(Succeed())
	return pod
}

func createBudget(namespace, name string, sel *metav1.LabelSelector) *policyv1.PodDisruptionBudget {
	one := intstr.FromInt32(1)
	pdb := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec:       policyv1.PodDisruptionBudgetSpec{Selector: sel, MinAvailable: &one},
	}
	Expect(k8sClient.Create(ctx, pdb)).To(Succeed())
	return pdb
}

// evictionRefusedForBudgets asks the eviction API, with dryRun: All, to evict
// the pod and says whether it refused because more than one budget covers it.
// Not retried: client-go would retry a 429 (a budget whose status the
// disruption controller, absent here, has not computed) for 100 seconds.
func evictionRefusedForBudgets(namespace, name string) bool {
	eviction := &policyv1.Eviction{
		TypeMeta:      metav1.TypeMeta{APIVersion: "policy/v1", Kind: "Eviction"},
		ObjectMeta:    metav1.ObjectMeta{Namespace: namespace, Name: name},
		DeleteOptions: &metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}},
	}
	err := clientset.CoreV1().RESTClient().Post().MaxRetries(0).
		Namespace(namespace).Resource("pods").Name(name).SubResource("eviction").
		Body(eviction).Do(ctx).Error()
	return err != nil && strings.Contains(err.Error(), refusedForBudgets)
}

// gauge returns the value of a budget gauge for every budget of namespace.
func gauge(name, namespace string) map[string]float64 {
	families, err := metrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	values := map[string]float64{}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["namespace"] == namespace {
				values[labels["poddisruptionbudget"]] = m.GetGauge().GetValue()
			}
		}
	}
	return values
}

// budgetEvents returns the names of the budgets of namespace that have an
// event with reason, sorted.
func budgetEvents(g Gomega, namespace, reason string) []string {
	var list eventsv1.EventList
	g.Expect(k8sClient.List(ctx, &list, client.InNamespace(namespace))).To(Succeed())
	var names []string
	for _, e := range list.Items {
		if e.Regarding.Kind == "PodDisruptionBudget" && e.Reason == reason && !slices.Contains(names, e.Regarding.Name) {
			names = append(names, e.Regarding.Name)
		}
	}
	slices.Sort(names)
	return names
}

func budgetEventNotes(g Gomega, namespace, budget, reason string) []string {
	var list eventsv1.EventList
	g.Expect(k8sClient.List(ctx, &list, client.InNamespace(namespace))).To(Succeed())
	var notes []string
	for _, e := range list.Items {
		if e.Regarding.Kind == "PodDisruptionBudget" && e.Regarding.Name == budget && e.Reason == reason {
			notes = append(notes, e.Note)
		}
	}
	return notes
}

// The random objects draw their labels from a small universe, so that
// selectors of different keys and every operator often cover a pod together.
var (
	labelKeys   = []string{"app", "tier", "env"}
	labelValues = []string{"a", "b", "c"}
)

func randomPodLabels(rng *rand.Rand) map[string]string {
	podLabels := map[string]string{}
	for _, k := range labelKeys {
		if rng.IntN(3) > 0 {
			podLabels[k] = labelValues[rng.IntN(len(labelValues))]
		}
	}
	return podLabels
}

// randomSelector returns a null selector (no pod), the empty one (every pod)
// now and then, and otherwise one or two matchLabels and up to one
// expression of every operator.
func randomSelector(rng *rand.Rand) *metav1.LabelSelector {
	switch rng.IntN(12) {
	case 0:
		return nil
	case 1:
		return &metav1.LabelSelector{}
	}
	sel := &metav1.LabelSelector{}
	for range 1 + rng.IntN(2) {
		if sel.MatchLabels == nil {
			sel.MatchLabels = map[string]string{}
		}
		sel.MatchLabels[labelKeys[rng.IntN(len(labelKeys))]] = labelValues[rng.IntN(len(labelValues))]
	}
	ops := []metav1.LabelSelectorOperator{metav1.LabelSelectorOpIn, metav1.LabelSelectorOpNotIn, metav1.LabelSelectorOpExists, metav1.LabelSelectorOpDoesNotExist}
	for range rng.IntN(2) {
		req := metav1.LabelSelectorRequirement{Key: labelKeys[rng.IntN(len(labelKeys))], Operator: ops[rng.IntN(len(ops))]}
		if req.Operator == metav1.LabelSelectorOpIn || req.Operator == metav1.LabelSelectorOpNotIn {
			perm := rng.Perm(len(labelValues))
			for _, i := range perm[:1+rng.IntN(2)] {
				req.Values = append(req.Values, labelValues[i])
			}
		}
		sel.MatchExpressions = append(sel.MatchExpressions, req)
	}
	return sel
}

func podName(workload, replica int) string { return fmt.Sprintf("w%d-%d", workload, replica) }
