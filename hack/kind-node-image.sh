#!/usr/bin/env bash
# Builds a kind node image with no registry: a Debian root filesystem from the
# machine's own apt sources (debootstrap), containerd, runc and the CNI plugins
# from Debian, the Kubernetes binaries built from the pinned sources
# (hack/tools), the layout and systemd units of kind's own base image (read from
# the kind Go module at the version the Makefile pins), and the control-plane
# images kubeadm needs, made with hack/imagetar and imported into the node's
# containerd, so that `kind create cluster` pulls nothing.
#
#   hack/kind-node-image.sh IMAGE
#
# Environment (the Makefile sets all of them):
#   K8S_BIN       the Kubernetes binaries: kubelet, kubeadm, kubectl, kube-proxy,
#                 kube-apiserver, kube-controller-manager, kube-scheduler, etcd
#   K8S_VERSION   their version, e.g. v1.37.1
#   PAUSE_BINARY  the static pause binary (hack/pause)
#   KIND_DIR      the kind module's directory in the module cache
#   IMAGETAR      the hack/imagetar binary
#   NODE_DIR      the cache directory (bin/kind-node)
#
# The image is cached by a key of all its inputs: the packages and Debian
# release, this script and hack/kind/, the binaries and kind's files. An image
# of that key already in Docker is used as it is; otherwise the root filesystem
# tarball NODE_DIR/node-KEY.tar is imported if present, or built (about two
# minutes and 400 MB of downloads on a fresh machine).
set -euo pipefail

image=${1:?usage: $0 IMAGE}
here=$(cd "$(dirname "$0")" && pwd)
: "${K8S_BIN:?}" "${K8S_VERSION:?}" "${PAUSE_BINARY:?}" "${KIND_DIR:?}" "${IMAGETAR:?}" "${NODE_DIR:?}"

# What kind's base image installs that a node here needs (systemd, the
# container runtime and the networking tools kubelet, kube-proxy and kind's
# entrypoint call), from Debian.
packages=(systemd systemd-sysv dbus containerd runc containernetworking-plugins
  iptables iproute2 conntrack ethtool kmod procps ca-certificates libseccomp2
  mount util-linux jq)
# The node's Debian release is the machine's, from its own apt sources.
. /etc/os-release
suite=$VERSION_CODENAME
mirror=$(awk '$1 == "URIs:" { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
if [[ -z "$mirror" ]]; then
  mirror=$(awk '$1 == "deb" && $2 !~ /^\[/ { print $2; exit }' /etc/apt/sources.list)
fi

# stage_libs ROOTFS DEST FILE...: copies the shared libraries that the
# programs FILE... (paths inside ROOTFS) load, as ROOTFS has them, into DEST at
# the same paths.
stage_libs() {
  local rootfs=$1 dest=$2 lib f
  shift 2
  for f in "$@"; do
    chroot "$rootfs" ldd "$f" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' || true
  done | sort -u | while read -r lib; do
    mkdir -p "$dest$(dirname "$lib")"
    cp -L "$rootfs$lib" "$dest$lib"
  done
}

# build_images ROOTFS PAUSE_IMAGE: makes the images kubeadm runs (the control
# plane's static pods, etcd, kube-proxy and the pause container) with
# hack/imagetar, under the names kubeadm expects, and imports them into the
# node's containerd (ROOTFS/var/lib/containerd). Binaries that are not static
# get the node's shared libraries beside them; kube-proxy also gets the node's
# iptables, which it runs.
build_images() {
  local rootfs=$1 pause_image=$2 work=$NODE_DIR/images name ref b
  rm -rf "$work"
  mkdir -p "$work"
  "$IMAGETAR" --binary "$PAUSE_BINARY" --image "$pause_image" --out "$work/pause.tar" >/dev/null
  for b in kube-apiserver kube-controller-manager kube-scheduler kube-proxy etcd; do
    ref=$("$K8S_BIN/kubeadm" config images list --kubernetes-version "$K8S_VERSION" | grep "/$b:")
    install -m 0755 "$K8S_BIN/$b" "$rootfs/tmp/$b"
    mkdir -p "$work/$b"
    stage_libs "$rootfs" "$work/$b" "/tmp/$b"
    if [[ "$b" == kube-proxy ]]; then
      stage_libs "$rootfs" "$work/$b" /usr/sbin/xtables-nft-multi
      mkdir -p "$work/$b/usr/sbin" "$work/$b/usr/lib/x86_64-linux-gnu" "$work/$b/etc"
      cp "$rootfs/usr/sbin/xtables-nft-multi" "$work/$b/usr/sbin/"
      for name in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
        ln -s xtables-nft-multi "$work/$b/usr/sbin/$name"
      done
      cp -r "$rootfs/usr/lib/x86_64-linux-gnu/xtables" "$work/$b/usr/lib/x86_64-linux-gnu/"
      cp "$rootfs/etc/protocols" "$work/$b/etc/"
    fi
    rm "$rootfs/tmp/$b"
    "$IMAGETAR" --binary "$K8S_BIN/$b" --path "/usr/local/bin/$b" --user 0:0 --dir "$work/$b" \
      --image "$ref" --out "$work/$b.tar" >/dev/null
  done
  import_images "$rootfs" "$work"/*.tar
  echo "kind-node-image: imported $(cd "$work" && echo *.tar)"
  rm -rf "$work"
}

# import_images ROOTFS TAR...: imports the image tarballs into the content
# store of the node's containerd, to be unpacked on first use (as kind's own
# node image build does), with the machine's containerd of the same Debian
# release.
import_images() {
  local rootfs=$1 state pid t
  shift
  state=$(mktemp -d)
  cat >"$state/config.toml" <<EOF
version = 2
root = "$rootfs/var/lib/containerd"
state = "$state/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$state/containerd.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$state/opt"
EOF
  containerd --config "$state/config.toml" >"$NODE_DIR/containerd.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 50); do
    ctr --address "$state/containerd.sock" version >/dev/null 2>&1 && break
    sleep 0.2
  done
  for t in "$@"; do
    ctr --address "$state/containerd.sock" -n k8s.io images import --all-platforms --no-unpack --digests "$t" >/dev/null
  done
  kill "$pid"
  wait "$pid" || true
  rm -rf "$state"
}

binaries=(kubelet kubeadm kubectl kube-proxy kube-apiserver kube-controller-manager kube-scheduler etcd)
key=$(
  {
    echo "$suite ${packages[*]} $K8S_VERSION $KIND_DIR"
    cat "$0" "$here"/kind/*
    for b in "${binaries[@]}"; do sha256sum "$K8S_BIN/$b"; done
    sha256sum "$PAUSE_BINARY"
    find "$KIND_DIR/images/base/files" -type f -print0 | sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-16
)
label=dev.labelgroup.kind-node-key

if [[ "$(docker image inspect -f "{{index .Config.Labels \"$label\"}}" "$image" 2>/dev/null)" == "$key" ]]; then
  echo "kind-node-image: $image is up to date (key $key)"
  exit 0
fi

mkdir -p "$NODE_DIR"
tarball=$NODE_DIR/node-$key.tar
if [[ ! -f "$tarball" ]]; then
  start=$SECONDS
  rootfs=$NODE_DIR/rootfs
  rm -rf "$rootfs"
  "$here/apt-install.sh" debootstrap containerd
  # The Debian part, the slow one, is cached on its own, by its own key.
  debian=$NODE_DIR/debian-$(echo "$suite $mirror ${packages[*]}" | sha256sum | cut -c1-16).tar
  if [[ ! -f "$debian" ]]; then
    echo "kind-node-image: debootstrap $suite from $mirror"
    debootstrap --variant=minbase --include="$(
      IFS=,
      echo "${packages[*]}"
    )" "$suite" "$rootfs" "$mirror" >"$NODE_DIR/debootstrap.log" 2>&1 || {
      tail -n 20 "$NODE_DIR/debootstrap.log" >&2
      exit 1
    }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" --numeric-owner -cf "$debian.tmp" .
    mv "$debian.tmp" "$debian"
  else
    mkdir -p "$rootfs"
    tar -C "$rootfs" --numeric-owner -xf "$debian"
  fi
  echo "kind-node-image: Debian root filesystem ready after $((SECONDS - start)) s"

  # kind's base image layout: its entrypoint and scripts, containerd's and
  # kubelet's units and configuration, sysctls.
  files=$KIND_DIR/images/base/files
  install -m 0755 "$files"/usr/local/bin/* "$rootfs/usr/local/bin/"
  mkdir -p "$rootfs/kind/bin" "$rootfs/etc/containerd" "$rootfs/etc/systemd/system/kubelet.service.d" \
    "$rootfs/etc/kubernetes/manifests" "$rootfs/etc/cni/net.d" "$rootfs/opt/cni"
  install -m 0644 "$files"/kind/README.txt "$rootfs/kind/"
  install -m 0755 "$files"/kind/bin/* "$rootfs/kind/bin/"
  install -m 0644 "$files"/etc/containerd/config.toml "$rootfs/etc/containerd/"
  install -m 0644 "$files"/etc/default/kubelet "$rootfs/etc/default/"
  install -m 0644 "$files"/etc/sysctl.d/* "$rootfs/etc/sysctl.d/"
  find "$files/etc/systemd/system" -maxdepth 1 -type f -exec install -m 0644 {} "$rootfs/etc/systemd/system/" \;
  install -m 0644 "$files"/etc/systemd/system/kubelet.service.d/* "$rootfs/etc/systemd/system/kubelet.service.d/"
  # Debian puts containerd in /usr/bin and the CNI plugins in /usr/lib/cni,
  # where kind's units and containerd's defaults do not look.
  ln -sfn /usr/bin/containerd "$rootfs/usr/local/bin/containerd"
  ln -sfn /usr/lib/cni "$rootfs/opt/cni/bin"
  install -m 0644 "$here/kind/10-bridge.conflist" "$rootfs/etc/cni/net.d/"

  # The sandbox image is the pause image below, under kubeadm's name for it;
  # fuse-overlayfs (rootless Docker) is not installed. Containers get no lower
  # OOM score than containerd's own: lowering it needs CAP_SYS_RESOURCE, which
  # a node on a machine whose bounding set lacks it (hack/with-docker.sh) does
  # not have, and runc fails to start every pod there otherwise.
  pause_image=$("$K8S_BIN/kubeadm" config images list --kubernetes-version "$K8S_VERSION" | grep /pause:)
  sed -i -e "s|sandbox_image = .*|sandbox_image = \"$pause_image\"|" \
    -e 's/restrict_oom_score_adj = false/restrict_oom_score_adj = true/' \
    -e '/^\[proxy_plugins/,/address = /d' "$rootfs/etc/containerd/config.toml"
  chroot "$rootfs" sh -c 'ctr oci spec |
    jq ".hooks.createContainer[.hooks.createContainer | length] |= . + {\"path\": \"/kind/bin/mount-product-files.sh\"}" |
    jq "del(.process.rlimits)" >/etc/containerd/cri-base.json'

  # systemd in a container, as kind's base image sets it up.
  find "$rootfs/lib/systemd/system/sysinit.target.wants/" -name systemd-tmpfiles-setup.service -delete
  rm -f "$rootfs"/lib/systemd/system/multi-user.target.wants/* "$rootfs"/etc/systemd/system/*.wants/* \
    "$rootfs"/lib/systemd/system/local-fs.target.wants/* "$rootfs"/lib/systemd/system/sockets.target.wants/*udev* \
    "$rootfs"/lib/systemd/system/sockets.target.wants/*initctl* "$rootfs"/lib/systemd/system/basic.target.wants/*
  echo "ReadKMsg=no" >>"$rootfs/etc/systemd/journald.conf"
  chroot "$rootfs" systemctl enable kubelet.service containerd.service undo-mount-hacks.service >/dev/null 2>&1
  chroot "$rootfs" systemctl mask systemd-binfmt.service >/dev/null 2>&1

  # Kubernetes: the node's binaries, and its version for kind.
  for b in kubelet kubeadm kubectl; do
    install -m 0755 "$K8S_BIN/$b" "$rootfs/usr/bin/$b"
  done
  printf '%s' "$K8S_VERSION" >"$rootfs/kind/version"

  build_images "$rootfs" "$pause_image"

  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/usr/share/doc "$rootfs"/usr/share/man "$rootfs"/tmp/*
  rm -f "$NODE_DIR"/node-*.tar
  tar -C "$rootfs" --numeric-owner -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  rm -rf "$rootfs"
  echo "kind-node-image: built $tarball ($(du -m "$tarball" | cut -f1) MiB) in $((SECONDS - start)) s"
fi

# As kind's base image: systemd is PID 1 and knows it is in a container.
# (kind's image also sets STOPSIGNAL SIGRTMIN+3, which docker import cannot;
# kind deletes its nodes with docker rm -f, which needs no stop signal.)
docker import \
  --change 'ENV container=docker' \
  --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' \
  --change "LABEL $label=$key" \
  "$tarball" "$image" >/dev/null
echo "kind-node-image: $image imported from $tarball (key $key)"
