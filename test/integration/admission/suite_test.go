// Package admission proves config/admission, the ValidatingAdmissionPolicy
// that refuses overlapping exclusive LabelGroups, on the real API server: it
// refuses exactly what internal/selector.Intersects says intersects, names the
// other group, leaves metadata-only updates alone, and stays within the CEL
// cost limits at the CRD's bounds.
package admission

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/test/integration/testenv"
)

var (
	ctx       context.Context
	testEnv   *testenv.Env
	k8sClient client.Client
	// overlapping is a namespace holding two exclusive groups that overlap,
	// created before the policy was installed.
	overlapping string
)

func TestAdmission(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Admission policy suite")
}

var _ = BeforeSuite(func() {
	ctx, testEnv = testenv.StartSuite()
	k8sClient = testEnv.Client
	exclusiveSelectors.Client = k8sClient
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(10 * time.Millisecond)

	By("creating two overlapping exclusive groups while nothing refuses them")
	overlapping = newNamespace("overlapping")
	Expect(k8sClient.Create(ctx, exclusive("web", overlapping).Label("tier", "web").Obj())).To(Succeed())
	Expect(k8sClient.Create(ctx, exclusive("frontend", overlapping).In("tier", "web", "api").Obj())).To(Succeed())

	By("installing config/admission")
	installAdmission()
})
