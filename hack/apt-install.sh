#!/usr/bin/env bash
# Installs the given Debian packages that are not installed yet, and nothing
# when all are: apt-get runs only when one is missing, so this is cheap on a
# machine that has them. Needs root to install (as CI has).
#
#   hack/apt-install.sh package...
set -euo pipefail

missing=()
for pkg in "$@"; do
  # dpkg-query says "install ok installed" only for a fully installed package.
  if [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "apt-install: $* already installed"
  exit 0
fi

if [[ $EUID -ne 0 ]]; then
  echo "apt-install: need root to install ${missing[*]}" >&2
  exit 1
fi

echo "apt-install: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# --no-install-recommends: the fewer packages the faster a fresh CI machine
# gets going. A package that would start a systemd service (containerd,
# prometheus) does not here: there is no systemd, and nothing needs the
# service (the launcher runs its own containerd; only promtool is used).
apt-get install -y -qq --no-install-recommends "${missing[@]}"
