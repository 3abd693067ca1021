#!/usr/bin/env bash
# Installs promtool, which `make test` runs on the alerting rules, from
# Debian's prometheus package when it is missing (hack/apt-install.sh), as
# hack/kind-node-image.sh does for debootstrap: the real promtool users run.
# A promtool already on PATH is left alone.
set -euo pipefail

if command -v promtool >/dev/null; then
  echo "install-promtool: $(promtool --version 2>&1 | head -n 1)"
  exit 0
fi
"$(dirname "$0")/apt-install.sh" prometheus
command -v promtool >/dev/null || {
  echo "install-promtool: Debian's prometheus package installed no promtool" >&2
  exit 1
}
