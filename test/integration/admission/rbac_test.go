package admission

import (
	"slices"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// installerClient returns a client acting as user, bound to a ClusterRole
// with rules.
func installerClient(user string, rules []rbacv1.PolicyRule) client.Client {
	c, err := client.New(testEnv.ConfigAs(ctx, user, rules), client.Options{Scheme: testEnv.Scheme})
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return c
}

var _ = Describe("Installing the policy", func() {
	var role rbacv1.ClusterRole
	BeforeEach(func() {
		Expect(readYAML("installer_role.yaml", &role)).To(Succeed())
	})

	It("takes no more than config/admission/installer_role.yaml", func() {
		installer := installerClient("installer", role.Rules)
		policy, binding, err := loadAdmission()
		Expect(err).NotTo(HaveOccurred())
		// Under other names: the suite's copy is installed already.
		policy.Name, binding.Name, binding.Spec.PolicyName = "by-installer", "by-installer", "by-installer"
		Expect(installer.Create(ctx, policy)).To(Succeed())
		Expect(installer.Create(ctx, binding)).To(Succeed())
		Expect(installer.Delete(ctx, binding)).To(Succeed())
		Expect(installer.Delete(ctx, policy)).To(Succeed())
	})

	// without returns the installer's rules with verb removed from the rule on
	// LabelGroups.
	without := func(verb string) []rbacv1.PolicyRule {
		var rules []rbacv1.PolicyRule
		for _, rule := range role.Rules {
			rule = *rule.DeepCopy()
			if rule.APIGroups[0] == "grouping.labelgroup.io" {
				rule.Verbs = slices.DeleteFunc(rule.Verbs, func(v string) bool { return v == verb })
			}
			rules = append(rules, rule)
		}
		return rules
	}

	It("needs to get LabelGroups to create the policy", func() {
		installer := installerClient("installer-without-get", without("get"))
		policy, _, err := loadAdmission()
		Expect(err).NotTo(HaveOccurred())
		policy.Name = "without-get"
		Expect(installer.Create(ctx, policy)).To(MatchError(ContainSubstring(
			`spec.paramKind: Forbidden: user &{installer-without-get  [system:authenticated] map[]} must have "get" permission on all objects of the referenced paramKind`)))
	})

	It("needs to list LabelGroups to create the binding", func() {
		installer := installerClient("installer-without-list", without("list"))
		policy, binding, err := loadAdmission()
		Expect(err).NotTo(HaveOccurred())
		policy.Name, binding.Name, binding.Spec.PolicyName = "without-list", "without-list", "without-list"
		Expect(installer.Create(ctx, policy)).To(Succeed())
		DeferCleanup(func() { Expect(installer.Delete(ctx, policy)).To(Succeed()) })
		Expect(installer.Create(ctx, binding)).To(MatchError(ContainSubstring(
			`spec.paramRef: Forbidden: user &{installer-without-list  [system:authenticated] map[]} does not have "list" permission on the object referenced by paramRef`)))
	})
})
