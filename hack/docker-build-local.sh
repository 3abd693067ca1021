#!/usr/bin/env bash
# Builds the Dockerfile with no registry, on the local stand-ins for its base
# images that hack/docker-bases.sh makes, then runs the image: it must start
# as its non-root user and answer --help.
#
#   hack/docker-build-local.sh IMAGE
set -euo pipefail

image=${1:?usage: $0 IMAGE}
# shellcheck disable=SC2046 # the --build-arg flags, one word each
docker build --network host $("$(dirname "$0")/docker-bases.sh") -t "$image" .
user=$(docker image inspect -f '{{.Config.User}}' "$image")
if [[ "$user" != 65532:65532 ]]; then
  echo "docker-build-local: $image runs as user $user, want 65532:65532" >&2
  exit 1
fi
docker run --rm "$image" --help >/dev/null 2>&1 || {
  docker run --rm "$image" --help
  exit 1
}
echo "docker-build-local: $image runs as $user and answers --help"
