#!/usr/bin/env bash
# Builds the kubectl-labelgroup release archives, one per platform, into DIST:
#   kubectl-labelgroup_VERSION_OS_ARCH.tar.gz and its .sha256
# stripped (-s -w) and without local paths (-trimpath), static (CGO_ENABLED=0).
# The tarballs are reproducible from the same source and Go toolchain: fixed
# order, owner and times, and gzip without a name or time stamp.
#
#   hack/release.sh VERSION DIST [OS/ARCH ...]   (default: linux and darwin, amd64 and arm64)
set -euo pipefail
cd "$(dirname "$0")/.."

version=${1:?usage: hack/release.sh VERSION DIST [OS/ARCH ...]}
dist=${2:?usage: hack/release.sh VERSION DIST [OS/ARCH ...]}
shift 2
platforms=("$@")
((${#platforms[@]})) || platforms=(linux/amd64 linux/arm64 darwin/amd64 darwin/arm64)

mkdir -p "$dist"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for platform in "${platforms[@]}"; do
  os=${platform%/*} arch=${platform#*/}
  archive="kubectl-labelgroup_${version}_${os}_${arch}.tar.gz"
  echo "release: $archive"
  rm -rf "${work:?}/$platform" && mkdir -p "$work/$platform"
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath -ldflags "-s -w" \
    -o "$work/$platform/kubectl-labelgroup" ./cmd/kubectl-labelgroup
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
    -C "$work/$platform" -cf - kubectl-labelgroup | gzip -n -9 > "$dist/$archive"
  (cd "$dist" && sha256sum "$archive" > "$archive.sha256")
done
