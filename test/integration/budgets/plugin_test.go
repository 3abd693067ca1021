package budgets

import (
	"bytes"
	"slices"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/labelgroup/labelgroup-operator/config/crd"
	"github.com/labelgroup/labelgroup-operator/internal/crdvalidation"
	"github.com/labelgroup/labelgroup-operator/internal/plugin/lint"
	"github.com/labelgroup/labelgroup-operator/internal/plugin/manifest"
	"github.com/labelgroup/labelgroup-operator/internal/plugin/objects"
)

func keyOf(obj client.Object) types.NamespacedName {
	return types.NamespacedName{Namespace: obj.GetNamespace(), Name: obj.GetName()}
}

// checkPlugin feeds kubectl-labelgroup the manifests of the namespace's pods
// and budgets, as the API server holds them, and checks that lint's
// pdb-overlap reports exactly the pairs of budgets the eviction API found
// covering a pod together, and that who-selects lists two budgets or more for
// exactly the pods the eviction API refused, budget by budget.
func checkPlugin(ns string, pods []*corev1.Pod, budgets []*policyv1.PodDisruptionBudget, refused map[string]bool, want counts) {
	var stream bytes.Buffer
	for _, pod := range pods {
		writeManifest(&stream, &corev1.Pod{}, pod, corev1.SchemeGroupVersion.WithKind("Pod"))
	}
	for _, pdb := range budgets {
		writeManifest(&stream, &policyv1.PodDisruptionBudget{}, pdb, policyv1.SchemeGroupVersion.WithKind("PodDisruptionBudget"))
	}
	read, err := manifest.Read([]string{manifest.Stdin}, &stream, ns)
	Expect(err).NotTo(HaveOccurred())

	validator, err := crdvalidation.New(crd.Bases)
	Expect(err).NotTo(HaveOccurred())
	var lintPairs [][2]string
	for _, f := range lint.New(validator).Lint(read) {
		if f.Rule == lint.RulePDBOverlap {
			Expect(f.Related).To(HaveLen(1))
			pair := [2]string{f.Name, f.Related[0].Name}
			slices.Sort(pair[:])
			lintPairs = append(lintPairs, pair)
		}
	}
	slices.SortFunc(lintPairs, comparePairs)
	wantPairs := slices.Clone(want.pairs)
	slices.SortFunc(wantPairs, comparePairs)
	Expect(lintPairs).To(Equal(wantPairs), "lint pdb-overlap in namespace %s", ns)

	objs := make([]*unstructured.Unstructured, len(read))
	for i, o := range read {
		objs[i] = o.Unstructured
	}
	whoShared := map[string]float64{}
	for _, pdb := range budgets {
		whoShared[pdb.Name] = 0
	}
	for _, pod := range pods {
		var covering []string
		for _, s := range objects.WhoSelects(pod.Labels, objs) {
			if s.Kind == "PodDisruptionBudget" {
				covering = append(covering, s.Name)
			}
		}
		Expect(len(covering) > 1).To(Equal(refused[pod.Name]), "who-selects lists budgets %v for pod %s, which the eviction API refused: %v", covering, pod.Name, refused[pod.Name])
		if len(covering) > 1 {
			for _, name := range covering {
				whoShared[name]++
			}
		}
	}
	Expect(whoShared).To(Equal(want.sharedPods), "who-selects' shared pods per budget in namespace %s", ns)
}

// writeManifest reads obj back from the API server into fresh and appends it
// to stream as a YAML document, with its apiVersion and kind.
func writeManifest(stream *bytes.Buffer, fresh client.Object, obj client.Object, gvk schema.GroupVersionKind) {
	Expect(k8sClient.Get(ctx, keyOf(obj), fresh)).To(Succeed())
	fresh.GetObjectKind().SetGroupVersionKind(gvk)
	fresh.SetManagedFields(nil)
	data, err := yaml.Marshal(fresh)
	Expect(err).NotTo(HaveOccurred())
	stream.WriteString("---\n")
	stream.Write(data)
}

func comparePairs(a, b [2]string) int { return slices.Compare(a[:], b[:]) }
