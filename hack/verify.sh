#!/usr/bin/env bash
# Fails when regenerating the CRD, the RBAC role or the deepcopy functions would
# change a file, or when gofmt would. It compares the work tree before and after
# regenerating (not against git), so it also works in the middle of a change; on
# a clean clone, as in CI, that is the same as "the committed files are current".
set -euo pipefail
cd "$(dirname "$0")/.."

generated=(config/crd/bases config/rbac/role.yaml config/grafana api/v1alpha1/zz_generated.deepcopy.go charts/labelgroup-operator/crds charts/labelgroup-operator/files)
snapshot() { find "${generated[@]}" -type f -print0 2>/dev/null | sort -z | xargs -0 sha256sum; }

before=$(snapshot)
make --no-print-directory -s manifests generate
after=$(snapshot)
if [[ "$before" != "$after" ]]; then
  echo "verify: generated files were stale and have been regenerated; review and commit them:" >&2
  diff <(echo "$before") <(echo "$after") >&2 || true
  exit 1
fi

mapfile -t go_files < <(git ls-files --cached --others --exclude-standard '*.go')
unformatted=$(gofmt -l "${go_files[@]}")
if [[ -n "$unformatted" ]]; then
  echo "verify: gofmt would change these files (run make fmt):" >&2
  echo "$unformatted" >&2
  exit 1
fi
echo "verify: generated files are current and the code is gofmt-clean"
