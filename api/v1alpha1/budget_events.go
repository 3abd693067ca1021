package v1alpha1

// Event reasons on a PodDisruptionBudget, emitted when the manager runs with
// --watch-pod-disruption-budgets. The operator never writes a budget's status:
// it belongs to the disruption controller.
const (
	// EventBudgetPodsShared (Warning): the budget started covering pods that
	// another budget of its namespace also covers. The eviction API refuses to
	// evict such a pod, so node drains stall on it.
	EventBudgetPodsShared = "PodsSharedWithOtherBudgets"
	// EventBudgetPodsNoLongerShared (Normal): no other budget covers any of the
	// budget's pods any more.
	EventBudgetPodsNoLongerShared = "PodsNoLongerShared"
)
