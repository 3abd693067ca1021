package plugin

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/labelgroup/labelgroup-operator/config/crd"
	"github.com/labelgroup/labelgroup-operator/internal/crdvalidation"
	"github.com/labelgroup/labelgroup-operator/internal/crdvalidation/corpus"
	"github.com/labelgroup/labelgroup-operator/internal/plugin/lint"
	"github.com/labelgroup/labelgroup-operator/internal/plugin/manifest"
)

// randomGroups is how many random LabelGroups the differential test sends.
const randomGroups = 400

// serverVerdict sends obj as kubectl apply does (strict field validation),
// as a dry run so that nothing is stored, and says whether the API server
// accepted it.
func serverVerdict(obj *unstructured.Unstructured) (bool, error) {
	err := k8sClient.Create(ctx, obj.DeepCopy(), client.FieldValidation("Strict"), client.DryRunAll)
	if err == nil {
		return true, nil
	}
	if apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) {
		return false, err
	}
	return false, fmt.Errorf("neither accepted nor refused as invalid: %w", err)
}

// lintVerdict says whether lint finds the object valid: no invalid finding.
func lintVerdict(linter *lint.Linter, obj *unstructured.Unstructured) (bool, []lint.Finding) {
	findings := linter.Lint([]manifest.Object{{Unstructured: obj}})
	for _, f := range findings {
		if f.Rule == lint.RuleInvalid {
			return false, findings
		}
	}
	return true, findings
}

var _ = Describe("lint's invalid verdict", func() {
	var linter *lint.Linter
	BeforeEach(func() {
		validator, err := crdvalidation.New(crd.Bases)
		Expect(err).NotTo(HaveOccurred())
		linter = lint.New(validator)
	})

	agree := func(obj *unstructured.Unstructured) bool {
		accepted, serverErr := serverVerdict(obj)
		Expect(serverErr == nil || !accepted).To(BeTrue())
		if serverErr != nil && !apierrors.IsInvalid(serverErr) && !apierrors.IsBadRequest(serverErr) {
			Fail(serverErr.Error())
		}
		valid, findings := lintVerdict(linter, obj)
		data, _ := json.Marshal(obj.Object)
		Expect(valid).To(Equal(accepted), "lint says valid=%v (%v), the API server accepted=%v (%v), for %s", valid, findings, accepted, serverErr, data)
		return accepted
	}

	It("equals the API server's on the integration suite's corpus", func() {
		for _, c := range corpus.Refused {
			obj, err := corpus.LabelGroup("refused", c.SpecYAML)
			Expect(err).NotTo(HaveOccurred())
			Expect(agree(obj)).To(BeFalse(), c.Name)
		}
		for _, c := range corpus.Accepted {
			obj, err := corpus.LabelGroup("accepted", c.SpecYAML)
			Expect(err).NotTo(HaveOccurred())
			Expect(agree(obj)).To(BeTrue(), c.Name)
		}
	})

	It(fmt.Sprintf("equals the API server's on %d random LabelGroups", randomGroups), func() {
		rng := rand.New(rand.NewPCG(10, 11))
		accepted := 0
		for range randomGroups {
			if agree(randomLabelGroup(rng)) {
				accepted++
			}
		}
		// Both verdicts must be common, or the comparison proves little.
		GinkgoWriter.Printf("%d of %d random LabelGroups accepted\n", accepted, randomGroups)
		Expect(accepted).To(BeNumerically(">", randomGroups/5))
		Expect(accepted).To(BeNumerically("<", randomGroups*4/5))
	})
})

// pick returns a random element of choices.
func pick[T any](rng *rand.Rand, choices ...T) T { return choices[rng.IntN(len(choices))] }

// The pools the random LabelGroups draw from: mostly valid, with invalid
// entries near every rule of the schema.
var (
	validKeys    = []string{"tier", "app.kubernetes.io/name", "example.com/team", "a", strings.Repeat("k", 63), strings.Repeat("p", 63) + "." + strings.Repeat("q", 63) + "/x", "ver_1.2-b"}
	invalidKeys  = []string{"", "-tier", "tier-", "bad key", "Example.com/tier", "a/b/c", "/tier", strings.Repeat("k", 64), strings.Repeat("p", 254) + "/x", "tier/"}
	validValues  = []any{"web", "", "1.2.3-rc_1", strings.Repeat("v", 63), "A"}
	badValues    = []any{"web-", ".web", "web server", strings.Repeat("v", 64), 5, true, nil}
	operators    = []any{"In", "NotIn", "Exists", "DoesNotExist"}
	badOperators = []any{"in", "Equals", "", nil}
	names        = []string{"web", "web-1", "a.b", strings.Repeat("n", 253)}
	badNames     = []string{"Web", "web_1", strings.Repeat("n", 254), "-web"}
	policies     = []any{"Members", "Selectors", "Members", "Selectors", "Everything", "members", 1}
)

func randomKey(rng *rand.Rand) string {
	if rng.IntN(12) == 0 {
		return pick(rng, invalidKeys...)
	}
	return pick(rng, validKeys...)
}

func randomValue(rng *rand.Rand) any {
	if rng.IntN(25) == 0 {
		return pick(rng, badValues...)
	}
	return pick(rng, validValues...)
}

// randomSize is usually small, and sometimes at or just past limit.
func randomSize(rng *rand.Rand, limit int) int {
	switch rng.IntN(20) {
	case 0:
		return limit
	case 1:
		return limit + 1
	default:
		return rng.IntN(4)
	}
}

// randomLabelGroup builds a LabelGroup as a user could write it, of which
// about half is valid.
func randomLabelGroup(rng *rand.Rand) *unstructured.Unstructured {
	sel := map[string]any{}
	if n := randomSize(rng, 32); n > 0 || rng.IntN(2) == 0 {
		labels := map[string]any{}
		for i := range n {
			key := randomKey(rng)
			if n > 3 {
				key = fmt.Sprintf("key%d", i)
			}
			labels[key] = randomValue(rng)
		}
		sel["matchLabels"] = labels
	}
	if n := randomSize(rng, 32); n > 0 {
		var exprs []any
		for i := range n {
			expr := map[string]any{"key": randomKey(rng)}
			if n > 3 {
				expr["key"] = fmt.Sprintf("key%d", i)
			}
			op := pick(rng, operators...)
			if rng.IntN(15) == 0 {
				op = pick(rng, badOperators...)
			}
			if op != nil {
				expr["operator"] = op
			}
			// Mostly the values the operator needs: some for In and NotIn,
			// none for the others.
			wantsValues := op == "In" || op == "NotIn"
			if rng.IntN(10) == 0 {
				wantsValues = !wantsValues
			}
			switch {
			case !wantsValues && rng.IntN(2) == 0: // no values
			case !wantsValues:
				expr["values"] = []any{}
			default:
				var values []any
				for range max(1, randomSize(rng, 64)) {
					values = append(values, randomValue(rng))
				}
				expr["values"] = values
			}
			if rng.IntN(40) == 0 {
				expr["value"] = "web" // misspelt
			}
			exprs = append(exprs, expr)
		}
		sel["matchExpressions"] = exprs
	}
	spec := map[string]any{"selector": sel}
	if rng.IntN(3) == 0 {
		spec["overlapPolicy"] = pick(rng, policies...)
	}
	if rng.IntN(30) == 0 {
		delete(spec, "selector")
	}
	if rng.IntN(30) == 0 {
		spec["selectors"] = map[string]any{} // misspelt
	}
	obj := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	obj.SetAPIVersion("grouping.labelgroup.io/v1alpha1")
	obj.SetKind("LabelGroup")
	obj.SetNamespace("default")
	obj.SetName(pick(rng, names...))
	if rng.IntN(10) == 0 {
		obj.SetName(pick(rng, badNames...))
	}
	if rng.IntN(30) == 0 {
		obj.Object["status"] = map[string]any{"memberCount": 3}
	}
	// Through JSON, so the object holds what a manifest decodes to (int64,
	// not int), as lint and the client both need.
	data, err := json.Marshal(obj.Object)
	Expect(err).NotTo(HaveOccurred())
	decoded := &unstructured.Unstructured{}
	Expect(decoded.UnmarshalJSON(data)).To(Succeed())
	return decoded
}
