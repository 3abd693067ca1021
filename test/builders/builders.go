// Package builders keeps the test objects of every test tier to one line:
//
//	builders.MakePod("web-1").Label("tier", "web").Obj()
//	builders.MakeGroup("web").Label("tier", "web").In("env", "prod", "qa").Obj()
package builders

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
)

// PodImage is what test pods would run. They exist only to carry labels:
// membership does not depend on a pod's phase, and where there is no node or
// no pod network they never start.
const PodImage = "registry.k8s.io/pause:3.10"

// PodBuilder builds a pod with labels.
type PodBuilder struct{ pod corev1.Pod }

// MakePod starts a pod named name with no labels.
func MakePod(name string) *PodBuilder {
	return &PodBuilder{pod: corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "pause", Image: PodImage}}},
	}}
}

// Namespace sets the pod's namespace.
func (b *PodBuilder) Namespace(namespace string) *PodBuilder {
	b.pod.Namespace = namespace
	return b
}

// Label adds a label to the pod.
func (b *PodBuilder) Label(key, value string) *PodBuilder {
	b.pod.Labels[key] = value
	return b
}

// Annotation adds an annotation to the pod.
func (b *PodBuilder) Annotation(key, value string) *PodBuilder {
	if b.pod.Annotations == nil {
		b.pod.Annotations = map[string]string{}
	}
	b.pod.Annotations[key] = value
	return b
}

// Obj returns a copy of the pod built so far.
func (b *PodBuilder) Obj() *corev1.Pod { return b.pod.DeepCopy() }

// GroupBuilder builds a LabelGroup.
type GroupBuilder struct{ group v1alpha1.LabelGroup }

// MakeGroup starts a LabelGroup named name with the empty selector.
func MakeGroup(name string) *GroupBuilder {
	return &GroupBuilder{group: v1alpha1.LabelGroup{ObjectMeta: metav1.ObjectMeta{Name: name}}}
}

// Namespace sets the group's namespace.
func (b *GroupBuilder) Namespace(namespace string) *GroupBuilder {
	b.group.Namespace = namespace
	return b
}

// Label adds a matchLabels entry to the selector.
func (b *GroupBuilder) Label(key, value string) *GroupBuilder {
	if b.group.Spec.Selector.MatchLabels == nil {
		b.group.Spec.Selector.MatchLabels = map[string]v1alpha1.LabelValue{}
	}
	b.group.Spec.Selector.MatchLabels[key] = v1alpha1.LabelValue(value)
	return b
}

// Expression adds a matchExpressions requirement to the selector.
func (b *GroupBuilder) Expression(key string, op v1alpha1.LabelSelectorOperator, values ...string) *GroupBuilder {
	req := v1alpha1.LabelSelectorRequirement{Key: v1alpha1.LabelKey(key), Operator: op}
	for _, v := range values {
		req.Values = append(req.Values, v1alpha1.LabelValue(v))
	}
	b.group.Spec.Selector.MatchExpressions = append(b.group.Spec.Selector.MatchExpressions, req)
	return b
}

// In adds the requirement `key in (values)` to the selector.
func (b *GroupBuilder) In(key string, values ...string) *GroupBuilder {
	return b.Expression(key, v1alpha1.LabelSelectorOpIn, values...)
}

// Policy sets the group's overlapPolicy.
func (b *GroupBuilder) Policy(p v1alpha1.OverlapPolicy) *GroupBuilder {
	b.group.Spec.OverlapPolicy = p
	return b
}

// Obj returns a copy of the group built so far.
func (b *GroupBuilder) Obj() *v1alpha1.LabelGroup { return b.group.DeepCopy() }

// StampLabel adds a label to the group's spec.memberMetadata.
func (b *GroupBuilder) StampLabel(key, value string) *GroupBuilder {
	b.memberMetadata()
	if b.group.Spec.MemberMetadata.Labels == nil {
		b.group.Spec.MemberMetadata.Labels = map[string]v1alpha1.LabelValue{}
	}
	b.group.Spec.MemberMetadata.Labels[key] = v1alpha1.LabelValue(value)
	return b
}

// StampAnnotation adds an annotation to the group's spec.memberMetadata.
func (b *GroupBuilder) StampAnnotation(key, value string) *GroupBuilder {
	b.memberMetadata()
	if b.group.Spec.MemberMetadata.Annotations == nil {
		b.group.Spec.MemberMetadata.Annotations = map[string]v1alpha1.AnnotationValue{}
	}
	b.group.Spec.MemberMetadata.Annotations[key] = v1alpha1.AnnotationValue(value)
	return b
}

func (b *GroupBuilder) memberMetadata() {
	if b.group.Spec.MemberMetadata == nil {
		b.group.Spec.MemberMetadata = &v1alpha1.MemberMetadata{}
	}
}
