package admission

import (
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/test/builders"
	"github.com/labelgroup/labelgroup-operator/test/integration/admissiontest"
	"github.com/labelgroup/labelgroup-operator/test/integration/testenv"
)

func newNamespace(prefix string) string { return testenv.NewNamespace(ctx, k8sClient, prefix) }

// exclusive starts a group with overlapPolicy Selectors.
func exclusive(name, namespace string) *builders.GroupBuilder {
	return builders.MakeGroup(name).Namespace(namespace).Policy(v1alpha1.OverlapPolicySelectors)
}

// exclusiveSelectors is config/admission's policy, as the specs meet it.
var exclusiveSelectors = &admissiontest.Policy[*v1alpha1.LabelGroup]{
	Name:          "labelgroup-exclusive-selectors",
	Kind:          "LabelGroup",
	CreateOptions: []client.CreateOption{client.FieldValidation("Strict")},
	Selecting: func(name, namespace string, keyValues ...string) *v1alpha1.LabelGroup {
		b := exclusive(name, namespace)
		for i := 0; i < len(keyValues); i += 2 {
			b.Label(keyValues[i], keyValues[i+1])
		}
		return b.Obj()
	},
}

// installAdmission creates config/admission's policy and binding, and waits
// until the API server enforces them.
func installAdmission() {
	policy, binding, err := loadAdmission()
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	exclusiveSelectors.Install(ctx, policy, binding)
}

// tryCreate sends a server-side dry-run create, with strict field validation.
func tryCreate(group *v1alpha1.LabelGroup) error { return exclusiveSelectors.TryCreate(ctx, group) }

// refusal tells a refusal by the policy from an admission and from any other
// error: refused is true when err is the policy's Forbidden naming other.
func refusal(err error, other string) (refused bool, _ error) {
	return exclusiveSelectors.Refusal(err, other)
}

// BeRefusedNaming succeeds on the policy's Forbidden naming the group other.
func BeRefusedNaming(other string) OmegaMatcher { return exclusiveSelectors.BeRefusedNaming(other) }

// worker checks one pair of selectors at a time (see admissiontest.Worker).
type worker struct {
	*admissiontest.Worker[*v1alpha1.LabelGroup]
}

func newWorker() *worker {
	return &worker{admissiontest.NewWorker(ctx, exclusiveSelectors, func(name, namespace string) *v1alpha1.LabelGroup {
		return builders.MakeGroup(name).Namespace(namespace).Obj()
	})}
}

// verdict reports whether the policy refuses a group with selector and
// policy created beside an existing group with existingSelector and
// existingPolicy.
func (w *worker) verdict(existingSelector v1alpha1.LabelSelector, existingPolicy v1alpha1.OverlapPolicy,
	selector v1alpha1.LabelSelector, policy v1alpha1.OverlapPolicy) (bool, error) {
	group := builders.MakeGroup("new").Namespace(w.Namespace()).Policy(policy).Obj()
	group.Spec.Selector = selector
	return w.Verdict(func(existing *v1alpha1.LabelGroup) {
		existing.Spec = v1alpha1.LabelGroupSpec{Selector: existingSelector, OverlapPolicy: existingPolicy}
	}, group)
}

func ptrTo[T any](v T) *T { return &v }

func clientKey(name string) client.ObjectKey { return client.ObjectKey{Name: name} }
