// Package admissionpdb proves config/admission-pdb, the ValidatingAdmissionPolicy
// that refuses a PodDisruptionBudget whose selector intersects the selector of
// another budget of its namespace, on the real API server: it refuses exactly
// what internal/selector.Intersects says intersects (a null selector covering
// no pod), names the other budget, and leaves metadata-only updates and the
// disruption controller's status writes alone.
package admissionpdb

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/test/integration/admissiontest"
	"github.com/labelgroup/labelgroup-operator/test/integration/testenv"
)

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
	exclusiveBudgets.Client = k8sClient
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(10 * time.Millisecond)

	By("creating two overlapping budgets while nothing refuses them")
	overlapping = newNamespace("overlapping")
	Expect(k8sClient.Create(ctx, makeBudget("web", overlapping, labels("tier", "web")))).To(Succeed())
	Expect(k8sClient.Create(ctx, makeBudget("frontend", overlapping, &metav1.LabelSelector{
		MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"web", "api"}}},
	}))).To(Succeed())

	By("installing config/admission-pdb")
	policy, binding, err := admissiontest.Load(admissiontest.ConfigDir("admission-pdb"))
	Expect(err).NotTo(HaveOccurred())
	exclusiveBudgets.Install(ctx, policy, binding)
})

// exclusiveBudgets is config/admission-pdb's policy, as the specs meet it.
var exclusiveBudgets = &admissiontest.Policy[*policyv1.PodDisruptionBudget]{
	Name: "labelgroup-exclusive-pod-disruption-budgets",
	Kind: "PodDisruptionBudget",
	Selecting: func(name, namespace string, keyValues ...string) *policyv1.PodDisruptionBudget {
		return makeBudget(name, namespace, labels(keyValues...))
	},
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
func tryCreate(pdb *policyv1.PodDisruptionBudget) error { return exclusiveBudgets.TryCreate(ctx, pdb) }

// BeRefusedNaming succeeds on the policy's Forbidden naming the budget other.
func BeRefusedNaming(other string) OmegaMatcher { return exclusiveBudgets.BeRefusedNaming(other) }
