package v1alpha1

// Condition types of a LabelGroup.
const (
	// ConditionReady is True when the status reflects the current spec and pods,
	// False when the selector cannot be evaluated.
	ConditionReady = "Ready"
	// ConditionOverlapping is True when another group of the namespace overlaps
	// this one under its overlapPolicy.
	ConditionOverlapping = "Overlapping"
	// ConditionStalled is True, with reason InvalidSelector, while the selector
	// cannot be evaluated: the operator cannot make progress until a person
	// fixes spec.selector. It is absent otherwise. kstatus (Flux, kpt,
	// cli-utils) reads Stalled=True as Failed; it follows the "abnormal-true"
	// convention, so a healthy group carries no Stalled condition at all.
	ConditionStalled = "Stalled"
)

// Condition reasons of a LabelGroup. The same words are the reasons of the
// Kubernetes events the operator emits.
const (
	// ReasonReconciled (Ready=True): membership and overlaps are up to date.
	ReasonReconciled = "Reconciled"
	// ReasonInvalidSelector (Ready=False, Stalled=True): the selector cannot be
	// turned into a label selector; the message says why. Needs a fix of
	// spec.selector.
	ReasonInvalidSelector = "InvalidSelector"
	// ReasonMembersShared (Overlapping=True): at least one pod is a member of this
	// group and another.
	ReasonMembersShared = "MembersShared"
	// ReasonSelectorsIntersect (Overlapping=True, policy Selectors): the selectors
	// of this group and another could select the same pod, though none does yet.
	ReasonSelectorsIntersect = "SelectorsIntersect"
	// ReasonNoOverlap (Overlapping=False): no other group overlaps this one.
	ReasonNoOverlap = "NoOverlap"
)

// Event reasons of a LabelGroup.
const (
	// EventOverlapDetected (Warning): the group started overlapping another.
	EventOverlapDetected = "OverlapDetected"
	// EventOverlapResolved (Normal): the group no longer overlaps any other.
	EventOverlapResolved = "OverlapResolved"
)
