#!/usr/bin/env bash
# Fails when regenerating the CRD, the RBAC role or the deepcopy functions would
# change a file, when a module's go.mod or go.sum is not tidy, or when gofmt
# would change a file. It compares the work tree before and after
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

# Every module's go.mod and go.sum say exactly what its code imports.
while read -r mod; do
  dir=$(dirname "$mod")
  if ! diff=$(go -C "$dir" mod tidy -diff 2>&1); then
    echo "verify: $mod is not tidy (run go mod tidy in $dir):" >&2
    echo "$diff" >&2
    exit 1
  fi
done < <(git ls-files --cached --others --exclude-standard 'go.mod' '*/go.mod')

mapfile -t go_files < <(git ls-files --cached --others --exclude-standard '*.go')
unformatted=$(gofmt -l "${go_files[@]}")
if [[ -n "$unformatted" ]]; then
  echo "verify: gofmt would change these files (run make fmt):" >&2
  echo "$unformatted" >&2
  exit 1
fi
echo "verify: generated files are current, every go.mod is tidy and the code is gofmt-clean"
