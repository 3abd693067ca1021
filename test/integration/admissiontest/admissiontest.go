// Package admissiontest holds what the suites of the two admission policies
// share, config/admission for LabelGroups and config/admission-pdb for
// PodDisruptionBudgets: both refuse an object whose selector intersects the
// selector of another object of its namespace. It renders a policy and its
// binding as `kubectl apply -k` does, installs them and waits until the API
// server enforces them, tells the policy's refusal from any other answer, and
// compares the policy's verdicts on many pairs with an oracle's.
package admissiontest

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/labelgroup/labelgroup-operator/test/integration/testenv"
)

// ConfigDir is config/<name> in the repository, a folder `kubectl apply -k`
// installs.
func ConfigDir(name string) string {
	_, thisFile, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(thisFile), "..", "..", "..", "config", name)
}

// Load renders dir as `kubectl apply -k` does (with kustomize's own library)
// and decodes, strictly, the policy and the binding, the only two objects it
// may hold.
func Load(dir string) (*admissionregistrationv1.ValidatingAdmissionPolicy, *admissionregistrationv1.ValidatingAdmissionPolicyBinding, error) {
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
	decoded := map[string]any{"ValidatingAdmissionPolicy": policy, "ValidatingAdmissionPolicyBinding": binding}
	if resources.Size() != len(decoded) {
		return nil, nil, fmt.Errorf("%s renders %d objects; the tests expect a policy and a binding", dir, resources.Size())
	}
	for _, r := range resources.Resources() {
		into, ok := decoded[r.GetKind()]
		if !ok {
			return nil, nil, fmt.Errorf("%s renders a %s; the tests expect a policy and a binding", dir, r.GetKind())
		}
		data, err := r.AsYAML()
		if err != nil {
			return nil, nil, err
		}
		if err := yaml.UnmarshalStrict(data, into); err != nil {
			return nil, nil, fmt.Errorf("%s %s: %w", dir, r.GetKind(), err)
		}
	}
	return policy, binding, nil
}

// Policy is one of the two policies, as a suite sees it from outside: through
// dry-run creates of objects of type T and the refusals they meet.
type Policy[T client.Object] struct {
	Client client.Client
	// Name is the ValidatingAdmissionPolicy's name, which its refusals quote.
	Name string
	// Kind is the kind the policy judges, which its refusals name.
	Kind string
	// CreateOptions go with client.DryRunAll on every dry-run create.
	CreateOptions []client.CreateOption
	// Selecting makes an object named name in namespace that the policy
	// judges, selecting the pods with the labels keyValues (key, value
	// pairs; none selects every pod).
	Selecting func(name, namespace string, keyValues ...string) T
}

// TryCreate sends a server-side dry-run create, which runs admission in full
// (validating admission policies included) and stores nothing.
func (p *Policy[T]) TryCreate(ctx context.Context, obj T) error {
	return p.Client.Create(ctx, obj, append([]client.CreateOption{client.DryRunAll}, p.CreateOptions...)...)
}

// Refusal tells a refusal by the policy from an admission and from any other
// error: refused is true when err is the policy's Forbidden naming other.
func (p *Policy[T]) Refusal(err error, other string) (refused bool, _ error) {
	if err == nil {
		return false, nil
	}
	if apierrors.IsForbidden(err) &&
		strings.Contains(err.Error(), "ValidatingAdmissionPolicy '"+p.Name+"'") &&
		strings.Contains(err.Error(), `intersects the selector of `+p.Kind+` "`+other+`"`) {
		return true, nil
	}
	return false, fmt.Errorf("want the policy's refusal naming %q or nothing, got: %w", other, err)
}

// BeRefusedNaming succeeds on the policy's Forbidden naming the object other.
func (p *Policy[T]) BeRefusedNaming(other string) gomega.OmegaMatcher {
	return gomega.WithTransform(func(err error) error {
		refused, unexpected := p.Refusal(err, other)
		if unexpected != nil {
			return unexpected
		}
		if !refused {
			return fmt.Errorf("admitted")
		}
		return nil
	}, gomega.Succeed())
}

// Install creates policy and binding, and waits until the API server enforces
// them: a policy is enforced once the API server's informers have seen it and
// its binding; until then a probe beside an object selecting every pod, in a
// namespace of its own, is admitted.
func (p *Policy[T]) Install(ctx context.Context, policy *admissionregistrationv1.ValidatingAdmissionPolicy, binding *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
	gomega.ExpectWithOffset(1, p.Client.Create(ctx, policy)).To(gomega.Succeed())
	gomega.ExpectWithOffset(1, p.Client.Create(ctx, binding)).To(gomega.Succeed())
	ns := testenv.NewNamespace(ctx, p.Client, "probe")
	gomega.ExpectWithOffset(1, p.Client.Create(ctx, p.Selecting("existing", ns))).To(gomega.Succeed())
	gomega.EventuallyWithOffset(1, func() error { return p.TryCreate(ctx, p.Selecting("probe", ns)) }).
		Should(p.BeRefusedNaming("existing"))
}

// Worker checks one pair of objects at a time in a namespace of its own: it
// makes its single object Existing hold one selector, then dry-runs a create
// of the other beside it. The policy sees objects through an informer of the
// API server; a clock object in a second namespace, bumped after each change
// and probed until the policy sees the bump, tells when that informer has
// caught up (it delivers events in order).
type Worker[T client.Object] struct {
	// Existing is the object named "existing" in the worker's namespace.
	Existing T

	ctx            context.Context
	policy         *Policy[T]
	namespace      string
	clockNamespace string
	clock          T
	tick           int
}

// NewWorker creates the worker's two namespaces, Existing as existing makes
// it, and the clock.
func NewWorker[T client.Object](ctx context.Context, p *Policy[T], existing func(name, namespace string) T) *Worker[T] {
	w := &Worker[T]{ctx: ctx, policy: p,
		namespace:      testenv.NewNamespace(ctx, p.Client, "pairs"),
		clockNamespace: testenv.NewNamespace(ctx, p.Client, "clock"),
	}
	w.Existing = existing("existing", w.namespace)
	gomega.ExpectWithOffset(1, p.Client.Create(ctx, w.Existing)).To(gomega.Succeed())
	w.clock = p.Selecting("clock", w.clockNamespace, "tick", "0")
	gomega.ExpectWithOffset(1, p.Client.Create(ctx, w.clock)).To(gomega.Succeed())
	return w
}

// Namespace is the namespace of Existing, where the pairs meet.
func (w *Worker[T]) Namespace() string { return w.namespace }

// Verdict reports whether the policy refuses created beside Existing, once
// set has changed Existing and the policy sees the change.
func (w *Worker[T]) Verdict(set func(existing T), created T) (bool, error) {
	set(w.Existing)
	// Existing is alone in its namespace: its updates are never refused.
	if err := w.policy.Client.Update(w.ctx, w.Existing); err != nil {
		return false, err
	}
	if err := w.Sync(); err != nil {
		return false, err
	}
	return w.policy.Refusal(w.policy.TryCreate(w.ctx, created), w.Existing.GetName())
}

// Sync returns once the policy sees every change made before it was called.
func (w *Worker[T]) Sync() error {
	w.tick++
	tick := fmt.Sprint(w.tick)
	patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"selector":{"matchLabels":{"tick":"`+tick+`"}}}}`))
	if err := w.policy.Client.Patch(w.ctx, w.clock, patch); err != nil {
		return err
	}
	probe := w.policy.Selecting("probe", w.clockNamespace, "tick", tick)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		refused, err := w.policy.Refusal(w.policy.TryCreate(w.ctx, probe.DeepCopyObject().(T)), "clock")
		if err != nil || refused {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the policy did not see the clock's tick %s within 30s", tick)
		}
	}
}
