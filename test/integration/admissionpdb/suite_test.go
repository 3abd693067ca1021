// Package admissionpdb proves config/admission-pdb, the ValidatingAdmissionPolicy
// that refuses a PodDisruptionBudget whose selector intersects the selector of
// another budget of its namespace, on the real API server: it refuses exactly
// what internal/selector.Intersects says intersects (a null selector covering
// no pod), names the other budget, and leaves metadata-only updates and the
// disruption controller's status writes alone.
package admissionpdb

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/labelgroup/labelgroup-operator/test/integration/testenv"
)

const policyName = "labelgroup-exclusive-pod-disruption-budgets"

var (
	ctx       context.Context
	testEnv   *testenv.Env
	k8sClient client.Client
	// overlapping holds two budgets that cover the same pods, created before
	// the policy was installed.
	overlapping string
)

func TestAdmissionPDB(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "PodDisruptionBudget admission policy suite")
}

var _ = BeforeSuite(func() {
	ctx, testEnv = testenv.StartSuite()
	k8sClient = testEnv.Client
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(10 * time.Millisecond)

	By("creating two overlapping budgets while nothing refuses them")
	overlapping = newNamespace("overlapping")
	Expect(k8sClient.Create(ctx, makeBudget("web", overlapping, labels("tier", "web")))).To(Succeed())
	Expect(k8sClient.Create(ctx, makeBudget("frontend", overlapping, &metav1.LabelSelector{
		MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"web", "api"}}},
	}))).To(Succeed())

	By("installing config/admission-pdb")
	policy, binding := loadAdmissionPDB()
	Expect(k8sClient.Create(ctx, policy)).To(Succeed())
	Expect(k8sClient.Create(ctx, binding)).To(Succeed())
	ns := newNamespace("probe")
	Expect(k8sClient.Create(ctx, makeBudget("existing", ns, &metav1.LabelSelector{}))).To(Succeed())
	Eventually(func() error { return tryCreate(makeBudget("probe", ns, &metav1.LabelSelector{})) }).
		Should(BeRefusedNaming("existing"))
})

// loadAdmissionPDB renders config/admission-pdb as `kubectl apply -k` does and
// decodes, strictly, its policy and binding, the only two objects it may hold.
func loadAdmissionPDB() (*admissionregistrationv1.ValidatingAdmissionPolicy, *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
	_, thisFile, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(thisFile), "..", "..", "..", "config", "admission-pdb")
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	Expect(err).NotTo(HaveOccurred(), "kustomize build config/admission-pdb")
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
	decoded := map[string]any{"ValidatingAdmissionPolicy": policy, "ValidatingAdmissionPolicyBinding": binding}
	Expect(resources.Size()).To(Equal(len(decoded)), "config/admission-pdb renders a policy and a binding")
	for _, r := range resources.Resources() {
		into, ok := decoded[r.GetKind()]
		Expect(ok).To(BeTrue(), "config/admission-pdb renders a %s", r.GetKind())
		data, err := r.AsYAML()
		Expect(err).NotTo(HaveOccurred())
		Expect(yaml.UnmarshalStrict(data, into)).To(Succeed())
	}
	return policy, binding
}

func newNamespace(prefix string) string { return testenv.NewNamespace(ctx, k8sClient, prefix) }

func labels(kv ...string) *metav1.LabelSelector {
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{}}
	for i := 0; i < len(kv); i += 2 {
		sel.MatchLabels[kv[i]] = kv[i+1]
	}
	return sel
}

func makeBudget(name, namespace string, sel *metav1.LabelSelector) *policyv1.PodDisruptionBudget {
	maxUnavailable := intstr.FromInt32(1)
	return &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec:       policyv1.PodDisruptionBudgetSpec{Selector: sel, MaxUnavailable: &maxUnavailable},
	}
}

// tryCreate sends a server-side dry-run create, which runs admission in full
// and stores nothing.
func tryCreate(pdb *policyv1.PodDisruptionBudget) error {
	return k8sClient.Create(ctx, pdb, client.DryRunAll)
}

// refusal tells the policy's refusal naming other from an admission and from
// any other error.
func refusal(err error, other string) (refused bool, _ error) {
	if err == nil {
		return false, nil
	}
	if apierrors.IsForbidden(err) &&
		strings.Contains(err.Error(), "ValidatingAdmissionPolicy '"+policyName+"'") &&
		strings.Contains(err.Error(), `intersects the selector of PodDisruptionBudget "`+other+`"`) {
		return true, nil
	}
	return false, fmt.Errorf("want the policy's refusal naming %q or nothing, got: %w", other, err)
}

// BeRefusedNaming succeeds on the policy's Forbidden naming the budget other.
func BeRefusedNaming(other string) OmegaMatcher {
	return WithTransform(func(err error) error {
		refused, unexpected := refusal(err, other)
		if unexpected != nil {
			return unexpected
		}
		if !refused {
			return fmt.Errorf("admitted")
		}
		return nil
	}, Succeed())
}
