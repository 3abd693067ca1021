// Package grouping computes, for the LabelGroups of one namespace, which pods
// each group selects and which other groups overlap it. It reads no cluster
// state: the reconciler hands it what its cache holds, and tests run it with no
// cluster.
package grouping

import (
	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

// Pod is what the engine needs of a pod: its name and labels.
type Pod struct {
	Name   string
	Labels map[string]string
}

// Group is what the engine needs of a LabelGroup: its name, selector and
// overlap policy. A policy other than Selectors, the empty one included, is
// treated as Members, the API's default.
type Group struct {
	Name     string
	Selector v1alpha1.LabelSelector
	Policy   v1alpha1.OverlapPolicy
}

// Result is one group's computed membership and overlaps, ready to be copied
// into its status.
type Result struct {
	// Name is the name of the group.
	Name string
	// Selector is the canonical string of the group's selector; "" for the
	// empty selector, which selects every pod, and for an invalid one.
	Selector string
	// SelectorErr is why the selector cannot be converted. A group with an
	// invalid selector has no members and no overlaps, and overlaps no group.
	SelectorErr error
	// MemberCount is the exact number of member pods.
	MemberCount int32
	// Members are the names of the member pods, sorted ascending, at most
	// memberLimit of them; nil when there are none to list.
	Members []string
	// Overlaps are the other groups that overlap this one under this group's
	// policy, sorted by name, each with the exact number of pods both select;
	// nil when there are none.
	Overlaps []v1alpha1.Overlap
}
