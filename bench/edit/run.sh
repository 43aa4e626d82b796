#!/usr/bin/env bash
# Compare the edit engine with a shell loop of `kustomize edit set image`,
# once per overlay, on the same generated tree of N overlays (default 1000).
#
#   KUSTOMIZE_BIN=/path/to/kustomize bench/edit/run.sh [N]
#
# Prints both times and the ratio. Run from the repository root.
set -euo pipefail

n=${1:-1000}
kustomize=${KUSTOMIZE_BIN:-$(command -v kustomize || true)}
if [[ -z "$kustomize" ]]; then
	echo "run.sh: kustomize not found: set KUSTOMIZE_BIN" >&2
	exit 1
fi
image=ghcr.io/acme/shared:2.0.0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

now_ms() { date +%s%3N; }

# One tree, the seed article's shape: a base and a production overlay per app.
tree=$work/tree
for i in $(seq -f '%04g' 0 $((n - 1))); do
	mkdir -p "$tree/apps/app$i/base" "$tree/apps/app$i/overlays/production"
	printf 'resources:\n  - deployment.yaml\n' >"$tree/apps/app$i/base/kustomization.yaml"
	cat >"$tree/apps/app$i/overlays/production/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization

# Production of app$i: promoted from staging.
namespace: production

resources:
  - ../../base

replicas:
  - name: app$i
    count: 3

images:
  - name: ghcr.io/acme/app$i
    newTag: "1.0.0" # promoted
  - name: ghcr.io/acme/shared
    newTag: 1.0.0
YAML
done
cp -r "$tree" "$work/kustomize"
cp -r "$tree" "$work/ours"

go build -o "$work/edit-bench" ./bench/edit

start=$(now_ms)
for d in "$work"/kustomize/apps/*/overlays/production; do
	(cd "$d" && "$kustomize" edit set image "$image")
done
loop_ms=$(($(now_ms) - start))

start=$(now_ms)
read -r files inproc_ms edit_ms write_ms < <("$work/edit-bench" -root "$work/ours" -overlays 'apps/*/overlays/production' -image "$image")
ours_ms=$(($(now_ms) - start))

changed=$(grep -l 'newTag: 2.0.0' "$work"/ours/apps/*/overlays/production/kustomization.yaml | wc -l)
if [[ "$files" != "$n" || "$changed" != "$n" ]]; then
	echo "run.sh: the engine wrote $files files, $changed with the new tag; want $n" >&2
	exit 1
fi

echo "overlays:                          $n"
echo "kustomize edit set image loop:     ${loop_ms} ms"
echo "gitops-promote engine (process):   ${ours_ms} ms"
echo "gitops-promote engine (in process): ${inproc_ms} ms (Edit ${edit_ms} ms, WriteFiles ${write_ms} ms)"
awk -v a="$loop_ms" -v b="$ours_ms" -v c="$inproc_ms" -v e="$edit_ms" 'BEGIN {
	printf "ratio, whole process:         %.0fx\n", a / (b > 0 ? b : 1)
	printf "ratio, in process:            %.0fx\n", a / (c > 0 ? c : 1)
	printf "ratio, Edit alone (no write): %.0fx\n", a / (e > 0 ? e : 1)
}'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), cores: $(nproc), tree on: $(df -T "$work" | awk 'NR == 2 { print $2 }')"
