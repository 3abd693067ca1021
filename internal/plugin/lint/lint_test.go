package lint

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/labelgroup/labelgroup-operator/config/crd"
	"github.com/labelgroup/labelgroup-operator/internal/crdvalidation"
	"github.com/labelgroup/labelgroup-operator/internal/crdvalidation/corpus"
	"github.com/labelgroup/labelgroup-operator/internal/plugin/manifest"
)

// Builders of test manifests, one document each.

func lgDoc(name, selectorYAML string) string {
	return fmt.Sprintf("apiVersion: grouping.labelgroup.io/v1alpha1\nkind: LabelGroup\nmetadata: {name: %s}\nspec:\n  selector: %s\n", name, selectorYAML)
}

func strictGroup(name, selectorYAML string) string {
	return lgDoc(name, selectorYAML) + "  overlapPolicy: Selectors\n"
}

func inNamespace(doc, namespace string) string {
	return strings.Replace(doc, "metadata: {name: ", "metadata: {namespace: "+namespace+", name: ", 1)
}

func pod(name, labels string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: %s, labels: %s}\n", name, labels)
}

// templated is a controller of kind at apiVersion whose pod template carries labels.
func templated(apiVersion, kind, name, labels string) string {
	return fmt.Sprintf("apiVersion: %s\nkind: %s\nmetadata: {name: %s}\nspec:\n  template:\n    metadata: {labels: %s}\n", apiVersion, kind, name, labels)
}

func cronJob(name, labels string) string {
	return fmt.Sprintf("apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: %s}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        metadata: {labels: %s}\n", name, labels)
}

func pdb(name, selectorYAML string) string {
	doc := fmt.Sprintf("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: %s}\nspec:\n  minAvailable: 1\n", name)
	if selectorYAML != "" {
		doc += "  selector: " + selectorYAML + "\n"
	}
	return doc
}

func stream(docs ...string) string { return strings.Join(docs, "---\n") }

// brief is a finding as the tables write it: rule kind/name -> related names.
func brief(f Finding) string {
	var related []string
	for _, r := range f.Related {
		related = append(related, r.Name)
	}
	s := fmt.Sprintf("%s %s %s/%s/%s", f.Severity, f.Rule, f.Namespace, f.Kind, f.Name)
	if len(related) > 0 {
		s += " -> " + strings.Join(related, ",")
	}
	return s
}

func lintStream(t *testing.T, input string) []Finding {
	t.Helper()
	objects, err := manifest.Read([]string{manifest.Stdin}, strings.NewReader(input), "default")
	if err != nil {
		t.Fatal(err)
	}
	validator, err := crdvalidation.New(crd.Bases)
	if err != nil {
		t.Fatal(err)
	}
	return New(validator).Lint(objects)
}

const (
	frontend   = "{matchLabels: {tier: frontend}}"
	production = "{matchLabels: {environment: production}}"
	both       = "{tier: frontend, environment: production}"
)

func TestRules(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		// invalid
		{"invalid: lower-case operator", lgDoc("web", "{matchExpressions: [{key: tier, operator: in, values: [web]}]}"),
			[]string{"error invalid default/LabelGroup/web"}},
		{"invalid: unknown field", lgDoc("web", "{matchLabel: {tier: web}}"),
			[]string{"error invalid default/LabelGroup/web"}},
		{"invalid: a version the CRD does not serve", strings.Replace(lgDoc("web", "{}"), "v1alpha1", "v1beta1", 1),
			[]string{"error invalid default/LabelGroup/web"}},
		{"valid: every operator", lgDoc("web", "{matchExpressions: [{key: a, operator: In, values: [x]}, {key: b, operator: NotIn, values: [z]}, {key: c, operator: Exists}, {key: d, operator: DoesNotExist}]}"),
			nil},
		{"invalid: an unquoted y is a YAML 1.1 boolean, as kubectl reads it", lgDoc("web", "{matchExpressions: [{key: b, operator: NotIn, values: [y]}]}"),
			[]string{"error invalid default/LabelGroup/web"}},
		{"not ours: a LabelGroup of another API group", strings.Replace(lgDoc("web", "{bogus: 1}"), "grouping.labelgroup.io", "example.com", 1),
			nil},

		// unsatisfiable
		{"unsatisfiable: In and DoesNotExist on one key", lgDoc("never", "{matchExpressions: [{key: tier, operator: In, values: [a]}, {key: tier, operator: DoesNotExist}]}"),
			[]string{"warning unsatisfiable default/LabelGroup/never"}},
		{"unsatisfiable: two different values", lgDoc("never", "{matchLabels: {tier: a}, matchExpressions: [{key: tier, operator: In, values: [b]}]}"),
			[]string{"warning unsatisfiable default/LabelGroup/never"}},
		{"satisfiable: NotIn and DoesNotExist on one key", lgDoc("fine", "{matchExpressions: [{key: tier, operator: NotIn, values: [a]}, {key: tier, operator: DoesNotExist}]}"),
			nil},

		// overlap, Selectors policy
		{"overlap: Selectors groups whose selectors intersect", stream(strictGroup("a", frontend), lgDoc("b", production)),
			[]string{"warning overlap default/LabelGroup/a -> b"}},
		{"overlap: only the Selectors side reports it", stream(lgDoc("a", frontend), strictGroup("b", production)),
			[]string{"warning overlap default/LabelGroup/b -> a"}},
		{"overlap: both Selectors, one finding", stream(strictGroup("a", frontend), strictGroup("b", production)),
			[]string{"warning overlap default/LabelGroup/a -> b"}},
		{"no overlap: Selectors groups with disjoint selectors", stream(strictGroup("a", frontend), strictGroup("b", "{matchLabels: {tier: backend}}")),
			nil},
		{"no overlap: NotIn against DoesNotExist intersect, so Selectors must say so", stream(strictGroup("a", "{matchExpressions: [{key: t, operator: NotIn, values: [x]}]}"), lgDoc("b", "{matchExpressions: [{key: t, operator: DoesNotExist}]}")),
			[]string{"warning overlap default/LabelGroup/a -> b"}},
		{"no overlap: Members groups with intersecting selectors and no workload", stream(lgDoc("a", frontend), lgDoc("b", production)),
			nil},
		{"no overlap: groups of different namespaces", stream(strictGroup("a", frontend), inNamespace(strictGroup("b", production), "other")),
			nil},
		{"no overlap: an invalid group takes no part", stream(strictGroup("a", frontend), strictGroup("b", "{matchLabels: {tier: web-}}")),
			[]string{"error invalid default/LabelGroup/b"}},

		// overlap, Members policy, from each kind of workload
		{"overlap: a Pod in both", stream(lgDoc("a", frontend), lgDoc("b", production), pod("web-1", both)),
			[]string{"warning overlap default/LabelGroup/a -> b"}},
		{"overlap: a Deployment's pods in both", stream(lgDoc("a", frontend), lgDoc("b", production), templated("apps/v1", "Deployment", "web", both)),
			[]string{"warning overlap default/LabelGroup/a -> b"}},
		{"overlap: a StatefulSet's pods in both", stream(lgDoc("a", frontend), lgDoc("b", production), templated("apps/v1", "StatefulSet", "web", both)),
			[]string{"warning overlap default/LabelGroup/a -> b"}},
		{"overlap: a DaemonSet's pods in both", stream(lgDoc("a", frontend), lgDoc("b", production), templated("apps/v1", "DaemonSet", "web", both)),
			[]string{"warning overlap default/LabelGroup/a -> b"}},
		{"overlap: a ReplicaSet's pods in both", stream(lgDoc("a", frontend), lgDoc("b", production), templated("apps/v1", "ReplicaSet", "web", both)),
			[]string{"warning overlap default/LabelGroup/a -> b"}},
		{"overlap: a Job's pods in both", stream(lgDoc("a", frontend), lgDoc("b", production), templated("batch/v1", "Job", "web", both)),
			[]string{"warning overlap default/LabelGroup/a -> b"}},
		{"overlap: a CronJob's pods in both", stream(lgDoc("a", frontend), lgDoc("b", production), cronJob("web", both)),
			[]string{"warning overlap default/LabelGroup/a -> b"}},
		{"no overlap: each workload in one group", stream(lgDoc("a", frontend), lgDoc("b", production), pod("web", "{tier: frontend}"), templated("apps/v1", "Deployment", "db", "{environment: production}")),
			nil},
		{"no overlap: the shared workload is in another namespace", stream(lgDoc("a", frontend), lgDoc("b", production), inNamespace(templated("apps/v1", "Deployment", "web", both), "other")),
			nil},
		{"no overlap: a kind that makes no pods", stream(lgDoc("a", frontend), lgDoc("b", production), templated("v1", "PodTemplate", "web", both)),
			nil},

		// pdb-overlap
		{"pdb-overlap: two budgets over one Deployment's pods", stream(pdb("a", frontend), pdb("b", production), templated("apps/v1", "Deployment", "web", both)),
			[]string{"error pdb-overlap default/PodDisruptionBudget/a -> b"}},
		{"pdb-overlap: the empty selector covers every pod", stream(pdb("all", "{}"), pdb("b", production), pod("web-1", both)),
			[]string{"error pdb-overlap default/PodDisruptionBudget/all -> b"}},
		{"no pdb-overlap: a null selector covers no pod", stream(pdb("none", ""), pdb("b", production), pod("web-1", both)),
			nil},
		{"no pdb-overlap: each budget over its own workload", stream(pdb("a", frontend), pdb("b", production), pod("web", "{tier: frontend}"), pod("db", "{environment: production}")),
			nil},
		{"no pdb-overlap: intersecting selectors but no workload in both", stream(pdb("a", frontend), pdb("b", production)),
			nil},
		{"no pdb-overlap: budgets of different namespaces", stream(pdb("a", frontend), inNamespace(pdb("b", production), "other"), pod("web-1", both), inNamespace(pod("web-1", both), "other")),
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, f := range lintStream(t, tt.input) {
				got = append(got, brief(f))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("findings:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

func TestMessages(t *testing.T) {
	tests := []struct {
		name, input, want string
	}{
		{"Members overlap names the workload", stream(lgDoc("frontend", frontend), lgDoc("production", production), templated("apps/v1", "Deployment", "web", both)),
			"Deployment web's pods would be members of both frontend and production"},
		{"Members overlap names a Pod as such", stream(lgDoc("frontend", frontend), lgDoc("production", production), pod("web-1", both)),
			"Pod web-1 would be members of both frontend and production"},
		{"Members overlap lists at most three workloads", stream(lgDoc("frontend", frontend), lgDoc("production", production),
			pod("p1", both), pod("p2", both), pod("p3", both), pod("p4", both), pod("p5", both)),
			"Pod p1, Pod p2, Pod p3 and 2 more would be members of both frontend and production"},
		{"Selectors overlap shows both selectors", stream(strictGroup("canary", "{matchLabels: {release: canary}}"), lgDoc("frontend", frontend)),
			"the selectors of canary (release=canary) and frontend (tier=frontend) could select the same pod, and the overlapPolicy of canary is Selectors"},
		{"Selectors overlap shows the empty selector", stream(strictGroup("all", "{}"), lgDoc("frontend", frontend)),
			"the selectors of all ({}) and frontend (tier=frontend) could select the same pod, and the overlapPolicy of all is Selectors"},
		{"unsatisfiable names the key", lgDoc("never", "{matchExpressions: [{key: tier, operator: In, values: [a]}, {key: tier, operator: DoesNotExist}, {key: env, operator: Exists}]}"),
			"the selector can never select a pod: on key tier, !tier and tier in (a) contradict each other"},
		{"pdb-overlap says why it matters", stream(pdb("a", frontend), pdb("b", production), templated("apps/v1", "StatefulSet", "db", both)),
			"PodDisruptionBudgets a and b both select StatefulSet db's pods: the eviction API refuses to evict a pod that more than one PodDisruptionBudget covers, so node drains and autoscalers stall"},
		{"invalid is the API server's message", lgDoc("web", "{matchExpressions: [{key: tier, operator: In}]}"),
			`LabelGroup.grouping.labelgroup.io "web" is invalid: spec.selector.matchExpressions[0].values: Invalid value: values must be non-empty when operator is In or NotIn`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			findings := lintStream(t, tt.input)
			if len(findings) != 1 {
				t.Fatalf("want one finding, got %v", findings)
			}
			if findings[0].Message != tt.want {
				t.Errorf("message\n  %s\nwant\n  %s", findings[0].Message, tt.want)
			}
		})
	}
}

// Every LabelGroup the API server refuses is an invalid finding; none that it
// accepts is.
func TestInvalidMatchesTheCorpus(t *testing.T) {
	validator, err := crdvalidation.New(crd.Bases)
	if err != nil {
		t.Fatal(err)
	}
	linter := New(validator)
	check := func(name, specYAML string, wantInvalid bool) {
		t.Helper()
		obj, err := corpus.LabelGroup(name, specYAML)
		if err != nil {
			t.Fatal(err)
		}
		findings := linter.Lint([]manifest.Object{{Unstructured: obj}})
		invalid := slices.ContainsFunc(findings, func(f Finding) bool { return f.Rule == RuleInvalid })
		if invalid != wantInvalid {
			t.Errorf("%s: invalid = %v, want %v (%v)", specYAML, invalid, wantInvalid, findings)
		}
	}
	for _, c := range corpus.Refused {
		check("invalid", c.SpecYAML, true)
	}
	for _, c := range corpus.Accepted {
		check("valid", c.SpecYAML, false)
	}
}

func TestFindingsAreOrderedByFileAndDocument(t *testing.T) {
	findings := lintStream(t, stream(lgDoc("z", "{matchLabels: {a: x, b: y}, matchExpressions: [{key: a, operator: DoesNotExist}]}"), lgDoc("a", "{matchLabels: {c: \"-\"}}")))
	if len(findings) != 2 || findings[0].Name != "z" || findings[1].Name != "a" {
		t.Fatalf("want z (document 1) then a (document 2), got %v", findings)
	}
	if findings[0].Source.Document != 1 || findings[1].Source.Line != 7 {
		t.Errorf("sources %v and %v", findings[0].Source, findings[1].Source)
	}
}

func TestSeverityReaches(t *testing.T) {
	for _, tt := range []struct {
		s, threshold Severity
		want         bool
	}{
		{SeverityError, SeverityError, true},
		{SeverityWarning, SeverityError, false},
		{SeverityError, SeverityWarning, true},
		{SeverityWarning, SeverityWarning, true},
		{SeverityInfo, SeverityWarning, false},
		{SeverityInfo, SeverityInfo, true},
	} {
		if got := tt.s.Reaches(tt.threshold); got != tt.want {
			t.Errorf("%s.Reaches(%s) = %v", tt.s, tt.threshold, got)
		}
	}
}
