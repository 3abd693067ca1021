package manifests

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// restrictedFailures evaluates a pod template with the Pod Security
// admission's own checks at the restricted level of the latest version, as
// a namespace labelled pod-security.kubernetes.io/enforce=restricted would,
// and returns what it forbids.
func restrictedFailures(t *testing.T, template corev1.PodTemplateSpec) []string {
	t.Helper()
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	level := psaapi.LevelVersion{Level: psaapi.LevelRestricted, Version: psaapi.LatestVersion()}
	var forbidden []string
	for _, result := range evaluator.EvaluatePod(level, &template.ObjectMeta, &template.Spec) {
		if !result.Allowed {
			forbidden = append(forbidden, result.ForbiddenReason+": "+result.ForbiddenDetail)
		}
	}
	return forbidden
}

func TestManagerMeetsRestrictedPodSecurity(t *testing.T) {
	for name, objects := range map[string][]object{
		"config/default":       kustomize(t, "config/default"),
		"config/ha":            kustomize(t, "config/ha"),
		"chart":                helmTemplate(t),
		"chart, everything on": helmTemplate(t, everythingOn...),
	} {
		deployment := one[*appsv1.Deployment](t, objects, "Deployment")
		if forbidden := restrictedFailures(t, deployment.Spec.Template); len(forbidden) > 0 {
			t.Errorf("%s: restricted forbids the manager's pod: %s", name, strings.Join(forbidden, "; "))
		}
	}
	// The Namespace kustomize makes enforces restricted.
	ns := only(kustomize(t, "config/default"), "Namespace")[0]
	if got := ns.u.GetLabels()["pod-security.kubernetes.io/enforce"]; got != "restricted" {
		t.Errorf("the Namespace enforces %q; want restricted", got)
	}
}

// The evaluation is not a formality: the host network and a writable,
// root-capable container are refused.
func TestRestrictedPodSecurityRefusesWhatItShould(t *testing.T) {
	shipped := one[*appsv1.Deployment](t, kustomize(t, "config/default"), "Deployment").Spec.Template
	for what, change := range map[string]func(*corev1.PodTemplateSpec){
		"host network":       func(p *corev1.PodTemplateSpec) { p.Spec.HostNetwork = true },
		"no runAsNonRoot":    func(p *corev1.PodTemplateSpec) { p.Spec.SecurityContext.RunAsNonRoot = nil },
		"capabilities kept":  func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].SecurityContext.Capabilities = nil },
		"no seccomp profile": func(p *corev1.PodTemplateSpec) { p.Spec.SecurityContext.SeccompProfile = nil },
	} {
		template := *shipped.DeepCopy()
		change(&template)
		if len(restrictedFailures(t, template)) == 0 {
			t.Errorf("restricted allows the manager's pod with %s", what)
		}
	}
}
