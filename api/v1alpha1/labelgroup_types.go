package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Limits of a selector, enforced by the CRD schema. They keep every LabelGroup
// small enough to store, validate and evaluate cheaply.
const (
	// MaxMatchLabels is the most entries spec.selector.matchLabels may hold.
	MaxMatchLabels = 32
	// MaxMatchExpressions is the most requirements spec.selector.matchExpressions may hold.
	MaxMatchExpressions = 32
	// MaxValues is the most values one requirement may list.
	MaxValues = 64
)

// Limits of a status, enforced by the CRD schema. The manager's
// --status-member-limit and --status-overlap-limit may not exceed them, so
// that a status stays a small fraction of what etcd stores in one object
// (1.5 MiB) even when every name has the maximum 253 characters: 500 members
// and 500 overlaps take about 280 KiB.
const (
	// MaxStatusMembers is the most pod names status.members may hold.
	MaxStatusMembers = 500
	// MaxStatusOverlaps is the most entries status.overlaps may hold.
	MaxStatusOverlaps = 500
	// MaxStatusConditions is the most conditions status.conditions may hold.
	MaxStatusConditions = 8
)

// LabelSelectorOperator is the relation between a label key and a set of values.
// +kubebuilder:validation:Enum=In;NotIn;Exists;DoesNotExist
type LabelSelectorOperator string

// The operators of a label selector requirement, as in metav1.LabelSelector.
const (
	// LabelSelectorOpIn: the key is present and its value is one of the values.
	LabelSelectorOpIn LabelSelectorOperator = "In"
	// LabelSelectorOpNotIn: the key is absent, or its value is none of the values.
	LabelSelectorOpNotIn LabelSelectorOperator = "NotIn"
	// LabelSelectorOpExists: the key is present, with any value.
	LabelSelectorOpExists LabelSelectorOperator = "Exists"
	// LabelSelectorOpDoesNotExist: the key is absent.
	LabelSelectorOpDoesNotExist LabelSelectorOperator = "DoesNotExist"
)

// LabelKey is a Kubernetes label key: an optional DNS subdomain prefix of at most
// 253 characters and a '/', then a name of at most 63 characters that begins and
// ends with an alphanumeric character and has only alphanumerics, '-', '_' and '.'
// between.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=317
// +kubebuilder:validation:XValidation:rule="self.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$')",message="must be a qualified label key: an optional DNS subdomain prefix and '/', then a name of at most 63 characters (alphanumerics, '-', '_' or '.', beginning and ending with an alphanumeric)"
// +kubebuilder:validation:XValidation:rule="!self.matches('^[^/]{254,}/')",message="the prefix of a label key must be at most 253 characters"
type LabelKey string

// LabelValue is a Kubernetes label value: empty, or at most 63 characters that
// begin and end with an alphanumeric character and have only alphanumerics, '-',
// '_' and '.' between.
// +kubebuilder:validation:MaxLength=63
// +kubebuilder:validation:XValidation:rule="self.matches('^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$')",message="must be a label value: empty, or alphanumerics, '-', '_' or '.', beginning and ending with an alphanumeric"
type LabelValue string

// LabelSelectorRequirement is one requirement of a set-based selector: a key, an
// operator and, for In and NotIn, the values.
// +kubebuilder:validation:XValidation:rule="!(self.operator in ['In', 'NotIn']) || (has(self.values) && size(self.values) > 0)",message="values must be non-empty when operator is In or NotIn",fieldPath=".values"
// +kubebuilder:validation:XValidation:rule="!(self.operator in ['Exists', 'DoesNotExist']) || !has(self.values) || size(self.values) == 0",message="values must be empty when operator is Exists or DoesNotExist",fieldPath=".values"
type LabelSelectorRequirement struct {
	// Key is the label key the requirement applies to.
	// +required
	Key LabelKey `json:"key"`

	// Operator is one of In, NotIn, Exists and DoesNotExist.
	// +required
	Operator LabelSelectorOperator `json:"operator"`

	// Values are the label values for In and NotIn (at least one), and must be
	// empty for Exists and DoesNotExist. At most 64 values.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	Values []LabelValue `json:"values,omitempty"`
}

// LabelSelector selects pods by their labels. It has the JSON shape of
// metav1.LabelSelector, so manifests carry over, but every key, value and
// operator is validated when the LabelGroup is applied. Its requirements are
// ANDed. The empty selector {} selects every pod of the namespace.
// +kubebuilder:validation:XValidation:rule=`!has(self.matchLabels) || self.matchLabels.all(k, k.size() <= 317 && k.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$') && !k.matches('^[^/]{254,}/'))`,message=`every key must be a qualified label key: an optional DNS subdomain prefix of at most 253 characters and '/', then a name of at most 63 characters (alphanumerics, '-', '_' or '.', beginning and ending with an alphanumeric)`,fieldPath=`.matchLabels`
type LabelSelector struct {
	// MatchLabels is a map of label keys to values; each entry requires the key
	// with exactly that value (the same as a matchExpressions entry with operator
	// In and that one value). At most 32 entries.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	MatchLabels map[string]LabelValue `json:"matchLabels,omitempty"`

	// MatchExpressions are set-based requirements, all of which must hold.
	// At most 32 requirements.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	MatchExpressions []LabelSelectorRequirement `json:"matchExpressions,omitempty"`
}

// OverlapPolicy says when another LabelGroup of the namespace counts as
// overlapping this one.
// +kubebuilder:validation:Enum=Members;Selectors
type OverlapPolicy string

const (
	// OverlapPolicyMembers: another group overlaps this one when at least one pod
	// is a member of both.
	OverlapPolicyMembers OverlapPolicy = "Members"
	// OverlapPolicySelectors: another group overlaps this one when some set of
	// labels could satisfy both selectors, even if no pod carries such labels yet,
	// or when a pod is a member of both. For teams that want strict partitions.
	OverlapPolicySelectors OverlapPolicy = "Selectors"
)

// LabelGroupSpec is the desired state of a LabelGroup.
type LabelGroupSpec struct {
	// Selector picks the pods of this namespace that are members of the group.
	// The empty selector {} selects every pod of the namespace.
	// +required
	Selector LabelSelector `json:"selector"`

	// OverlapPolicy says when another group of the namespace overlaps this one:
	// Members (the default) when they share a pod, Selectors when their selectors
	// could select the same pod.
	// +optional
	// +kubebuilder:default=Members
	OverlapPolicy OverlapPolicy `json:"overlapPolicy,omitempty"`

	// MemberMetadata are labels and annotations the operator stamps on every
	// member pod, when the manager runs with --enable-member-metadata. A value
	// the pod already has from anyone else (its own manifest or controller, or
	// another group that stamped it first) is kept. Unset: nothing is stamped.
	// +optional
	MemberMetadata *MemberMetadata `json:"memberMetadata,omitempty"`
}

// MemberMetadata are the labels and annotations a group stamps on its members.
// +kubebuilder:validation:XValidation:rule=`!has(self.labels) || self.labels.all(k, k.size() <= 317 && k.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$') && !k.matches('^[^/]{254,}/'))`,message=`every key must be a qualified label key: an optional DNS subdomain prefix of at most 253 characters and '/', then a name of at most 63 characters (alphanumerics, '-', '_' or '.', beginning and ending with an alphanumeric)`,fieldPath=`.labels`
// +kubebuilder:validation:XValidation:rule=`!has(self.annotations) || self.annotations.all(k, k.size() <= 317 && k.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$') && !k.matches('^[^/]{254,}/'))`,message=`every key must be a qualified annotation key: an optional DNS subdomain prefix of at most 253 characters and '/', then a name of at most 63 characters (alphanumerics, '-', '_' or '.', beginning and ending with an alphanumeric)`,fieldPath=`.annotations`
type MemberMetadata struct {
	// Labels are stamped on every member pod. Keys and values follow the
	// Kubernetes label rules. A key that a selector of any LabelGroup of the
	// namespace uses is refused, as stamping it would move pods between groups.
	// At most 32 entries.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	Labels map[string]LabelValue `json:"labels,omitempty"`

	// Annotations are stamped on every member pod. Keys follow the label key
	// rules; values are at most 4096 characters. At most 32 entries.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	Annotations map[string]AnnotationValue `json:"annotations,omitempty"`
}

// AnnotationValue is the value of an annotation a group stamps: any text of at
// most 4096 characters, so that 32 of them stay well within the 256 KiB the API
// server allows for all of a pod's annotations.
// +kubebuilder:validation:MaxLength=4096
type AnnotationValue string

// Limits of spec.memberMetadata, enforced by the CRD schema.
const (
	// MaxMemberMetadataEntries is the most entries memberMetadata.labels, and
	// memberMetadata.annotations, may each hold.
	MaxMemberMetadataEntries = 32
	// MaxAnnotationValueLength is the longest value memberMetadata.annotations may hold.
	MaxAnnotationValueLength = 4096
	// MaxKeptExamples is the most entries status.memberMetadata.kept lists.
	MaxKeptExamples = 10
)

// MetadataKind says whether a stamped key is a label or an annotation.
// +kubebuilder:validation:Enum=Label;Annotation
type MetadataKind string

const (
	// MetadataKindLabel is a key of memberMetadata.labels.
	MetadataKindLabel MetadataKind = "Label"
	// MetadataKindAnnotation is a key of memberMetadata.annotations.
	MetadataKindAnnotation MetadataKind = "Annotation"
)

// KeptKey is a key of a member pod that keeps a value other than the group's.
type KeptKey struct {
	// Pod is the name of the member pod.
	// +required
	Pod string `json:"pod"`
	// Kind is Label or Annotation.
	// +required
	Kind MetadataKind `json:"kind"`
	// Key is the label or annotation key.
	// +required
	Key string `json:"key"`
	// KeptBy is the name of the other LabelGroup that stamped the key first, or
	// empty when the pod's own value (from its manifest or controller) is kept.
	// +optional
	KeptBy string `json:"keptBy,omitempty"`
}

// MemberMetadataStatus is how far spec.memberMetadata is carried by the members.
type MemberMetadataStatus struct {
	// MembersComplete is the number of member pods that carry every label and
	// annotation of spec.memberMetadata (refused label keys aside) with the
	// group's value.
	// +optional
	MembersComplete int32 `json:"membersComplete"`
	// KeptByMember is the exact number of (pod, key) pairs where the pod's own
	// value was kept instead of the group's.
	// +optional
	KeptByMember int32 `json:"keptByMember"`
	// KeptByGroup is the exact number of (pod, key) pairs where another
	// LabelGroup's different value was kept.
	// +optional
	KeptByGroup int32 `json:"keptByGroup"`
	// Kept are examples of the kept keys, sorted by pod, kind and key, at most 10;
	// keptByMember plus keptByGroup is the exact count.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=10
	Kept []KeptKey `json:"kept,omitempty"`
	// RefusedLabelKeys are the keys of memberMetadata.labels that a selector of
	// a LabelGroup of the namespace uses; they are not stamped.
	// +optional
	// +listType=atomic
	RefusedLabelKeys []string `json:"refusedLabelKeys,omitempty"`
}

// Overlap is another LabelGroup of the namespace that overlaps this one.
type Overlap struct {
	// Name is the name of the other LabelGroup.
	// +required
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// SharedMembers is the number of pods that are members of both groups.
	// +required
	SharedMembers int32 `json:"sharedMembers"`
}

// LabelGroupStatus is the observed state of a LabelGroup.
type LabelGroupStatus struct {
	// ObservedGeneration is the metadata.generation this status was computed
	// for. It is 0 until the operator first reconciles the group (the API
	// server defaults it), so that kstatus, Flux and Argo CD read a group no
	// operator has seen as in progress rather than current.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Selector is the canonical string form of spec.selector, as
	// `kubectl get pods -l` accepts it.
	// +optional
	Selector string `json:"selector,omitempty"`

	// MemberCount is the exact number of pods the group selects.
	// +optional
	// +kubebuilder:default=0
	MemberCount int32 `json:"memberCount"`

	// Members are the names of the member pods, sorted ascending, cut at the
	// manager's --status-member-limit (default 100, at most 500); memberCount
	// stays exact.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=500
	// +kubebuilder:validation:items:MaxLength=253
	Members []string `json:"members,omitempty"`

	// OverlapCount is the exact number of other groups of the namespace that
	// overlap this one under its overlapPolicy.
	// +optional
	// +kubebuilder:default=0
	OverlapCount int32 `json:"overlapCount"`

	// Overlaps are the other groups of the namespace that overlap this one under
	// its overlapPolicy, sorted by name, cut at the manager's
	// --status-overlap-limit (default 100, at most 500); overlapCount stays exact.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=500
	Overlaps []Overlap `json:"overlaps,omitempty"`

	// MemberMetadata reports how far spec.memberMetadata is carried by the
	// members; unset when the group has no memberMetadata or stamping is off.
	// +optional
	MemberMetadata *MemberMetadataStatus `json:"memberMetadata,omitempty"`

	// Conditions are Ready, Overlapping, while the selector cannot be
	// evaluated Stalled, and with memberMetadata MetadataApplied; see the
	// constants of this package for their reasons.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// LabelGroup records which pods of its namespace a label selector picks, and
// which other LabelGroups of the namespace overlap it.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=lg
// +kubebuilder:printcolumn:name="Selector",type=string,JSONPath=`.status.selector`
// +kubebuilder:printcolumn:name="Members",type=integer,JSONPath=`.status.memberCount`
// +kubebuilder:printcolumn:name="Overlapping",type=string,JSONPath=`.status.conditions[?(@.type=="Overlapping")].status`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type LabelGroup struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec LabelGroupSpec `json:"spec"`
	// Status is the observed state of the LabelGroup. Its default makes a
	// group that no operator has reconciled yet read back with
	// status.observedGeneration 0, behind its generation, which kstatus reads
	// as InProgress.
	// +optional
	// +kubebuilder:default={observedGeneration: 0}
	Status LabelGroupStatus `json:"status,omitempty"`
}

// LabelGroupList is a list of LabelGroups.
// +kubebuilder:object:root=true
type LabelGroupList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []LabelGroup `json:"items"`
}
