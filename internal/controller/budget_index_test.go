package controller

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/labelgroup/labelgroup-operator/internal/grouping"
)

// TestBudgetIndexMatchesComputeSharing feeds random sequences of budget and
// pod events to a budgetIndex, as the informers' event handlers would, and
// after every step takes what a reconcile reports. The sharing of every
// budget, as last reported, must equal computeSharing's from scratch over the
// namespace as it is; and the events the reports call for must be exactly
// the transitions of computeSharing's answers from one step to the next (a
// warning for a budget first seen sharing, or that starts to; a normal event
// for one that stops).
func TestBudgetIndexMatchesComputeSharing(t *testing.T) {
	const sequences, steps = 300, 60
	kinds := map[string]int{}
	for seq := range sequences {
		rng := rand.New(rand.NewPCG(uint64(seq), 19))
		ns := &budgetNamespaceModel{rng: rng}
		for range rng.IntN(30) {
			ns.addPod()
		}
		for range rng.IntN(4) {
			ns.addBudget()
		}
		var index budgetIndex
		reported := map[string]budgetSharing{}
		sharedBefore := map[types.UID]bool{}
		for step := range steps {
			kind := "initial"
			if step > 0 {
				kind = ns.step()
			}
			kinds[kind]++
			ns.deliver(&index, kind == "relist")
			changes, gone, err := index.take("", func() ([]metav1.PartialObjectMetadata, error) { return ns.podObjects(), nil })
			if err != nil {
				t.Fatal(err)
			}
			gotEvents := map[string]string{}
			for _, c := range changes {
				reported[c.sharing.Name] = c.sharing
				if _, reason, ok := budgetTransition(c.known, c.wasSharing, c.sharing); ok {
					gotEvents[c.sharing.Name] = reason
				}
			}
			for _, name := range gone {
				delete(reported, name)
			}

			want := map[string]budgetSharing{}
			wantEvents := map[string]string{}
			sharedNow := map[types.UID]bool{}
			for _, s := range computeSharing(ns.sortedBudgets(), ns.pods) {
				want[s.Name] = s
				sharedNow[s.UID] = s.SharedPods > 0
				wasSharing, known := sharedBefore[s.UID]
				if _, reason, ok := budgetTransition(known, wasSharing, s); ok {
					wantEvents[s.Name] = reason
				}
			}
			sharedBefore = sharedNow
			if diff := cmp.Diff(want, reported); diff != "" {
				t.Fatalf("sequence %d step %d (%s): reported sharing differs from computeSharing (-want +got):\n%s", seq, step, kind, diff)
			}
			if diff := cmp.Diff(wantEvents, gotEvents); diff != "" {
				t.Fatalf("sequence %d step %d (%s): events (-want +got):\n%s", seq, step, kind, diff)
			}
		}
	}
	for _, kind := range budgetStepKinds {
		if kinds[kind] < sequences*steps/len(budgetStepKinds)/4 {
			t.Errorf("step %q ran %d times in %d steps", kind, kinds[kind], sequences*steps)
		}
	}
}

func TestBudgetIndexTake(t *testing.T) {
	var index budgetIndex
	pods := []metav1.PartialObjectMetadata{podObject("web-1", "app", "web"), podObject("web-2", "app", "web"), podObject("db-1", "app", "db")}
	listPods := func() ([]metav1.PartialObjectMetadata, error) { return pods, nil }
	take := func() ([]budgetChange, []string) {
		t.Helper()
		changes, gone, err := index.take("", listPods)
		if err != nil {
			t.Fatal(err)
		}
		return changes, gone
	}
	for i := range pods {
		index.podChanged(&pods[i])
	}
	web, all := budget("web", matchLabels("app", "web")), budget("all", &metav1.LabelSelector{})
	index.budgetChanged(&web)
	if changes, _ := take(); len(changes) != 1 || changes[0].known || changes[0].sharing.SharedPods != 0 {
		t.Fatalf("a first budget: %+v, want web reported once, not known, sharing nothing", changes)
	}
	if index.namespaces[""].engine != nil {
		t.Errorf("a namespace with one budget keeps its pods")
	}

	index.budgetChanged(&all)
	changes, _ := take()
	if got := sharedPodsOf(changes); !maps.Equal(got, map[string]int{"all": 2, "web": 2}) {
		t.Errorf("a second budget: shared pods %v, want all: 2, web: 2", got)
	}
	if c := changes[1]; c.sharing.Name != "web" || !c.known || c.wasSharing {
		t.Errorf("web, seen before sharing nothing, is reported as %+v", c)
	}
	if changes, gone := take(); len(changes)+len(gone) != 0 {
		t.Errorf("nothing changed, yet take reports %+v and %v gone", changes, gone)
	}

	// A pod event the handlers deliver changes what the budgets share.
	pods[1] = podObject("web-2", "app", "db")
	index.podChanged(&pods[1])
	if got := sharedPodsOf(firstOf(take())); !maps.Equal(got, map[string]int{"all": 1, "web": 1}) {
		t.Errorf("after a pod left web: shared pods %v, want all: 1, web: 1", got)
	}

	// web is deleted and made again under its name: a new budget, not known.
	index.budgetDeleted(&web)
	changes, gone := take()
	if !slices.Equal(gone, []string{"web"}) || len(changes) != 1 || changes[0].sharing.Name != "all" || changes[0].sharing.SharedPods != 0 {
		t.Errorf("web deleted: %+v and %v gone, want all sharing nothing and web gone", changes, gone)
	}
	if index.namespaces[""].engine != nil {
		t.Errorf("a namespace left with one budget keeps its pods")
	}
	again := budget("web", matchLabels("app", "web"))
	again.UID = "uid-web-again"
	index.budgetChanged(&again)
	changes, _ = take()
	if c := changes[1]; c.sharing.Name != "web" || c.known || c.sharing.SharedPods != 1 {
		t.Errorf("web made again is reported as %+v, want not known, sharing 1 pod", c)
	}
}

func firstOf(changes []budgetChange, _ []string) []budgetChange { return changes }

func sharedPodsOf(changes []budgetChange) map[string]int {
	out := map[string]int{}
	for _, c := range changes {
		out[c.sharing.Name] = c.sharing.SharedPods
	}
	return out
}

func podObject(name string, keyValues ...string) metav1.PartialObjectMetadata {
	p := metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{}}}
	for i := 0; i+1 < len(keyValues); i += 2 {
		p.Labels[keyValues[i]] = keyValues[i+1]
	}
	return p
}

// budgetNamespaceModel is a namespace's pods and budgets, changed step by
// step as its cache would be, and what its informers delivered of them.
type budgetNamespaceModel struct {
	rng      *rand.Rand
	pods     []grouping.Pod
	budgets  map[string]policyv1.PodDisruptionBudget
	nextPod  int
	nextUID  int
	sentPods map[string]map[string]string
	sentUIDs map[string]types.UID // with the selector: what was delivered
	sentSels map[string]*metav1.LabelSelector
}

var budgetStepKinds = []string{
	"add pods", "delete pods", "relabel pods", "add budget", "delete budget", "change selector",
	"recreate budget", "relist",
}

func (ns *budgetNamespaceModel) step() string {
	rng := ns.rng
	kind := budgetStepKinds[rng.IntN(len(budgetStepKinds))]
	switch kind {
	case "add pods":
		for range 1 + rng.IntN(3) {
			ns.addPod()
		}
	case "delete pods":
		for range 1 + rng.IntN(3) {
			if len(ns.pods) > 0 {
				i := rng.IntN(len(ns.pods))
				ns.pods = slices.Delete(ns.pods, i, i+1)
			}
		}
	case "relabel pods", "relist":
		for range rng.IntN(4) {
			if len(ns.pods) > 0 {
				ns.pods[rng.IntN(len(ns.pods))].Labels = randomBudgetLabels(rng)
			}
		}
	case "add budget":
		ns.addBudget()
	case "delete budget":
		if name, ok := ns.anyBudget(); ok {
			delete(ns.budgets, name)
		}
	case "change selector":
		if name, ok := ns.anyBudget(); ok {
			b := ns.budgets[name]
			b.Spec.Selector = randomBudgetSelector(rng)
			ns.budgets[name] = b
		}
	case "recreate budget":
		if name, ok := ns.anyBudget(); ok {
			b := ns.budgets[name]
			b.UID = ns.uid()
			ns.budgets[name] = b
		}
	}
	return kind
}

func (ns *budgetNamespaceModel) addPod() {
	ns.pods = append(ns.pods, grouping.Pod{Name: fmt.Sprintf("pod-%03d", ns.nextPod), Labels: randomBudgetLabels(ns.rng)})
	ns.nextPod++
}

func (ns *budgetNamespaceModel) addBudget() {
	if ns.budgets == nil {
		ns.budgets = map[string]policyv1.PodDisruptionBudget{}
	}
	b := budget(fmt.Sprintf("pdb-%d", ns.rng.IntN(6)), randomBudgetSelector(ns.rng))
	b.UID = ns.uid()
	ns.budgets[b.Name] = b
}

func (ns *budgetNamespaceModel) uid() types.UID {
	ns.nextUID++
	return types.UID(fmt.Sprintf("uid-%d", ns.nextUID))
}

func (ns *budgetNamespaceModel) anyBudget() (string, bool) {
	names := slices.Sorted(maps.Keys(ns.budgets))
	if len(names) == 0 {
		return "", false
	}
	return names[ns.rng.IntN(len(names))], true
}

func (ns *budgetNamespaceModel) sortedBudgets() []policyv1.PodDisruptionBudget {
	out := slices.Collect(maps.Values(ns.budgets))
	slices.SortFunc(out, func(a, b policyv1.PodDisruptionBudget) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (ns *budgetNamespaceModel) podObjects() []metav1.PartialObjectMetadata {
	out := make([]metav1.PartialObjectMetadata, len(ns.pods))
	for i, p := range ns.pods {
		out[i] = metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Labels: maps.Clone(p.Labels)}}
	}
	return out
}

// deliver hands the index, in random order, the events an informer would
// deliver for what changed since the last step: a budget made again under
// its name comes as a delete and an add, and a relist delivers everything
// again, with the deletion of a pod and a budget already gone.
func (ns *budgetNamespaceModel) deliver(index *budgetIndex, relist bool) {
	if ns.sentPods == nil {
		ns.sentPods, ns.sentUIDs, ns.sentSels = map[string]map[string]string{}, map[string]types.UID{}, map[string]*metav1.LabelSelector{}
	}
	var events []func()
	current := map[string]bool{}
	for _, p := range ns.podObjects() {
		current[p.Name] = true
		if sent, ok := ns.sentPods[p.Name]; relist || !ok || !maps.Equal(sent, p.Labels) {
			events = append(events, func() { index.podChanged(&p) })
			ns.sentPods[p.Name] = p.Labels
		}
	}
	for name := range ns.sentPods {
		if !current[name] {
			events = append(events, func() { index.podDeleted(&metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: name}}) })
			delete(ns.sentPods, name)
		}
	}
	for name, uid := range ns.sentUIDs {
		if b, ok := ns.budgets[name]; !ok || b.UID != uid {
			old := budget(name, ns.sentSels[name])
			old.UID = uid
			events = append(events, func() { index.budgetDeleted(&old) })
			delete(ns.sentUIDs, name)
		}
	}
	var adds []func()
	for name, b := range ns.budgets {
		b.Spec.Selector = b.Spec.Selector.DeepCopy()
		if uid, ok := ns.sentUIDs[name]; relist || !ok || uid != b.UID || !cmp.Equal(ns.sentSels[name], b.Spec.Selector) {
			adds = append(adds, func() { index.budgetChanged(&b) })
			ns.sentUIDs[name], ns.sentSels[name] = b.UID, b.Spec.Selector
		}
	}
	if relist {
		events = append(events, func() { index.podDeleted(&metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: "gone"}}) })
		gone := budget("gone", nil)
		events = append(events, func() { index.budgetDeleted(&gone) })
	}
	ns.rng.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
	// The adds and updates of budgets come last, after the delete of a
	// budget made again under the same name.
	for _, event := range events {
		event()
	}
	for _, add := range adds {
		add()
	}
}

// The small label universe budgets and pods draw from, so that selectors
// often cover pods in common.
var (
	budgetKeys   = []string{"a", "b", "c"}
	budgetValues = []string{"1", "2", "3"}
)

func randomBudgetLabels(rng *rand.Rand) map[string]string {
	out := map[string]string{}
	for _, k := range budgetKeys {
		if rng.IntN(3) > 0 {
			out[k] = budgetValues[rng.IntN(len(budgetValues))]
		}
	}
	return out
}

// randomBudgetSelector returns a null, empty, invalid or ordinary selector
// with requirements of every operator.
func randomBudgetSelector(rng *rand.Rand) *metav1.LabelSelector {
	pick := func(from []string) string { return from[rng.IntN(len(from))] }
	switch rng.IntN(10) {
	case 0:
		return nil
	case 1:
		return &metav1.LabelSelector{}
	case 2:
		return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: pick(budgetKeys), Operator: metav1.LabelSelectorOpIn}}}
	}
	sel := &metav1.LabelSelector{}
	for range 1 + rng.IntN(2) {
		key, value := pick(budgetKeys), pick(budgetValues)
		switch op := rng.IntN(5); op {
		case 0:
			sel.MatchLabels = map[string]string{key: value}
		default:
			req := metav1.LabelSelectorRequirement{Key: key, Operator: []metav1.LabelSelectorOperator{
				metav1.LabelSelectorOpIn, metav1.LabelSelectorOpNotIn, metav1.LabelSelectorOpExists, metav1.LabelSelectorOpDoesNotExist,
			}[op-1]}
			if req.Operator == metav1.LabelSelectorOpIn || req.Operator == metav1.LabelSelectorOpNotIn {
				req.Values = []string{value, pick(budgetValues)}
				slices.Sort(req.Values)
				req.Values = slices.Compact(req.Values)
			}
			sel.MatchExpressions = append(sel.MatchExpressions, req)
		}
	}
	return sel
}
