#!/usr/bin/env bash
# The body of `make test-e2e`, run by hack/with-docker.sh: creates a kind
# cluster on KIND_NODE_IMAGE, loads the manager's image into it with kind load,
# deploys the operator as shipped through the overlay config/e2e-kind, runs the
# given command (the e2e suite), and deletes the cluster whether it passed or
# failed (also on Ctrl-C). A cluster an interrupted run left is deleted first.
#
#   hack/e2e-kind.sh command [args...]
#
# Environment (the Makefile sets it): KIND, KIND_CLUSTER, KIND_NODE_IMAGE,
# KIND_KUBECONFIG, and E2E_IMAGE_ARCHIVE (an image tarball) or E2E_IMG (an
# image in Docker).
set -euo pipefail

(($# > 0)) || {
  echo "usage: $0 command [args...]" >&2
  exit 2
}
: "${KIND:?}" "${KIND_CLUSTER:?}" "${KIND_NODE_IMAGE:?}" "${KIND_KUBECONFIG:?}"

here=$(cd "$(dirname "$0")" && pwd)
delete() {
  "$KIND" delete cluster --name "$KIND_CLUSTER" --kubeconfig "$KIND_KUBECONFIG"
}
delete
mkdir -p "$(dirname "$KIND_KUBECONFIG")"
trap delete EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start=$SECONDS
"$KIND" create cluster --name "$KIND_CLUSTER" --image "$KIND_NODE_IMAGE" --config "$here/kind/cluster.yaml" \
  --kubeconfig "$KIND_KUBECONFIG" --wait 5m
echo "e2e-kind: cluster ready in $((SECONDS - start)) s"
export KUBECONFIG=$KIND_KUBECONFIG

if [[ -n "${E2E_IMAGE_ARCHIVE:-}" ]]; then
  "$KIND" load image-archive "$E2E_IMAGE_ARCHIVE" --name "$KIND_CLUSTER"
else
  "$KIND" load docker-image "${E2E_IMG:?}" --name "$KIND_CLUSTER"
fi
kubectl apply -k config/e2e-kind

status=0
KIND_CLUSTER=$KIND_CLUSTER E2E_KUSTOMIZE_DIR=config/e2e-kind E2E_HA_KUSTOMIZE_DIR=config/e2e-kind-ha "$@" || status=$?
if ((status != 0)); then
  # What the node did, for a post-mortem, before the cluster goes.
  "$KIND" export logs "${KIND_LOGS_DIR:-bin/e2e-kind/logs}" --name "$KIND_CLUSTER" >/dev/null 2>&1 || true
fi
exit "$status"
