#!/usr/bin/env bash
# Installs, from Debian's packages, what the local cluster's node needs beside
# the Kubernetes binaries that `make node-binaries` builds: containerd (with its
# CRI plugin) and runc to run the pods' containers, and containernetworking-plugins
# for the loopback CNI plugin, which lets the node report Ready without a pod
# network (see hack/localcluster). Packages already present are left alone, so
# this is cheap on a machine that has them; apt-get runs only when one is missing.
#
# Needs root (as CI has). Also installs shellcheck when SHELLCHECK=1, for linting.
set -euo pipefail

packages=(containerd runc containernetworking-plugins)
if [[ "${SHELLCHECK:-0}" == 1 ]]; then
  packages+=(shellcheck)
fi

missing=()
for pkg in "${packages[@]}"; do
  # dpkg-query says "install ok installed" only for a fully installed package.
  if [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-node-deps: ${packages[*]} already installed"
  exit 0
fi

if [[ $EUID -ne 0 ]]; then
  echo "install-node-deps: need root to install ${missing[*]}" >&2
  exit 1
fi

echo "install-node-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# --no-install-recommends: containerd does not need the recommended extras, and
# the fewer packages the faster a fresh CI machine gets going. Debian's
# containerd package would also start a systemd service; there is no systemd
# here (and where there is, the launcher runs its own containerd on its own
# socket, so the system one does not matter).
apt-get install -y -qq --no-install-recommends "${missing[@]}"
