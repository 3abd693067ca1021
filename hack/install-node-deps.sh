#!/usr/bin/env bash
# Installs, from Debian's packages, what the local cluster's node needs beside
# the Kubernetes binaries that `make node-binaries` builds: containerd (with its
# CRI plugin) and runc to run the pods' containers, and containernetworking-plugins
# for the loopback CNI plugin, which lets the node report Ready without a pod
# network (see hack/localcluster). Packages already present are left alone
# (hack/apt-install.sh).
#
# Needs root (as CI has). Also installs shellcheck when SHELLCHECK=1, for linting.
set -euo pipefail

packages=(containerd runc containernetworking-plugins)
if [[ "${SHELLCHECK:-0}" == 1 ]]; then
  packages+=(shellcheck)
fi
exec "$(dirname "$0")/apt-install.sh" "${packages[@]}"
