// Package lint checks Kubernetes manifests for LabelGroup problems before
// they reach a cluster: LabelGroups the API server would refuse, groups that
// overlap, PodDisruptionBudgets that cover the same pods, and selectors that
// can never select anything. Its rules are pure functions of the objects read;
// the selector algebra and the grouping engine are the operator's own.
package lint

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/crdvalidation"
	"github.com/labelgroup/labelgroup-operator/internal/grouping"
	"github.com/labelgroup/labelgroup-operator/internal/plugin/manifest"
	"github.com/labelgroup/labelgroup-operator/internal/plugin/objects"
	"github.com/labelgroup/labelgroup-operator/internal/selector"
)

// Severity is how bad a finding is.
type Severity string

// The severities, from worst to mildest.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityInfo    Severity = "info"
)

// rank orders severities: the higher, the worse; 0 for an unknown one.
func (s Severity) rank() int {
	switch s {
	case SeverityError:
		return 3
	case SeverityWarning:
		return 2
	case SeverityInfo:
		return 1
	}
	return 0
}

// Reaches reports whether s is at least as bad as threshold.
func (s Severity) Reaches(threshold Severity) bool { return s.rank() >= threshold.rank() }

// Rule is the id of a lint rule.
type Rule string

// The rules.
const (
	// RuleInvalid (error): the API server would refuse the LabelGroup.
	RuleInvalid Rule = "invalid"
	// RuleOverlap (warning): two LabelGroups of a namespace overlap under the
	// policy of one of them.
	RuleOverlap Rule = "overlap"
	// RulePDBOverlap (error): two PodDisruptionBudgets select the same
	// workload's pods, so the eviction API refuses to evict them.
	RulePDBOverlap Rule = "pdb-overlap"
	// RuleUnsatisfiable (warning): a LabelGroup's selector can never select a pod.
	RuleUnsatisfiable Rule = "unsatisfiable"
)

// Ref names another object a finding is about.
type Ref struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// Finding is one problem, on one object, with where the object was read.
type Finding struct {
	Severity  Severity `json:"severity"`
	Rule      Rule     `json:"rule"`
	Namespace string   `json:"namespace"`
	Kind      string   `json:"kind"`
	Name      string   `json:"name"`
	Message   string   `json:"message"`
	File      string   `json:"file"`
	Related   []Ref    `json:"related"`
	// Source is where the object was read: File, with document and line.
	Source manifest.Source `json:"-"`
}

// Linter runs the rules, validating LabelGroups with a CRD validator.
type Linter struct {
	validator *crdvalidation.Validator
}

// New returns a Linter that validates LabelGroups with validator.
func New(validator *crdvalidation.Validator) *Linter {
	return &Linter{validator: validator}
}

// group is a LabelGroup that passed validation.
type group struct {
	obj  manifest.Object
	spec v1alpha1.LabelGroupSpec
}

// budget is a PodDisruptionBudget with a selector.
type budget struct {
	obj      manifest.Object
	selector v1alpha1.LabelSelector
}

// Lint returns every finding on objects, ordered by file, document and rule.
func (l *Linter) Lint(read []manifest.Object) []Finding {
	var findings []Finding
	groups := map[string][]group{}
	budgets := map[string][]budget{}
	workloads := map[string][]objects.Workload{}
	for _, obj := range read {
		ns := obj.GetNamespace()
		switch {
		case isLabelGroup(obj.Unstructured):
			g, finding, ok := l.checkGroup(obj)
			if finding != nil {
				findings = append(findings, *finding)
			}
			if ok {
				groups[ns] = append(groups[ns], g)
			}
		case isPodDisruptionBudget(obj.Unstructured):
			if b, ok := budgetOf(obj); ok {
				budgets[ns] = append(budgets[ns], b)
			}
		}
		if w, ok := objects.WorkloadOf(obj.Unstructured); ok {
			workloads[ns] = append(workloads[ns], w)
		}
	}
	namespaces := slices.Sorted(maps.Keys(groups))
	for _, ns := range namespaces {
		findings = append(findings, overlapFindings(groups[ns], workloads[ns])...)
	}
	for _, ns := range slices.Sorted(maps.Keys(budgets)) {
		findings = append(findings, budgetOverlapFindings(budgets[ns], workloads[ns])...)
	}
	slices.SortStableFunc(findings, func(a, b Finding) int {
		return cmp.Or(
			strings.Compare(a.Source.File, b.Source.File),
			cmp.Compare(a.Source.Document, b.Source.Document),
			strings.Compare(a.Name, b.Name),
			strings.Compare(string(a.Rule), string(b.Rule)),
		)
	})
	return findings
}

func isLabelGroup(obj *unstructured.Unstructured) bool {
	gvk := obj.GroupVersionKind()
	return gvk.Group == v1alpha1.GroupVersion.Group && gvk.Kind == "LabelGroup"
}

func isPodDisruptionBudget(obj *unstructured.Unstructured) bool {
	gvk := obj.GroupVersionKind()
	return gvk.Group == "policy" && gvk.Kind == "PodDisruptionBudget"
}

// checkGroup validates a LabelGroup and checks that its selector can select
// something. ok is false when the group is invalid and takes no further part.
func (l *Linter) checkGroup(obj manifest.Object) (g group, finding *Finding, ok bool) {
	stored, err := l.validator.Validate(obj.Unstructured)
	if err != nil {
		f := newFinding(SeverityError, RuleInvalid, obj, err.Error())
		return group{}, &f, false
	}
	// The rest judges the group as the API server would store it: nulls
	// pruned, defaults set.
	var lg v1alpha1.LabelGroup
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(stored.Object, &lg); err != nil {
		// The validator accepted it, so the API server would store it; a
		// failure here is a bug of this package, said as such.
		f := newFinding(SeverityError, RuleInvalid, obj, "cannot read the LabelGroup: "+err.Error())
		return group{}, &f, false
	}
	g = group{obj: obj, spec: lg.Spec}
	sel, err := selector.ToLabelsSelector(lg.Spec.Selector)
	if err != nil {
		f := newFinding(SeverityError, RuleInvalid, obj, "spec.selector: "+err.Error())
		return group{}, &f, false
	}
	if !selector.Satisfiable(sel) {
		f := newFinding(SeverityWarning, RuleUnsatisfiable, obj, unsatisfiableMessage(sel))
		return g, &f, true
	}
	return g, nil, true
}

// unsatisfiableMessage names the keys whose requirements contradict each other.
func unsatisfiableMessage(sel labels.Selector) string {
	reqs, _ := sel.Requirements()
	byKey := map[string][]labels.Requirement{}
	for _, r := range reqs {
		byKey[r.Key()] = append(byKey[r.Key()], r)
	}
	var contradictions []string
	for _, key := range slices.Sorted(maps.Keys(byKey)) {
		if !selector.Satisfiable(labels.NewSelector().Add(byKey[key]...)) {
			texts := make([]string, len(byKey[key]))
			for i, r := range byKey[key] {
				texts[i] = r.String()
			}
			contradictions = append(contradictions, fmt.Sprintf("on key %s, %s contradict each other", key, strings.Join(texts, " and ")))
		}
	}
	return "the selector can never select a pod: " + strings.Join(contradictions, "; ")
}

// budgetOf reads a PodDisruptionBudget's selector. A budget without one
// selects no pod and is left out.
func budgetOf(obj manifest.Object) (budget, bool) {
	raw, found, err := unstructured.NestedMap(obj.Object, "spec", "selector")
	if !found || err != nil {
		return budget{}, false
	}
	var sel metav1.LabelSelector
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &sel); err != nil {
		return budget{}, false
	}
	return budget{obj: obj, selector: selector.FromMetav1(&sel)}, true
}

// overlapFindings reports the LabelGroups of one namespace that overlap under
// the policy of at least one of the two, predicting membership from the
// workloads of the namespace. Each overlapping pair gives one finding, on the
// group whose policy counts it (the first by name when both do).
func overlapFindings(groups []group, workloads []objects.Workload) []Finding {
	engineGroups := make([]grouping.Group, len(groups))
	for i, g := range groups {
		engineGroups[i] = grouping.Group{Name: g.obj.GetName(), Selector: g.spec.Selector, Policy: g.spec.OverlapPolicy}
	}
	results, byKey := compute(engineGroups, workloads)
	var findings []Finding
	for _, p := range overlappingPairs(results) {
		a, b := groups[p.reporter], groups[p.other]
		var message string
		if shared := sharedMembers(results[p.reporter], results[p.other], byKey); len(shared) > 0 {
			message = fmt.Sprintf("%s would be members of both %s and %s", describe(shared), a.obj.GetName(), b.obj.GetName())
		} else {
			message = fmt.Sprintf("the selectors of %s (%s) and %s (%s) could select the same pod, and the overlapPolicy of %s is Selectors",
				a.obj.GetName(), displaySelector(results[p.reporter]), b.obj.GetName(), displaySelector(results[p.other]), a.obj.GetName())
		}
		f := newFinding(SeverityWarning, RuleOverlap, a.obj, message)
		f.Related = []Ref{{Kind: "LabelGroup", Name: b.obj.GetName()}}
		findings = append(findings, f)
	}
	return findings
}

// budgetOverlapFindings reports the PodDisruptionBudgets of one namespace
// that select the same workload's pods.
func budgetOverlapFindings(budgets []budget, workloads []objects.Workload) []Finding {
	engineGroups := make([]grouping.Group, len(budgets))
	for i, b := range budgets {
		engineGroups[i] = grouping.Group{Name: b.obj.GetName(), Selector: b.selector, Policy: v1alpha1.OverlapPolicyMembers}
	}
	results, byKey := compute(engineGroups, workloads)
	var findings []Finding
	for _, p := range overlappingPairs(results) {
		a, b := budgets[p.reporter], budgets[p.other]
		shared := sharedMembers(results[p.reporter], results[p.other], byKey)
		f := newFinding(SeverityError, RulePDBOverlap, a.obj, fmt.Sprintf(
			"PodDisruptionBudgets %s and %s both select %s: the eviction API refuses to evict a pod that more than one PodDisruptionBudget covers, so node drains and autoscalers stall",
			a.obj.GetName(), b.obj.GetName(), describe(shared)))
		f.Related = []Ref{{Kind: "PodDisruptionBudget", Name: b.obj.GetName()}}
		findings = append(findings, f)
	}
	return findings
}

// compute runs the grouping engine over the workloads as pods, listing every
// member, and returns the results and the workloads by engine pod name.
func compute(groups []grouping.Group, workloads []objects.Workload) ([]grouping.Result, map[string]objects.Workload) {
	pods := make([]grouping.Pod, len(workloads))
	byKey := make(map[string]objects.Workload, len(workloads))
	for i, w := range workloads {
		pods[i] = grouping.Pod{Name: w.Key(), Labels: w.PodLabels}
		byKey[w.Key()] = w
	}
	return grouping.Compute(pods, groups, len(pods)), byKey
}

// pair is two overlapping groups by index: reporter counts the overlap under
// its policy.
type pair struct{ reporter, other int }

// overlappingPairs returns each overlapping pair once, in index order.
func overlappingPairs(results []grouping.Result) []pair {
	index := map[string]int{}
	for i := len(results) - 1; i >= 0; i-- {
		index[results[i].Name] = i
	}
	lists := func(i, j int) bool {
		return slices.ContainsFunc(results[i].Overlaps, func(o v1alpha1.Overlap) bool { return index[o.Name] == j })
	}
	var pairs []pair
	for i := range results {
		for _, o := range results[i].Overlaps {
			j := index[o.Name]
			switch {
			case j > i:
				pairs = append(pairs, pair{reporter: i, other: j})
			case j < i && !lists(j, i):
				pairs = append(pairs, pair{reporter: i, other: j})
			}
		}
	}
	slices.SortStableFunc(pairs, func(x, y pair) int {
		return cmp.Or(cmp.Compare(min(x.reporter, x.other), min(y.reporter, y.other)), cmp.Compare(max(x.reporter, x.other), max(y.reporter, y.other)))
	})
	return pairs
}

// sharedMembers returns the workloads that are members of both results.
func sharedMembers(a, b grouping.Result, byKey map[string]objects.Workload) []objects.Workload {
	var shared []objects.Workload
	for _, name := range a.Members {
		if slices.Contains(b.Members, name) {
			shared = append(shared, byKey[name])
		}
	}
	return shared
}

// maxListed is the most workloads a message names.
const maxListed = 3

// describe lists workloads for a message: "Deployment web's pods",
// "Deployment web's pods and Pod api-1", "A, B, C and 2 more".
func describe(workloads []objects.Workload) string {
	names := make([]string, 0, maxListed+1)
	for i, w := range workloads {
		if i == maxListed {
			names = append(names, fmt.Sprintf("%d more", len(workloads)-maxListed))
			break
		}
		names = append(names, w.Pods())
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// displaySelector is a result's selector as kubectl -l writes it, or "{}"
// for the empty selector, which selects every pod.
func displaySelector(r grouping.Result) string {
	if r.Selector == "" {
		return "{}"
	}
	return r.Selector
}

func newFinding(severity Severity, rule Rule, obj manifest.Object, message string) Finding {
	return Finding{
		Severity:  severity,
		Rule:      rule,
		Namespace: obj.GetNamespace(),
		Kind:      obj.GetKind(),
		Name:      obj.GetName(),
		Message:   message,
		File:      obj.Source.File,
		Related:   []Ref{},
		Source:    obj.Source,
	}
}
