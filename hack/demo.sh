#!/usr/bin/env bash
# The body of `make demo`, run by hack/demo (Go) against the embedded control
# plane it started (it sets KUBECONFIG, and DEMO_DIR for the logs):
# applies the samples, runs the operator, shows the groups it computed, and
# keeps both running until Ctrl-C.
set -euo pipefail

metrics_addr=${DEMO_METRICS_ADDR:-127.0.0.1:8080}
manager_log=$DEMO_DIR/manager.log

kubectl apply -f config/samples/

bin/manager --kubeconfig "$KUBECONFIG" --metrics-bind-address "$metrics_addr" --metrics-secure=false \
  --health-probe-bind-address 0 >"$manager_log" 2>&1 &
manager=$!
# shellcheck disable=SC2317 # run by the EXIT trap
stop_manager() {
  kill -TERM "$manager" 2>/dev/null || true
  wait "$manager" 2>/dev/null || true
}
trap stop_manager EXIT

if ! kubectl wait --for=condition=Ready labelgroups --all --timeout=60s >/dev/null; then
  echo "demo: the LabelGroups did not become Ready; the operator's log says:" >&2
  tail -n 40 "$manager_log" >&2
  exit 1
fi

echo
echo '$ kubectl get labelgroups'
kubectl get labelgroups
echo
echo '$ kubectl get labelgroups -o custom-columns=...'
kubectl get labelgroups -o custom-columns='NAME:.metadata.name,POLICY:.spec.overlapPolicy,MEMBERS:.status.members,OVERLAPS:.status.overlaps[*].name,SHARED:.status.overlaps[*].sharedMembers,REASON:.status.conditions[?(@.type=="Overlapping")].reason'

cat <<MSG

The control plane and the operator keep running until Ctrl-C. In another shell:

  export KUBECONFIG=$KUBECONFIG
  kubectl get labelgroups                                  # Selector, Members, Overlapping, Ready
  kubectl get pods -l "\$(kubectl get lg frontend -o jsonpath='{.status.selector}')"
  kubectl label pod api-qa tier=frontend --overwrite        # api-qa joins frontend
  kubectl get lg frontend -o yaml                           # members, overlaps, conditions
  kubectl events --for labelgroup/production                # OverlapDetected / OverlapResolved
  curl -s http://$metrics_addr/metrics | grep '^labelgroup_'

The operator's log: $manager_log
MSG
wait "$manager"
