#!/usr/bin/env bash
# Runs a command against a local cluster that lives exactly as long as the
# command: starts hack/localcluster in the background with the given flags,
# waits until it is ready, runs the command with the cluster's env file
# exported (KUBECONFIG, APISERVER_PORT, ...; see hack/localcluster/README.md),
# then stops the cluster, also when the command fails or on Ctrl-C.
#
#   hack/with-local-cluster.sh [launcher flags...] -- command [args...]
#
# The exit status is the command's, or 1 if the cluster did not come up.
# LOCALCLUSTER names the launcher binary (default bin/localcluster) and
# LOCALCLUSTER_DIR the directory for its kubeconfig, env file, logs and output
# (default bin/local-cluster); the logs stay there for a post-mortem.
set -euo pipefail

usage() {
  echo "usage: $0 [localcluster flags...] -- command [args...]" >&2
  exit 2
}

launcher_args=()
while (($# > 0)) && [[ "$1" != -- ]]; do
  launcher_args+=("$1")
  shift
done
(($# > 1)) || usage
shift # the --

launcher=${LOCALCLUSTER:-bin/localcluster}
dir=${LOCALCLUSTER_DIR:-bin/local-cluster}
env_file=$dir/env
log=$dir/launcher.log
mkdir -p "$dir"
rm -f "$env_file"

# The launcher prints the kubeconfig on stdout; keep it out of the CI log.
"$launcher" --kubeconfig-out "$dir/kubeconfig" --env-out "$env_file" \
  --log-dir "$dir/logs" "${launcher_args[@]}" >"$log" 2>&1 &
pid=$!

# shellcheck disable=SC2317 # run by the EXIT trap
stop() {
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" || true
  fi
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Ready when the env file names our launcher: it is written last, whole.
until grep -qx "LOCALCLUSTER_PID=$pid" "$env_file" 2>/dev/null; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "with-local-cluster: the cluster did not come up; $log says:" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
  sleep 0.2
done
grep '^localcluster:' "$log" >&2 || true

set -a
# shellcheck source=/dev/null
. "$env_file"
set +a

status=0
"$@" || status=$?
exit "$status"
