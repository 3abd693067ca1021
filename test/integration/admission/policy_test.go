package admission

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	celgo "github.com/google/cel-go/cel"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	apiruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/admission"
	plugincel "k8s.io/apiserver/pkg/admission/plugin/cel"
	"k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/cel/environment"
	"sigs.k8s.io/yaml"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/test/integration/admissiontest"
)

// admissionDir is config/admission, what `kubectl apply -k` installs.
func admissionDir() string { return admissiontest.ConfigDir("admission") }

// loadAdmission renders config/admission's policy and binding.
func loadAdmission() (*admissionregistrationv1.ValidatingAdmissionPolicy, *admissionregistrationv1.ValidatingAdmissionPolicyBinding, error) {
	return admissiontest.Load(admissionDir())
}

func readYAML(name string, into any) error {
	data, err := os.ReadFile(filepath.Join(admissionDir(), name))
	if err != nil {
		return err
	}
	if err := yaml.UnmarshalStrict(data, into); err != nil {
		return fmt.Errorf("config/admission/%s: %w", name, err)
	}
	return nil
}

// withVariable returns a copy of policy whose variable name has expression
// instead; it fails if there is no such variable.
func withVariable(policy *admissionregistrationv1.ValidatingAdmissionPolicy, name, expression string) *admissionregistrationv1.ValidatingAdmissionPolicy {
	policy = policy.DeepCopy()
	for i := range policy.Spec.Variables {
		if policy.Spec.Variables[i].Name == name {
			policy.Spec.Variables[i].Expression = expression
			return policy
		}
	}
	panic("the policy has no variable " + name)
}

// toUnstructured converts a LabelGroup to the unstructured form the API server
// hands to the policy as object and as params, defaults included.
func toUnstructured(group *v1alpha1.LabelGroup) *unstructured.Unstructured {
	group = group.DeepCopy()
	group.APIVersion = v1alpha1.GroupVersion.String()
	group.Kind = "LabelGroup"
	if group.Spec.OverlapPolicy == "" {
		group.Spec.OverlapPolicy = v1alpha1.OverlapPolicyMembers
	}
	content, err := apiruntime.DefaultUnstructuredConverter.ToUnstructured(group)
	if err != nil {
		panic(err)
	}
	return &unstructured.Unstructured{Object: content}
}

// inProcessPolicy evaluates the policy's CEL with the API server's own
// admission library (k8s.io/apiserver, the version the envtest API server is
// built from), compiled the way its ValidatingAdmissionPolicy plugin compiles
// a policy, so that the cost of each variable can be read: the API server
// enforces the cost limits but reports no cost.
type inProcessPolicy struct {
	variables  []string
	validation plugincel.ConditionEvaluator
	// probes[k] touches variables 0..k-1 in order, then a constant: the
	// difference between probes k+1 and k, less what probing a constant
	// costs (probes[0]), is variable k's own cost. (The matchConditions,
	// which the API server budgets apart, are not evaluated here.)
	probes []plugincel.ConditionEvaluator
}

// costReport is the runtime cost of one evaluation of the policy against one
// param: each variable's own cost, and the validation's total (its
// expression and every variable it evaluated), against the API server's
// limits: celconfig.PerCallLimit per variable or expression,
// celconfig.RuntimeCELCostBudget per evaluation.
type costReport struct {
	Variables map[string]int64
	Total     int64
	Admit     bool
}

// Max returns the name and cost of the costliest variable.
func (r costReport) Max() (string, int64) {
	name, most := "", int64(-1)
	for n, c := range r.Variables {
		if c > most {
			name, most = n, c
		}
	}
	return name, most
}

type probe string

func (p probe) GetExpression() string { return string(p) }

func (probe) ReturnTypes() []*celgo.Type { return []*celgo.Type{celgo.BoolType} }

func newInProcessPolicy(policy *admissionregistrationv1.ValidatingAdmissionPolicy) (*inProcessPolicy, error) {
	compiler, err := plugincel.NewCompositedCompiler(environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion()))
	if err != nil {
		return nil, err
	}
	decls := plugincel.OptionalVariableDeclarations{HasParams: true, HasAuthorizer: true}
	p := &inProcessPolicy{}
	for _, v := range policy.Spec.Variables {
		result := compiler.CompileAndStoreVariable(&validating.Variable{Name: v.Name, Expression: v.Expression}, decls, environment.StoredExpressions)
		if result.Error != nil {
			return nil, fmt.Errorf("variable %s: %w", v.Name, result.Error)
		}
		p.variables = append(p.variables, v.Name)
	}
	const constant = "probeConstant"
	if result := compiler.CompileAndStoreVariable(&validating.Variable{Name: constant, Expression: "0"}, decls, environment.StoredExpressions); result.Error != nil {
		return nil, result.Error
	}
	var validations []plugincel.ExpressionAccessor
	for _, v := range policy.Spec.Validations {
		validations = append(validations, &validating.ValidationCondition{Expression: v.Expression})
	}
	p.validation = compiler.CompileCondition(validations, decls, environment.StoredExpressions)
	for k := 0; k <= len(p.variables); k++ {
		var probes []plugincel.ExpressionAccessor
		for _, name := range append(p.variables[:k:k], constant) {
			probes = append(probes, probe("size([variables."+name+"]) == 1"))
		}
		p.probes = append(p.probes, compiler.CompileCondition(probes, decls, environment.StoredExpressions))
	}
	return p, nil
}

// run evaluates evaluator for object (created) against params, as the API
// server does for one param, and returns its results and their total cost.
func (p *inProcessPolicy) run(evaluator plugincel.ConditionEvaluator, object, params *unstructured.Unstructured) ([]plugincel.EvaluationResult, int64, error) {
	gvk := v1alpha1.GroupVersion.WithKind("LabelGroup")
	attrs := admission.NewAttributesRecord(object, nil, gvk, object.GetNamespace(), object.GetName(),
		v1alpha1.GroupVersion.WithResource("labelgroups"), "", admission.Create, &metav1.CreateOptions{}, false,
		&user.DefaultInfo{Name: "tester"})
	versioned := &admission.VersionedAttributes{Attributes: attrs, VersionedKind: gvk, VersionedObject: admission.NewLazyObject(object)}
	request := plugincel.CreateAdmissionRequest(attrs, metav1.GroupVersionResource(attrs.GetResource()), metav1.GroupVersionKind(gvk))
	request.UserInfo = authenticationv1.UserInfo{Username: "tester"}
	results, remaining, err := evaluator.ForInput(context.Background(), versioned, request,
		plugincel.OptionalVariableBindings{VersionedParams: params}, nil, celconfig.RuntimeCELCostBudget)
	if err != nil {
		return nil, 0, err
	}
	for _, r := range results {
		if r.Error != nil {
			return nil, 0, r.Error
		}
	}
	return results, celconfig.RuntimeCELCostBudget - remaining, nil
}

// evaluate runs the policy's validation for object (created) against params,
// as the API server would for one param, and reports its cost.
func (p *inProcessPolicy) evaluate(object, params *unstructured.Unstructured) (costReport, error) {
	report := costReport{Variables: map[string]int64{}}
	results, total, err := p.run(p.validation, object, params)
	if err != nil {
		return report, err
	}
	report.Total = total
	report.Admit = results[0].EvalResult.Value() == true
	_, overhead, err := p.run(p.probes[0], object, params)
	if err != nil {
		return report, err
	}
	previous := overhead
	for k, name := range p.variables {
		_, cost, err := p.run(p.probes[k+1], object, params)
		if err != nil {
			return report, fmt.Errorf("variable %s: %w", name, err)
		}
		// Probe k+1 evaluates variable k and one more probe than probe k.
		report.Variables[name] = cost - previous - overhead
		previous = cost
	}
	return report, nil
}
