package controller

import (
	"github.com/prometheus/client_golang/prometheus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/labelgroup/labelgroup-operator/internal/grouping"
)

// The gauges that alert rules read. Each series is labelled with the group's
// namespace and name; a deleted group's series are removed.
var (
	membersGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "labelgroup_members",
		Help: "Number of pods the LabelGroup selects.",
	}, []string{"namespace", "labelgroup"})
	overlappingGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "labelgroup_overlapping",
		Help: "1 when another LabelGroup of the namespace overlaps this one under its overlapPolicy, else 0.",
	}, []string{"namespace", "labelgroup"})
	overlapsGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "labelgroup_overlaps",
		Help: "Number of other LabelGroups of the namespace that overlap this one under its overlapPolicy.",
	}, []string{"namespace", "labelgroup"})
)

// statusWriteErrors counts the status writes the API server refused. Its
// labels stay few: one series per namespace and metav1.StatusReason (a fixed
// set of words such as Invalid, RequestEntityTooLarge, Forbidden), never the
// group's name or the error's text.
var statusWriteErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "labelgroup_status_write_errors_total",
	Help: "Status writes of LabelGroups that failed, by namespace and the API server's reason (Unknown when it gave none).",
}, []string{"namespace", "reason"})

func init() {
	metrics.Registry.MustRegister(membersGauge, overlappingGauge, overlapsGauge, statusWriteErrors)
}

// writeErrorReason is the reason label of a failed status write: the
// metav1.StatusReason the API server gave, or Unknown when the write did not
// get an answer from it (a timeout or a broken connection).
func writeErrorReason(err error) string {
	if reason := apierrors.ReasonForError(err); reason != "" {
		return string(reason)
	}
	return "Unknown"
}

// groupMetrics publishes the gauges of the groups a reconcile looked at, and
// deletes the series of groups that are gone.
type groupMetrics struct{}

// record sets the gauges of the groups of results and deletes the series of
// the groups of namespace called gone.
func (groupMetrics) record(namespace string, results []grouping.Result, gone []string) {
	for _, r := range results {
		overlapping := 0.0
		if len(r.Overlaps) > 0 {
			overlapping = 1
		}
		membersGauge.WithLabelValues(namespace, r.Name).Set(float64(r.MemberCount))
		overlappingGauge.WithLabelValues(namespace, r.Name).Set(overlapping)
		overlapsGauge.WithLabelValues(namespace, r.Name).Set(float64(len(r.Overlaps)))
	}
	for _, name := range gone {
		membersGauge.DeleteLabelValues(namespace, name)
		overlappingGauge.DeleteLabelValues(namespace, name)
		overlapsGauge.DeleteLabelValues(namespace, name)
	}
}
