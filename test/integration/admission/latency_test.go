package admission

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/test/builders"
	"github.com/labelgroup/labelgroup-operator/test/integration/testenv"
)

// BenchmarkCreate measures how long the API server takes to admit a new
// exclusive LabelGroup into a namespace that already holds 0, 200 or 1,000
// groups, small ones and ones at the CRD's bounds, with config/admission
// installed and, as the reference measured in the same run, without it.
// Creates are server-side dry runs: admission runs in full, nothing is
// stored, so the namespace keeps its size. Not part of `make test`:
//
//	make bench-admission
func BenchmarkCreate(b *testing.B) {
	ctx := context.Background()
	env, err := testenv.Start()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := env.Stop(); err != nil {
			b.Error(err)
		}
	})
	c := env.Client
	policy, binding, err := loadAdmission()
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Create(ctx, policy); err != nil {
		b.Fatal(err)
	}
	namespace := func(name string) string {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
			b.Fatal(err)
		}
		return name
	}
	probeNamespace := namespace("probe")
	if err := c.Create(ctx, builders.MakeGroup("existing").Namespace(probeNamespace).Policy(v1alpha1.OverlapPolicySelectors).Obj()); err != nil {
		b.Fatal(err)
	}
	// enforce binds or unbinds the policy and waits until the API server's
	// answer to an overlapping probe says it did.
	enforce := func(on bool) {
		if on {
			err = c.Create(ctx, binding.DeepCopy())
		} else {
			err = c.Delete(ctx, binding.DeepCopy())
		}
		if err != nil {
			b.Fatal(err)
		}
		probe := builders.MakeGroup("probe").Namespace(probeNamespace).Policy(v1alpha1.OverlapPolicySelectors).Obj()
		// Until the API server has synced its informer of the params, the
		// policy (failurePolicy Fail) refuses with an error naming no group.
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
			refused, err := refusal(c.Create(ctx, probe.DeepCopy(), client.DryRunAll), "existing")
			if err == nil && refused == on {
				return
			}
			if time.Now().After(deadline) {
				b.Fatalf("the binding's change (enforce %v) was not seen within a minute; last error: %v", on, err)
			}
		}
	}

	var bounds boundsShape
	for _, s := range boundsShapes() {
		if s.name == "63 keys, disjoint on the last" {
			bounds = s
		}
	}
	sizes := []struct {
		name      string
		namespace string
		existing  func(i int) *v1alpha1.LabelGroup
		created   *v1alpha1.LabelGroup
	}{
		{"small", namespace("small"), func(i int) *v1alpha1.LabelGroup {
			return builders.MakeGroup(fmt.Sprintf("g%04d", i)).Label("app", fmt.Sprintf("app-%d", i)).Label("tier", "web").In("env", "qa", "prod").Obj()
		}, builders.MakeGroup("new").Label("app", "new").Label("tier", "web").Policy(v1alpha1.OverlapPolicySelectors).Obj()},
		{"bounds", namespace("bounds"), func(i int) *v1alpha1.LabelGroup {
			return asCreated(bounds.params, fmt.Sprintf("g%04d", i), "", v1alpha1.OverlapPolicyMembers)
		}, asCreated(bounds.object, "new", "", v1alpha1.OverlapPolicySelectors)},
	}

	held, enforcing := 0, false
	for _, groups := range []int{0, 200, 1000} {
		if enforcing {
			enforce(false)
			enforcing = false
		}
		for _, size := range sizes {
			for i := held; i < groups; i++ {
				g := size.existing(i)
				g.Namespace = size.namespace
				if err := c.Create(ctx, g); err != nil {
					b.Fatal(err)
				}
			}
		}
		held = groups
		for _, installed := range []bool{false, true} {
			if installed != enforcing {
				enforce(installed)
				enforcing = installed
			}
			for _, size := range sizes {
				name := fmt.Sprintf("groups=%d/%s/policy=%v", groups, size.name, installed)
				b.Run(name, func(b *testing.B) {
					created := size.created.DeepCopy()
					created.Namespace = size.namespace
					for b.Loop() {
						if err := c.Create(ctx, created.DeepCopy(), client.DryRunAll); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}
