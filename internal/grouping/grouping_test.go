package grouping

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

// overlap builds a v1alpha1.Overlap.
func overlap(name string, shared int32) v1alpha1.Overlap {
	return v1alpha1.Overlap{Name: name, SharedMembers: shared}
}

// invalid marks a wanted Result whose SelectorErr must be set; the text of
// the error is the selector package's business.
var invalid = fmt.Errorf("invalid selector")

// computeCase is a case of Compute: pods, groups and member limit in, the
// results wanted out.
type computeCase struct {
	name   string
	pods   []Pod
	groups []Group
	limit  int
	want   []Result
}

func runComputeCases(t *testing.T, tests []computeCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertResults(t, Compute(tt.pods, tt.groups, tt.limit), tt.want)
		})
	}
}

// webAndDb are the pods of the membership cases.
var webAndDb = []Pod{
	pod("web-1", "tier", "web", "track", "stable"),
	pod("web-2", "tier", "web", "track", "canary"),
	pod("db-1", "tier", "db"),
}

func TestComputeMembership(t *testing.T) {
	runComputeCases(t, []computeCase{{
		name:   "a pod is a member when its labels satisfy the selector",
		pods:   webAndDb,
		groups: []Group{group("web", sel("tier=web"))},
		limit:  10,
		want:   []Result{{Name: "web", Selector: "tier=web", MemberCount: 2, Members: []string{"web-1", "web-2"}}},
	}, {
		name: "every operator selects as documented",
		pods: webAndDb,
		groups: []Group{
			group("in", sel("tier in (db,cache)")),
			group("not-in", sel("track notin (canary)")),
			group("exists", sel("track")),
			group("does-not-exist", sel("!track")),
			group("none", sel("tier=cache")),
		},
		limit: 10,
		want: []Result{
			{Name: "in", Selector: "tier in (cache,db)", MemberCount: 1, Members: []string{"db-1"},
				Overlaps: []v1alpha1.Overlap{overlap("does-not-exist", 1), overlap("not-in", 1)}},
			{Name: "not-in", Selector: "track notin (canary)", MemberCount: 2, Members: []string{"db-1", "web-1"},
				Overlaps: []v1alpha1.Overlap{overlap("does-not-exist", 1), overlap("exists", 1), overlap("in", 1)}},
			{Name: "exists", Selector: "track", MemberCount: 2, Members: []string{"web-1", "web-2"},
				Overlaps: []v1alpha1.Overlap{overlap("not-in", 1)}},
			{Name: "does-not-exist", Selector: "!track", MemberCount: 1, Members: []string{"db-1"},
				Overlaps: []v1alpha1.Overlap{overlap("in", 1), overlap("not-in", 1)}},
			{Name: "none", Selector: "tier=cache"},
		},
	}, {
		name:   "the empty selector selects every pod",
		pods:   webAndDb,
		groups: []Group{group("all", sel(""))},
		limit:  10,
		want:   []Result{{Name: "all", MemberCount: 3, Members: []string{"db-1", "web-1", "web-2"}}},
	}, {
		name:   "a namespace without pods leaves every group empty",
		groups: []Group{group("all", sel("")), group("web", sel("tier=web"))},
		limit:  10,
		want:   []Result{{Name: "all"}, {Name: "web", Selector: "tier=web"}},
	}, {
		name: "an invalid selector has no members and overlaps nobody",
		pods: webAndDb,
		groups: []Group{
			selectorsGroup("bad-key", v1alpha1.LabelSelector{MatchLabels: map[string]v1alpha1.LabelValue{"not a key": "web"}}),
			selectorsGroup("all", sel("")),
			group("in-without-values", v1alpha1.LabelSelector{MatchExpressions: []v1alpha1.LabelSelectorRequirement{{Key: "tier", Operator: v1alpha1.LabelSelectorOpIn}}}),
		},
		limit: 10,
		want: []Result{
			{Name: "bad-key", SelectorErr: invalid},
			{Name: "all", MemberCount: 3, Members: []string{"db-1", "web-1", "web-2"}},
			{Name: "in-without-values", SelectorErr: invalid},
		},
	}})
}

func TestComputeMemberList(t *testing.T) {
	runComputeCases(t, []computeCase{{
		name: "the member limit cuts Members at the first names, MemberCount stays exact",
		pods: []Pod{pod("e", "tier", "web"), pod("b", "tier", "web"), pod("d", "tier", "web"),
			pod("a", "tier", "web"), pod("c", "tier", "web")},
		groups: []Group{group("web", sel("tier=web"))},
		limit:  2,
		want:   []Result{{Name: "web", Selector: "tier=web", MemberCount: 5, Members: []string{"a", "b"}}},
	}, {
		name:   "a member limit of zero lists no member",
		pods:   webAndDb,
		groups: []Group{group("web", sel("tier=web"))},
		want:   []Result{{Name: "web", Selector: "tier=web", MemberCount: 2}},
	}, {
		name:   "Members are sorted by name whatever the order of the pods",
		pods:   []Pod{pod("web-c", "tier", "web"), pod("db", "tier", "db"), pod("web-a", "tier", "web"), pod("web-b", "tier", "web")},
		groups: []Group{group("web", sel("tier=web"))},
		limit:  10,
		want:   []Result{{Name: "web", Selector: "tier=web", MemberCount: 3, Members: []string{"web-a", "web-b", "web-c"}}},
	}})
}

func TestComputeOverlaps(t *testing.T) {
	pods := []Pod{
		pod("web-prod-1", "tier", "web", "environment", "prod"),
		pod("web-prod-2", "tier", "web", "environment", "prod"),
		pod("web-dev", "tier", "web", "environment", "dev"),
		pod("db-prod", "tier", "db", "environment", "prod"),
	}
	web, prod := sel("tier=web"), sel("environment=prod")
	// No pod is a canary yet, but a web canary could be: the selectors intersect.
	canary := sel("track=canary")
	db := sel("tier=db")
	tests := []struct {
		name   string
		groups []Group
		want   map[string][]v1alpha1.Overlap
	}{{
		name:   "Members policy: groups that share pods overlap, with the exact count",
		groups: []Group{group("web", web), group("prod", prod)},
		want:   map[string][]v1alpha1.Overlap{"web": {overlap("prod", 2)}, "prod": {overlap("web", 2)}},
	}, {
		name:   "Members policy: intersecting selectors without a shared pod do not overlap",
		groups: []Group{group("web", web), group("canary", canary)},
		want:   map[string][]v1alpha1.Overlap{},
	}, {
		name:   "Selectors policy: intersecting selectors overlap though no pod is shared",
		groups: []Group{selectorsGroup("web", web), selectorsGroup("canary", canary)},
		want:   map[string][]v1alpha1.Overlap{"web": {overlap("canary", 0)}, "canary": {overlap("web", 0)}},
	}, {
		name:   "Selectors policy: groups that share pods overlap, with the exact count",
		groups: []Group{selectorsGroup("web", web), selectorsGroup("prod", prod)},
		want:   map[string][]v1alpha1.Overlap{"web": {overlap("prod", 2)}, "prod": {overlap("web", 2)}},
	}, {
		name:   "Selectors policy: disjoint selectors do not overlap",
		groups: []Group{selectorsGroup("web", web), selectorsGroup("db", db)},
		want:   map[string][]v1alpha1.Overlap{},
	}, {
		name:   "asymmetric policies: only the Selectors group sees an overlap without shared pods",
		groups: []Group{group("web", web), selectorsGroup("canary", canary)},
		want:   map[string][]v1alpha1.Overlap{"canary": {overlap("web", 0)}},
	}, {
		name:   "a group never overlaps itself, even one selecting every pod",
		groups: []Group{selectorsGroup("all", sel(""))},
		want:   map[string][]v1alpha1.Overlap{},
	}, {
		name:   "groups with the same selector overlap each other",
		groups: []Group{group("web", web), group("also-web", web)},
		want:   map[string][]v1alpha1.Overlap{"web": {overlap("also-web", 3)}, "also-web": {overlap("web", 3)}},
	}, {
		name: "Overlaps are sorted by name whatever the order of the groups",
		groups: []Group{group("c", sel("")), group("a", web), group("d", db),
			group("b", prod)},
		want: map[string][]v1alpha1.Overlap{
			"a": {overlap("b", 2), overlap("c", 3)},
			"b": {overlap("a", 2), overlap("c", 3), overlap("d", 1)},
			"c": {overlap("a", 3), overlap("b", 3), overlap("d", 1)},
			"d": {overlap("b", 1), overlap("c", 1)},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, got := range Compute(pods, tt.groups, 0) {
				if want := tt.want[got.Name]; !reflect.DeepEqual(got.Overlaps, want) {
					t.Errorf("overlaps of %s = %v, want %v", got.Name, got.Overlaps, want)
				}
			}
		})
	}
}

// assertResults fails t unless got equals want.
func assertResults(t *testing.T, got, want []Result) {
	t.Helper()
	if diff := resultsDiff(got, want); diff != "" {
		t.Error(diff)
	}
}

// resultsDiff says how got differs from want, "" when it does not. SelectorErr
// is compared by whether it is set: its text is the selector package's.
func resultsDiff(got, want []Result) string {
	if len(got) != len(want) {
		return fmt.Sprintf("got %d results, want %d: %+v", len(got), len(want), got)
	}
	var diff strings.Builder
	for i := range got {
		if (got[i].SelectorErr == nil) != (want[i].SelectorErr == nil) {
			fmt.Fprintf(&diff, "result %d (%s): SelectorErr = %v, want set: %t\n", i, got[i].Name, got[i].SelectorErr, want[i].SelectorErr != nil)
		}
		g, w := got[i], want[i]
		g.SelectorErr, w.SelectorErr = nil, nil
		if !reflect.DeepEqual(g, w) {
			fmt.Fprintf(&diff, "result %d:\n got %+v\nwant %+v\n", i, g, w)
		}
	}
	return diff.String()
}
