#!/usr/bin/env bash
# Installs promtool, which `make test` runs on the alerting rules, from
# Debian's prometheus package when it is missing, as hack/install-node-deps.sh
# does for containerd: the real promtool users run, never a copy of the rules'
# semantics. A promtool already on PATH is left alone.
#
# Needs root to install (as CI has).
set -euo pipefail

if command -v promtool >/dev/null; then
  echo "install-promtool: $(promtool --version 2>&1 | head -n 1)"
  exit 0
fi

if [[ $EUID -ne 0 ]]; then
  echo "install-promtool: need root to install Debian's prometheus package (promtool)" >&2
  exit 1
fi

echo "install-promtool: installing Debian's prometheus package"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# --no-install-recommends keeps it to prometheus itself; its postinst would
# start a service only under systemd, which does not run here (and a CI
# machine does not need it running: only promtool is used).
apt-get install -y -qq --no-install-recommends prometheus
command -v promtool >/dev/null || {
  echo "install-promtool: the prometheus package installed no promtool" >&2
  exit 1
}
