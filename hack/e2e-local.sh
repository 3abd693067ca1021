#!/usr/bin/env bash
# The body of `make test-e2e-local`, run by hack/with-local-cluster.sh against
# a single-node local cluster (KUBECONFIG and APISERVER_PORT come from its env
# file) into which the manager's image was imported: deploys the operator as
# shipped through the overlay config/e2e-local, then runs the given command
# (the e2e suite) with E2E_KUSTOMIZE_DIR naming the overlay.
#
#   hack/e2e-local.sh command [args...]
set -euo pipefail

(($# > 0)) || {
  echo "usage: $0 command [args...]" >&2
  exit 2
}

overlay=config/e2e-local
# The manager uses the host's network and reaches the API server on
# 127.0.0.1 at the port this cluster's launcher chose.
printf 'KUBERNETES_SERVICE_PORT=%s\n' "$APISERVER_PORT" >"$overlay/apiserver.env"
kubectl apply -k "$overlay"

# The leader election spec applies the HA configuration through its own
# overlay for this node (see config/e2e-local-ha).
E2E_KUSTOMIZE_DIR=$overlay E2E_HA_KUSTOMIZE_DIR=config/e2e-local-ha exec "$@"
