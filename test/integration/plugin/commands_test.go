package plugin

import (
	"bytes"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/plugin/commands"
	"github.com/labelgroup/labelgroup-operator/internal/selector"
	"github.com/labelgroup/labelgroup-operator/test/builders"
	"github.com/labelgroup/labelgroup-operator/test/integration/testenv"
)

// plugin runs kubectl labelgroup with args against the envtest API server.
func plugin(args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	code = commands.Execute(append(args, "--kubeconfig", kubeconfig),
		genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	return out.String(), errOut.String(), code
}

func newNamespace() string { return testenv.NewNamespace(ctx, k8sClient, "plugin") }

var _ = Describe("kubectl labelgroup who-selects", func() {
	It("lists the LabelGroups, Services and PodDisruptionBudgets of the pod's namespace that select it", func() {
		ns := newNamespace()
		other := newNamespace()
		objs := []client.Object{
			builders.MakePod("web-1").Namespace(ns).Label("tier", "frontend").Label("environment", "production").Obj(),
			builders.MakeGroup("frontend").Namespace(ns).Label("tier", "frontend").Obj(),
			builders.MakeGroup("production").Namespace(ns).In("environment", "production", "qa").Obj(),
			builders.MakeGroup("backend").Namespace(ns).Label("tier", "backend").Obj(),
			builders.MakeGroup("frontend-elsewhere").Namespace(other).Label("tier", "frontend").Obj(),
			&corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
				Spec:       corev1.ServiceSpec{Selector: map[string]string{"tier": "frontend"}, Ports: []corev1.ServicePort{{Port: 80}}},
			},
			&corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Name: "external", Namespace: ns},
				Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}},
			},
			&policyv1.PodDisruptionBudget{
				ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
				Spec: policyv1.PodDisruptionBudgetSpec{
					MinAvailable: ptrTo(intstr.FromInt32(1)),
					Selector:     &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpExists}}},
				},
			},
		}
		for _, obj := range objs {
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		}

		stdout, stderr, code := plugin("who-selects", "pod/web-1", "-n", ns)
		Expect(code).To(Equal(commands.ExitOK), stderr)
		Expect(stdout).To(Equal(`KIND                  NAME         SELECTOR
LabelGroup            frontend     tier=frontend
LabelGroup            production   environment in (production,qa)
Service               web          tier=frontend
PodDisruptionBudget   web          tier
`))

		stdout, stderr, code = plugin("who-selects", "--labels", "tier=backend", "-n", ns)
		Expect(code).To(Equal(commands.ExitOK), stderr)
		Expect(stdout).To(ContainSubstring("LabelGroup            backend"))
		Expect(stdout).NotTo(ContainSubstring("frontend"))

		stdout, stderr, code = plugin("who-selects", "--labels", "app=nothing", "-n", ns)
		Expect(code).To(Equal(commands.ExitOK))
		Expect(stdout).To(BeEmpty())
		Expect(stderr).To(ContainSubstring("No LabelGroup, Service or PodDisruptionBudget in namespace " + ns + " selects a pod labelled app=nothing"))
	})

	It("looks up a workload by its pod template's labels", func() {
		ns := newNamespace()
		deployment := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
			Spec: appsv1.DeploymentSpec{
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web", "tier": "frontend"}},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: builders.PodImage}}},
				},
			},
		}
		Expect(k8sClient.Create(ctx, deployment)).To(Succeed())
		Expect(k8sClient.Create(ctx, builders.MakeGroup("frontend").Namespace(ns).Label("tier", "frontend").Obj())).To(Succeed())
		Expect(k8sClient.Create(ctx, builders.MakeGroup("api").Namespace(ns).Label("tier", "api").Obj())).To(Succeed())

		stdout, stderr, code := plugin("who-selects", "deploy/web", "-n", ns, "-o", "json")
		Expect(code).To(Equal(commands.ExitOK), stderr)
		Expect(stdout).To(MatchJSON(`{"namespace": "` + ns + `", "subject": "deployment/web", "podLabels": {"app": "web", "tier": "frontend"},
			"selectedBy": [{"kind": "LabelGroup", "name": "frontend", "selector": "tier=frontend"}]}`))
	})

	It("fails naming a pod that does not exist", func() {
		ns := newNamespace()
		_, stderr, code := plugin("who-selects", "pod/ghost", "-n", ns)
		Expect(code).To(Equal(commands.ExitFailure))
		Expect(stderr).To(ContainSubstring(`pods "ghost" not found`))
	})
})

var _ = Describe("kubectl labelgroup create", func() {
	const input = "tier=frontend,environment in (production,qa),!canary,track!=beta"

	It("sends a server dry run that the API server validates and does not store", func() {
		ns := newNamespace()
		stdout, stderr, code := plugin("create", "frontend", "--selector", input, "--dry-run=server", "-n", ns)
		Expect(code).To(Equal(commands.ExitOK), stderr)
		Expect(stdout).To(Equal("labelgroup.grouping.labelgroup.io/frontend created (server dry run)\n"))

		stdout, stderr, code = plugin("create", "frontend", "--selector", input, "--dry-run=server", "-n", ns, "-o", "yaml")
		Expect(code).To(Equal(commands.ExitOK), stderr)
		var echoed v1alpha1.LabelGroup
		Expect(yaml.Unmarshal([]byte(stdout), &echoed)).To(Succeed())
		Expect(echoed.UID).NotTo(BeEmpty(), "the server fills in the object of a server dry run")
		Expect(echoed.Spec.OverlapPolicy).To(Equal(v1alpha1.OverlapPolicyMembers))

		err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "frontend"}, &v1alpha1.LabelGroup{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "a dry run stored the group: %v", err)
	})

	It("creates a group whose stored selector is the same requirements as the input", func() {
		ns := newNamespace()
		stdout, stderr, code := plugin("create", "frontend", "--selector", input, "--overlap-policy", "Selectors", "-n", ns)
		Expect(code).To(Equal(commands.ExitOK), stderr)
		Expect(stdout).To(Equal("labelgroup.grouping.labelgroup.io/frontend created\n"))

		var stored v1alpha1.LabelGroup
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "frontend"}, &stored)).To(Succeed())
		Expect(stored.Spec.OverlapPolicy).To(Equal(v1alpha1.OverlapPolicySelectors))
		sel, err := selector.ToLabelsSelector(stored.Spec.Selector)
		Expect(err).NotTo(HaveOccurred())
		Expect(sel.String()).To(Equal("!canary,environment in (production,qa),tier=frontend,track notin (beta)"))
		// The stored selector and kubectl's reading of the input agree on pods.
		want, err := labels.Parse(input)
		Expect(err).NotTo(HaveOccurred())
		for _, set := range []labels.Set{
			{"tier": "frontend", "environment": "qa"},
			{"tier": "frontend", "environment": "qa", "track": "beta"},
			{"tier": "frontend", "environment": "qa", "canary": "true"},
			{"tier": "frontend", "environment": "dev"},
			{"tier": "frontend", "environment": "production", "track": "stable"},
		} {
			Expect(sel.Matches(set)).To(Equal(want.Matches(set)), "%v", set)
		}

		_, stderr, code = plugin("create", "frontend", "--selector", input, "-n", ns)
		Expect(code).To(Equal(commands.ExitFailure))
		Expect(stderr).To(ContainSubstring("already exists"))
	})

	It("refuses >, before sending anything", func() {
		ns := newNamespace()
		_, stderr, code := plugin("create", "big", "--selector", "replicas>3", "-n", ns)
		Expect(code).To(Equal(commands.ExitUsage))
		Expect(stderr).To(ContainSubstring(`the operator ">" is not supported`))
		err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "big"}, &v1alpha1.LabelGroup{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue())
	})
})

func ptrTo[T any](v T) *T { return &v }
