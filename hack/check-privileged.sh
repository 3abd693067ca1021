#!/usr/bin/env bash
# Proves that the Docker engine (hack/with-docker.sh) starts privileged
# containers, as kind's nodes are, and privileged processes in them, as kind
# starts with `docker exec --privileged`: loads the pause image tarball given as
# the only argument (hack/pause packed by hack/imagetar), runs it with
# --privileged, checks that it is running, starts a second, privileged process
# in it, and removes it.
#
#   hack/check-privileged.sh bin/pause.tar
set -euo pipefail

tar=${1:?usage: $0 pause-image.tar}
image=$(docker load -i "$tar" | awk '/^Loaded image:/ { print $3 }')
name=check-privileged-$$
docker rm -f "$name" >/dev/null 2>&1 || true
trap 'docker rm -f "$name" >/dev/null 2>&1 || true' EXIT
docker run -d --privileged --name "$name" "$image" >/dev/null
running=$(docker inspect -f '{{.State.Running}} {{.HostConfig.Privileged}}' "$name")
if [[ "$running" != "true true" ]]; then
  echo "check-privileged: $image: running and privileged = $running" >&2
  exit 1
fi
docker exec -d --privileged "$name" /pause
echo "check-privileged: a privileged container and a privileged exec run ($(docker info -f '{{.DefaultRuntime}}') runtime)"
