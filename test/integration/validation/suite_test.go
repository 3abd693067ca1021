// Package validation proves the LabelGroup CRD schema against a real API server:
// bad selectors are refused at apply time with the field named, good ones pass.
package validation

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/test/integration/testenv"
)

var (
	ctx       context.Context
	testEnv   *testenv.Env
	k8sClient client.Client
)

func TestValidation(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "CRD validation suite")
}

var _ = BeforeSuite(func() {
	ctx, testEnv = testenv.StartSuite()
	k8sClient = testEnv.Client
})
