package validation

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/controller"
	"github.com/labelgroup/labelgroup-operator/test/builders"
)

// The limits the operator keeps what it writes within are the API server's
// own: at each limit a write is accepted, one past it refused.
var _ = Describe("The limits the operator writes within", func() {
	var ns string
	BeforeEach(func() {
		namespace := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "limits-"}}
		Expect(k8sClient.Create(ctx, namespace)).To(Succeed())
		ns = namespace.Name
	})

	names := func(n, length int) []string {
		out := make([]string, n)
		for i := range out {
			prefix := fmt.Sprintf("n%04d-", i)
			out[i] = prefix + strings.Repeat("x", length-len(prefix))
		}
		return out
	}
	overlaps := func(n int) []v1alpha1.Overlap {
		var out []v1alpha1.Overlap
		for _, name := range names(n, 253) {
			out = append(out, v1alpha1.Overlap{Name: name, SharedMembers: 1})
		}
		return out
	}
	conditions := func(n, messageBytes int) []metav1.Condition {
		out := make([]metav1.Condition, n)
		for i := range out {
			out[i] = metav1.Condition{Type: fmt.Sprintf("C%d", i), Status: metav1.ConditionTrue, Reason: "Test",
				Message: strings.Repeat("m", messageBytes), LastTransitionTime: metav1.Now()}
		}
		return out
	}

	DescribeTable("status of a group with a 253-character name",
		func(status v1alpha1.LabelGroupStatus, wantRefused string) {
			group := builders.MakeGroup(names(1, 253)[0]).Namespace(ns).Obj()
			Expect(k8sClient.Create(ctx, group)).To(Succeed())
			group.Status = status
			err := k8sClient.Status().Update(ctx, group)
			if wantRefused == "" {
				Expect(err).NotTo(HaveOccurred())
				return
			}
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
			Expect(err.Error()).To(ContainSubstring(wantRefused))
		},
		Entry("a message of 32,768 bytes", v1alpha1.LabelGroupStatus{Conditions: conditions(1, controller.MaxConditionMessageBytes)}, ""),
		Entry("a message of 32,769 bytes", v1alpha1.LabelGroupStatus{Conditions: conditions(1, controller.MaxConditionMessageBytes+1)}, "status.conditions[0].message: Too long"),
		Entry("500 members of 253 characters", v1alpha1.LabelGroupStatus{Members: names(v1alpha1.MaxStatusMembers, 253)}, ""),
		Entry("501 members", v1alpha1.LabelGroupStatus{Members: names(v1alpha1.MaxStatusMembers+1, 10)}, "status.members: Too many: 501"),
		Entry("a member of 254 characters", v1alpha1.LabelGroupStatus{Members: names(1, 254)}, "status.members[0]: Too long"),
		Entry("500 overlaps of 253 characters", v1alpha1.LabelGroupStatus{Overlaps: overlaps(v1alpha1.MaxStatusOverlaps)}, ""),
		Entry("501 overlaps", v1alpha1.LabelGroupStatus{Overlaps: overlaps(v1alpha1.MaxStatusOverlaps + 1)}, "status.overlaps: Too many: 501"),
		Entry("8 conditions", v1alpha1.LabelGroupStatus{Conditions: conditions(v1alpha1.MaxStatusConditions, 10)}, ""),
		Entry("9 conditions", v1alpha1.LabelGroupStatus{Conditions: conditions(v1alpha1.MaxStatusConditions+1, 10)}, "status.conditions: Too many: 9"),
	)

	DescribeTable("an events.k8s.io event's note",
		func(noteBytes int, wantAccepted bool) {
			event := &eventsv1.Event{
				ObjectMeta:          metav1.ObjectMeta{GenerateName: "note-", Namespace: ns},
				EventTime:           metav1.NowMicro(),
				ReportingController: "grouping.labelgroup.io/labelgroup-controller",
				ReportingInstance:   "test",
				Action:              "Reconcile",
				Reason:              v1alpha1.EventOverlapDetected,
				Type:                corev1.EventTypeWarning,
				Regarding:           corev1.ObjectReference{Kind: "LabelGroup", Namespace: ns, Name: "g"},
				Note:                strings.Repeat("n", noteBytes),
			}
			err := k8sClient.Create(ctx, event)
			if wantAccepted {
				Expect(err).NotTo(HaveOccurred())
				return
			}
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
			Expect(err.Error()).To(ContainSubstring("can have at most 1024 characters"))
		},
		Entry("1,024 bytes", controller.MaxEventNoteBytes, true),
		Entry("1,025 bytes", controller.MaxEventNoteBytes+1, false),
	)
})
