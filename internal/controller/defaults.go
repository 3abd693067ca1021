package controller

import (
	"time"

	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The defaults the manager ships. cmd/manager exposes each as a flag, and the
// integration suites run the reconciler NewLabelGroupReconciler builds, so that
// what is tested is what users run.
const (
	// DefaultMemberLimit is how many member names status.members holds.
	DefaultMemberLimit = 100
	// DefaultOverlapLimit is how many overlapping groups status.overlaps holds.
	DefaultOverlapLimit = 100
	// DefaultMaxConcurrentReconciles is how many namespaces are reconciled at once.
	DefaultMaxConcurrentReconciles = 4
	// DefaultStatusWriters is how many status patches of one namespace are in
	// flight at once.
	DefaultStatusWriters = 64
	// DefaultMinReconcileInterval is the shortest time between two reconciles
	// of one namespace caused by pod events (see namespacePacer).
	DefaultMinReconcileInterval = 250 * time.Millisecond
)

// NewLabelGroupReconciler returns a reconciler with the shipped defaults;
// the caller sets MemberMetadata, and any field it wants otherwise, before
// SetupWithManager.
func NewLabelGroupReconciler(c client.Client, recorder events.EventRecorder) *LabelGroupReconciler {
	return &LabelGroupReconciler{
		Client:                  c,
		Recorder:                recorder,
		MemberLimit:             DefaultMemberLimit,
		OverlapLimit:            DefaultOverlapLimit,
		MaxConcurrentReconciles: DefaultMaxConcurrentReconciles,
		StatusWriters:           DefaultStatusWriters,
		MinReconcileInterval:    DefaultMinReconcileInterval,
	}
}
