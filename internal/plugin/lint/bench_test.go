package lint

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/labelgroup/labelgroup-operator/config/crd"
	"github.com/labelgroup/labelgroup-operator/internal/crdvalidation"
	"github.com/labelgroup/labelgroup-operator/internal/grouping"
	"github.com/labelgroup/labelgroup-operator/internal/plugin/manifest"
	"github.com/labelgroup/labelgroup-operator/internal/plugin/objects"
)

// benchmarkInput is one namespace of a large repository: groups (a quarter
// with policy Selectors), Deployments and PodDisruptionBudgets over a few
// label keys, as YAML.
func benchmarkInput(groups, deployments, budgets int) string {
	rng := rand.New(rand.NewPCG(7, 8))
	value := func(key string) string { return fmt.Sprintf("%s%d", key, rng.IntN(10)) }
	var docs []string
	for i := range groups {
		doc := lgDoc(fmt.Sprintf("g%d", i), fmt.Sprintf("{matchLabels: {team: %s}, matchExpressions: [{key: tier, operator: In, values: [%s, %s]}]}", value("team"), value("tier"), value("tier")))
		if i%4 == 0 {
			doc += "  overlapPolicy: Selectors\n"
		}
		docs = append(docs, doc)
	}
	for i := range deployments {
		docs = append(docs, templated("apps/v1", "Deployment", fmt.Sprintf("d%d", i), fmt.Sprintf("{team: %s, tier: %s, app: a%d}", value("team"), value("tier"), i)))
	}
	for i := range budgets {
		docs = append(docs, pdb(fmt.Sprintf("b%d", i), fmt.Sprintf("{matchLabels: {team: %s}}", value("team"))))
	}
	return stream(docs...)
}

func readBenchmarkInput(b *testing.B) []manifest.Object {
	objects, err := manifest.Read([]string{manifest.Stdin}, strings.NewReader(benchmarkInput(100, 3000, 20)), "default")
	if err != nil {
		b.Fatal(err)
	}
	return objects
}

// BenchmarkLint lints 100 groups, 3,000 Deployments and 20 budgets, read.
func BenchmarkLint(b *testing.B) {
	read := readBenchmarkInput(b)
	validator, err := crdvalidation.New(crd.Bases)
	if err != nil {
		b.Fatal(err)
	}
	linter := New(validator)
	b.ReportAllocs()
	for b.Loop() {
		linter.Lint(read)
	}
}

// BenchmarkLintReference is the grouping engine alone on the same groups and
// workloads: the floor that BenchmarkLint is compared with.
func BenchmarkLintReference(b *testing.B) {
	read := readBenchmarkInput(b)
	validator, err := crdvalidation.New(crd.Bases)
	if err != nil {
		b.Fatal(err)
	}
	var groups []grouping.Group
	var pods []grouping.Pod
	linter := New(validator)
	for _, obj := range read {
		if isLabelGroup(obj.Unstructured) {
			g, _, _ := linter.checkGroup(obj)
			groups = append(groups, grouping.Group{Name: g.obj.GetName(), Selector: g.spec.Selector, Policy: g.spec.OverlapPolicy})
		}
		if w, ok := objects.WorkloadOf(obj.Unstructured); ok {
			pods = append(pods, grouping.Pod{Name: w.Key(), Labels: w.PodLabels})
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		grouping.Compute(pods, groups, len(pods))
	}
}

// BenchmarkRead reads the same input from YAML.
func BenchmarkRead(b *testing.B) {
	input := benchmarkInput(100, 3000, 20)
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := manifest.Read([]string{manifest.Stdin}, strings.NewReader(input), "default"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewValidator is the fixed cost of every lint run: building the
// validator (structural schema, CEL programs) from the embedded CRD.
func BenchmarkNewValidator(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := crdvalidation.New(crd.Bases); err != nil {
			b.Fatal(err)
		}
	}
}
