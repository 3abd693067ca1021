//go:build e2e

package e2e

import (
	"bytes"
	"errors"
	"os/exec"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/test/builders"
)

// kubectlOutput runs kubectl like kubectl does, and returns its stdout too.
func kubectlOutput(stdin string, args ...string) (stdout, stderr string, err error) {
	cmd := exec.CommandContext(ctx, "kubectl", args...)
	cmd.Dir = repoRoot
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// exitCode is the exit code of a command that ran, 0 if err is nil.
func exitCode(err error) int {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return 0
}

// requirements are a selector's requirements in a form where kubectl's
// spellings of one requirement compare equal: = and == as in, != as notin.
func requirements(s string) []string {
	sel, err := labels.Parse(s)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	reqs, _ := sel.Requirements()
	var out []string
	for _, r := range reqs {
		op := r.Operator()
		switch op {
		case selection.Equals, selection.DoubleEquals:
			op = selection.In
		case selection.NotEquals:
			op = selection.NotIn
		}
		out = append(out, r.Key()+" "+string(op)+" "+strings.Join(r.Values().List(), ","))
	}
	slices.Sort(out)
	return out
}

var _ = Describe("kubectl labelgroup, the plugin on PATH", Ordered, func() {
	BeforeAll(func() {
		_, err := exec.LookPath("kubectl-labelgroup")
		Expect(err).NotTo(HaveOccurred(), "kubectl-labelgroup must be on PATH: make test-e2e builds it into bin/ and puts bin/ on PATH")
		stdout, _, err := kubectlOutput("", "plugin", "list", "--name-only")
		Expect(err).NotTo(HaveOccurred())
		Expect(stdout).To(ContainSubstring("kubectl-labelgroup"))
	})

	It("creates a group whose status.selector, written by the operator, reads as the same requirements", func() {
		ns := newNamespace()
		const input = "tier=frontend,environment in (production,qa),!canary,track!=beta"
		stdout, stderr, err := kubectlOutput("", "labelgroup", "create", "frontend", "--selector", input, "-n", ns)
		Expect(err).NotTo(HaveOccurred(), stderr)
		Expect(stdout).To(Equal("labelgroup.grouping.labelgroup.io/frontend created\n"))

		Eventually(func(g Gomega) []string {
			var group v1alpha1.LabelGroup
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "frontend"}, &group)).To(Succeed())
			g.Expect(group.Status.Selector).NotTo(BeEmpty())
			return requirements(group.Status.Selector)
		}).WithTimeout(statusTimeout).WithPolling(pollInterval).Should(Equal(requirements(input)))

		_, stderr, err = kubectlOutput("", "labelgroup", "create", "gt", "--selector", "replicas>3", "-n", ns)
		Expect(exitCode(err)).To(Equal(2))
		Expect(stderr).To(ContainSubstring(`the operator ">" is not supported`))
	})

	It("finds who selects a running cluster's pod, and lints what the cluster holds", func() {
		ns := newNamespace()
		createIn(ns,
			builders.MakePod("web-1").Label("tier", "frontend").Label("environment", "production").Obj(),
			builders.MakeGroup("frontend").Label("tier", "frontend").Obj(),
			builders.MakeGroup("production").Label("environment", "production").Obj(),
			builders.MakeGroup("backend").Label("tier", "backend").Obj(),
		)
		stdout, stderr, err := kubectlOutput("", "labelgroup", "who-selects", "pod/web-1", "-n", ns)
		Expect(err).NotTo(HaveOccurred(), stderr)
		Expect(stdout).To(Equal(`KIND         NAME         SELECTOR
LabelGroup   frontend     tier=frontend
LabelGroup   production   environment=production
`))

		// kubectl get -o yaml prints a List; lint reads it from stdin.
		groupsAndPods, stderr, err := kubectlOutput("", "get", "labelgroups,pods", "-n", ns, "-o", "yaml")
		Expect(err).NotTo(HaveOccurred(), stderr)
		stdout, stderr, err = kubectlOutput(groupsAndPods, "labelgroup", "lint", "-f", "-", "-o", "json")
		Expect(exitCode(err)).To(Equal(0), stderr)
		Expect(stdout).To(ContainSubstring(`"message": "Pod web-1 would be members of both frontend and production"`))
		_, _, err = kubectlOutput(groupsAndPods, "labelgroup", "lint", "-f", "-", "--fail-on", "warning")
		Expect(exitCode(err)).To(Equal(1))
	})

	It("lints what kustomize renders, as the README's CI step does", func() {
		rendered, stderr, err := kubectlOutput("", "kustomize", "config/default")
		Expect(err).NotTo(HaveOccurred(), stderr)
		stdout, stderr, err := kubectlOutput(rendered, "labelgroup", "lint", "-f", "-", "-o", "junit")
		Expect(exitCode(err)).To(Equal(0), stderr)
		Expect(stdout).To(HavePrefix(`<?xml version="1.0" encoding="UTF-8"?>`))
		Expect(stdout).To(MatchRegexp(`<testsuite name="kubectl-labelgroup lint" tests="[1-9][0-9]*" failures="0"`))
		Expect(stdout).To(ContainSubstring(`<testcase name="CustomResourceDefinition labelgroups.grouping.labelgroup.io"`))

		invalid := rendered + "\n---\napiVersion: grouping.labelgroup.io/v1alpha1\nkind: LabelGroup\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchExpressions: [{key: tier, operator: in, values: [web]}]}\n"
		stdout, _, err = kubectlOutput(invalid, "labelgroup", "lint", "-f", "-", "-o", "junit")
		Expect(exitCode(err)).To(Equal(1))
		Expect(stdout).To(ContainSubstring(`failures="1"`))
		Expect(stdout).To(ContainSubstring(`type="invalid"`))
	})
})
