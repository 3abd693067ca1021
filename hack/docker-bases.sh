#!/usr/bin/env bash
# Makes, with no registry, local equivalents of the Dockerfile's two base
# images and prints the --build-arg flags that select them:
#
# - BUILDER_IMAGE (golang:1.26 upstream): an empty root with this machine's Go
#   toolchain (GOROOT, statically linked), Debian's static busybox as /bin/sh
#   (for the Dockerfile's RUN lines), CA certificates and /tmp;
# - RUNTIME_IMAGE (distroless static:nonroot upstream): an empty root with CA
#   certificates, /etc/passwd and /etc/group naming root and nonroot (65532),
#   and /tmp. No shell, no libc: the manager is static.
#
#   docker build $(hack/docker-bases.sh) -t IMAGE .
#
# Each image is named by what it holds (the Go version; a hash of the runtime
# root) and made only when Docker lacks it.
set -euo pipefail

goroot=$(go env GOROOT)
goversion=$(go env GOVERSION)
builder=localhost/golang:${goversion#go}-busybox
runtime_image=localhost/static:nonroot

certs=/etc/ssl/certs/ca-certificates.crt
"$(dirname "$0")/apt-install.sh" ca-certificates busybox-static >&2

# skeleton DIR: the files both images share.
skeleton() {
  mkdir -p "$1/etc/ssl/certs" "$1/tmp"
  chmod 1777 "$1/tmp"
  cp "$certs" "$1/etc/ssl/certs/"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$1/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$1/etc/group"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! docker image inspect "$builder" >/dev/null 2>&1; then
  skeleton "$work/go"
  mkdir -p "$work/go/usr/local" "$work/go/root" "$work/go/bin"
  cp -a "$goroot" "$work/go/usr/local/go"
  cp /bin/busybox "$work/go/bin/busybox"
  ln -s busybox "$work/go/bin/sh"
  tar -C "$work/go" --numeric-owner -c . | docker import \
    --change 'ENV PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV HOME=/root' --change 'WORKDIR /' - "$builder" >/dev/null
  echo "docker-bases: made $builder from $goroot" >&2
fi

skeleton "$work/static"
mkdir -p "$work/static/home/nonroot"
chown 65532:65532 "$work/static/home/nonroot"
if ! docker image inspect "$runtime_image" >/dev/null 2>&1; then
  tar -C "$work/static" --numeric-owner -c . | docker import \
    --change 'USER 65532:65532' --change 'WORKDIR /home/nonroot' - "$runtime_image" >/dev/null
  echo "docker-bases: made $runtime_image" >&2
fi

echo "--build-arg BUILDER_IMAGE=$builder --build-arg RUNTIME_IMAGE=$runtime_image"
