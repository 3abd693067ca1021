#!/usr/bin/env bash
# Runs a command with a Docker engine that can start privileged containers
# (kind's nodes are privileged containers), and leaves the machine's Docker as
# it found it:
#
# - installs Debian's docker.io when dockerd is missing (hack/apt-install.sh);
# - when a Docker engine already answers, uses it as it is;
# - otherwise starts dockerd for the length of the command and stops it after,
#   pass or fail. Where the capability bounding set of this shell lacks
#   capabilities that `docker run --privileged` asks for (some sandboxes and
#   nested containers lack CAP_SYS_RESOURCE), runc fails with "unable to apply
#   caps", so dockerd then gets hack/boundedrunc as its default runtime: runc
#   with those capabilities, and only those, left out of each container's spec.
#
#   hack/with-docker.sh command [args...]
#
# WITH_DOCKER_DIR (default bin/docker) holds the wrapper and dockerd's log.
# Images and containers live in dockerd's usual /var/lib/docker, so a node
# image built once is still there for the next run.
set -euo pipefail

(($# > 0)) || {
  echo "usage: $0 command [args...]" >&2
  exit 2
}

here=$(cd "$(dirname "$0")" && pwd)
dir=${WITH_DOCKER_DIR:-bin/docker}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

if ! command -v dockerd >/dev/null; then
  "$here/apt-install.sh" docker.io
fi

# missing_caps prints how many capabilities the kernel knows that the bounding
# set lacks.
missing_caps() {
  local last bnd want
  last=$(cat /proc/sys/kernel/cap_last_cap)
  bnd=$((16#$(awk '$1 == "CapBnd:" { print $2 }' /proc/self/status)))
  want=$(((1 << (last + 1)) - 1))
  local n=0 bit
  for ((bit = 0; bit <= last; bit++)); do
    if (((want & ~bnd) >> bit & 1)); then n=$((n + 1)); fi
  done
  echo "$n"
}

if docker info >/dev/null 2>&1; then
  runtime=$(docker info -f '{{.DefaultRuntime}}' 2>/dev/null || true)
  if (($(missing_caps) > 0)) && [[ "$runtime" != bounded-runc ]]; then
    echo "with-docker: warning: the running dockerd uses runtime $runtime, and this machine's capability" \
      "bounding set lacks capabilities that privileged containers ask for; stop it and let this script start one" >&2
  fi
  exec "$@"
fi

args=(--log-level=warn)
if (($(missing_caps) > 0)); then
  echo "with-docker: the capability bounding set lacks $(missing_caps) capabilities;" \
    "dockerd runs containers through hack/boundedrunc" >&2
  (cd "$here" && CGO_ENABLED=0 go build -o "$dir/boundedrunc" ./boundedrunc)
  args+=(--add-runtime "bounded-runc=$dir/boundedrunc" --default-runtime bounded-runc)
fi

dockerd "${args[@]}" >"$dir/dockerd.log" 2>&1 &
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

for _ in $(seq 1 120); do
  if docker info >/dev/null 2>&1; then
    break
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "with-docker: dockerd exited; $dir/dockerd.log says:" >&2
    tail -n 40 "$dir/dockerd.log" >&2
    exit 1
  fi
  sleep 0.5
done
docker info >/dev/null || {
  echo "with-docker: dockerd did not answer within a minute; see $dir/dockerd.log" >&2
  exit 1
}

status=0
"$@" || status=$?
exit "$status"
