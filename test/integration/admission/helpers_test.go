package admission

import (
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/test/builders"
	"github.com/labelgroup/labelgroup-operator/test/integration/testenv"
)

func newNamespace(prefix string) string { return testenv.NewNamespace(ctx, k8sClient, prefix) }

// exclusive starts a group with overlapPolicy Selectors.
func exclusive(name, namespace string) *builders.GroupBuilder {
	return builders.MakeGroup(name).Namespace(namespace).Policy(v1alpha1.OverlapPolicySelectors)
}

// installAdmission creates config/admission's policy and binding, and waits
// until the API server enforces them.
func installAdmission() {
	policy, binding, err := loadAdmission()
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	ExpectWithOffset(1, k8sClient.Create(ctx, policy)).To(Succeed())
	ExpectWithOffset(1, k8sClient.Create(ctx, binding)).To(Succeed())
	ns := newNamespace("probe")
	ExpectWithOffset(1, k8sClient.Create(ctx, exclusive("existing", ns).Obj())).To(Succeed())
	// A policy is enforced once the API server's informers have seen it and
	// its binding; until then the probe is admitted.
	EventuallyWithOffset(1, func() error { return tryCreate(exclusive("probe", ns).Obj()) }).
		Should(BeRefusedNaming("existing"))
}

// tryCreate sends a server-side dry-run create, which runs admission in full
// (validating admission policies included) and stores nothing.
func tryCreate(group *v1alpha1.LabelGroup) error {
	return k8sClient.Create(ctx, group, client.DryRunAll, client.FieldValidation("Strict"))
}

// refusal tells a refusal by the policy from an admission and from any other
// error: refused is true when err is the policy's Forbidden naming other.
func refusal(err error, other string) (refused bool, _ error) {
	if err == nil {
		return false, nil
	}
	if apierrors.IsForbidden(err) &&
		strings.Contains(err.Error(), "ValidatingAdmissionPolicy 'labelgroup-exclusive-selectors'") &&
		strings.Contains(err.Error(), `intersects the selector of LabelGroup "`+other+`"`) {
		return true, nil
	}
	return false, fmt.Errorf("want the policy's refusal naming %q or nothing, got: %w", other, err)
}

// BeRefusedNaming succeeds on the policy's Forbidden naming the group other.
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

// worker checks one pair of selectors at a time in a namespace of its own: it
// makes its single group "existing" hold one selector, then dry-runs a create
// of the other beside it. The policy sees LabelGroups through an informer of
// the API server; a clock group in a second namespace, bumped after each
// change and probed until the policy sees the bump, tells when that informer
// has caught up (it delivers events in order).
type worker struct {
	namespace, clockNamespace string
	existing, clock           *v1alpha1.LabelGroup
	tick                      int
}

func newWorker() *worker {
	w := &worker{namespace: newNamespace("pairs"), clockNamespace: newNamespace("clock")}
	w.existing = builders.MakeGroup("existing").Namespace(w.namespace).Obj()
	ExpectWithOffset(1, k8sClient.Create(ctx, w.existing)).To(Succeed())
	w.clock = exclusive("clock", w.clockNamespace).Label("tick", "0").Obj()
	ExpectWithOffset(1, k8sClient.Create(ctx, w.clock)).To(Succeed())
	return w
}

// verdict reports whether the policy refuses a group with selector and
// policy created beside an existing group with existingSelector and
// existingPolicy.
func (w *worker) verdict(existingSelector v1alpha1.LabelSelector, existingPolicy v1alpha1.OverlapPolicy,
	selector v1alpha1.LabelSelector, policy v1alpha1.OverlapPolicy) (bool, error) {
	// The existing group is alone in its namespace: its updates are never refused.
	w.existing.Spec = v1alpha1.LabelGroupSpec{Selector: existingSelector, OverlapPolicy: existingPolicy}
	if err := k8sClient.Update(ctx, w.existing); err != nil {
		return false, err
	}
	if err := w.sync(); err != nil {
		return false, err
	}
	group := builders.MakeGroup("new").Namespace(w.namespace).Policy(policy).Obj()
	group.Spec.Selector = selector
	return refusal(tryCreate(group), w.existing.Name)
}

// sync returns once the policy sees every change made before it was called.
func (w *worker) sync() error {
	w.tick++
	tick := fmt.Sprint(w.tick)
	patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"selector":{"matchLabels":{"tick":"`+tick+`"}}}}`))
	if err := k8sClient.Patch(ctx, w.clock, patch); err != nil {
		return err
	}
	probe := exclusive("probe", w.clockNamespace).Label("tick", tick).Obj()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		refused, err := refusal(tryCreate(probe.DeepCopy()), "clock")
		if err != nil || refused {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the policy did not see the clock's tick %s within 30s", tick)
		}
	}
}

func ptrTo[T any](v T) *T { return &v }

func clientKey(name string) client.ObjectKey { return client.ObjectKey{Name: name} }
