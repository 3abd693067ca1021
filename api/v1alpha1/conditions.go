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
	// ConditionMetadataApplied is present only on a group with
	// spec.memberMetadata: True when every member carries the group's metadata
	// or keeps its own values, False when stamping is off, a label key is
	// refused, or another group's value was kept.
	ConditionMetadataApplied = "MetadataApplied"
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
	// ReasonApplied (MetadataApplied=True): every member carries every label and
	// annotation of spec.memberMetadata.
	ReasonApplied = "Applied"
	// ReasonMemberValuesKept (MetadataApplied=True): the group's metadata is
	// stamped, except keys some members set themselves, whose values are kept.
	ReasonMemberValuesKept = "MemberValuesKept"
	// ReasonConflictsWithGroup (MetadataApplied=False): another LabelGroup
	// stamped a different value on a key first, and keeps it; the message names
	// the group and the key.
	ReasonConflictsWithGroup = "ConflictsWithGroup"
	// ReasonLabelKeyInSelector (MetadataApplied=False): a key of
	// memberMetadata.labels is used by a selector of the namespace and is not
	// stamped; stamping it would move pods between groups.
	ReasonLabelKeyInSelector = "LabelKeyInSelector"
	// ReasonStampingDisabled (MetadataApplied=False): the manager runs without
	// --enable-member-metadata, so nothing is stamped.
	ReasonStampingDisabled = "StampingDisabled"
)

// Event reasons of a LabelGroup.
const (
	// EventOverlapDetected (Warning): the group started overlapping another.
	EventOverlapDetected = "OverlapDetected"
	// EventOverlapResolved (Normal): the group no longer overlaps any other.
	EventOverlapResolved = "OverlapResolved"
	// The MetadataApplied condition's reasons are also event reasons: an event
	// is emitted when the condition's reason changes (Normal for Applied and
	// MemberValuesKept, Warning for the others).
)

// FinalizerReleaseMetadata holds a group that stamps metadata until it has
// released what it owns on its members.
const FinalizerReleaseMetadata = "grouping.labelgroup.io/release-member-metadata"
