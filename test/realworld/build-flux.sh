#!/usr/bin/env bash
# Builds the Flux controllers of the real-world test tier from the Go module proxy, pinned and
# cached, the same way test/realworld/build.sh builds Argo CD and kube-apiserver (same cache root,
# same row format, same stamps), so its rows can move into that table.
#
#   test/realworld/build-flux.sh            build what is missing, then print the bin folder
#   test/realworld/build-flux.sh --bin-dir  print the bin folder if every binary is built, else fail
#
# Cache: ${GITOPS_PROMOTE_REALWORLD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gitops-promote/realworld}
#   <name>-<version>-<go version>/   one target's binary and its .stamp (written only after success)
#   <key>/bin                         links to the binaries of this table (key: the versions)
# Each controller's go.mod has `replace github.com/fluxcd/<name>/api => ./api`, a nested module that
# is not in the module zip: the wrapper points it at the published api module of the version
# upstream's require block names ("local=required"). Versions: the newest that build through the
# proxy with Go 1.26 (source-controller v1.9.4+ need fluxcd/pkg/artifact zips the proxy refuses,
# kustomize-controller v1.10 needs Go 1.27, notification-controller: the proxy refuses the others).
set -euo pipefail

# name | module | version | package to build | fixup | extra ldflags   (as in build.sh)
TARGETS=(
  "source-controller|github.com/fluxcd/source-controller|v1.9.3|github.com/fluxcd/source-controller|local=required|"
  "kustomize-controller|github.com/fluxcd/kustomize-controller|v1.9.6|github.com/fluxcd/kustomize-controller|local=required|"
  "notification-controller|github.com/fluxcd/notification-controller|v1.9.3|github.com/fluxcd/notification-controller|local=required|"
)

CACHE="${GITOPS_PROMOTE_REALWORLD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gitops-promote/realworld}"
GOVER="$(go env GOVERSION)"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod

key() { # the bin folder's name: every target's name and version
  local k="" row
  for row in "${TARGETS[@]}"; do
    IFS='|' read -r name _ version _ <<<"$row"
    k+="${name}-${version}_"
  done
  echo "${k}${GOVER}"
}
target_dir() { echo "$CACHE/$1-$2-$GOVER"; }
BINDIR="$CACHE/$(key)/bin"

built() { # every stamp present?
  local row
  for row in "${TARGETS[@]}"; do
    IFS='|' read -r name _ version _ <<<"$row"
    [ -f "$(target_dir "$name" "$version")/.stamp" ] || return 1
  done
}

if [ "${1:-}" = "--bin-dir" ]; then
  if built && [ -f "$BINDIR/.stamp" ]; then echo "$BINDIR"; exit 0; fi
  echo "Flux binaries are not built in $CACHE: run test/realworld/build-flux.sh; the first build takes about 20 minutes on 2 cores" >&2
  exit 1
fi

log() { printf '%s build-flux.sh: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# wrapper NAME MODULE VERSION FIXUP: a module in $CACHE/wrappers whose go.mod is upstream's,
# renamed, requiring upstream; prints its folder. (The same steps as build.sh's wrapper.)
wrapper() {
  local name=$1 module=$2 version=$3 fixup=$4 dir gomod
  dir="$CACHE/wrappers/$name-$version"
  rm -rf "$dir" && mkdir -p "$dir"
  gomod="$(go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
  [ -n "$gomod" ] || { echo "go mod download $module@$version named no go.mod" >&2; return 1; }
  cp "$gomod" "$dir/go.mod" && chmod u+w "$dir/go.mod"
  (
    cd "$dir"
    go mod edit -module "gitops-promote.realworld/$name" -require "$module@$version"
    case "$fixup" in
      local=*)
        local want=${fixup#local=} path v
        for path in $(sed -n 's#^[[:space:]]*\(replace[[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]\{1,\}\)[[:space:]]\{1,\}=>[[:space:]]\{1,\}\./.*#\2#p' go.mod | sort -u); do
          if [ "$want" = required ]; then
            v="$(awk -v p="$path" '($1==p && $2 ~ /^v/) {print $2; exit} ($1=="require" && $2==p) {print $3; exit}' go.mod)"
          else
            v="$want"
          fi
          [ -n "$v" ] || { echo "$name: no version for $path in upstream's require" >&2; return 1; }
          go mod edit -dropreplace "$path" -replace "$path=$path@$v"
        done
        if grep -q '=> \./' go.mod; then echo "$name: local replaces left in the wrapper's go.mod" >&2; return 1; fi
        ;;
    esac
  )
  echo "$dir"
}

# build_one ROW: builds one target into its cache folder; the stamp last.
build_one() {
  local name module version pkg fixup ldflags out dir start
  IFS='|' read -r name module version pkg fixup ldflags <<<"$1"
  out="$(target_dir "$name" "$version")"
  if [ -f "$out/.stamp" ]; then log "$name $version: cached"; return 0; fi
  rm -rf "$out" && mkdir -p "$out"
  start=$(date +%s)
  dir="$(wrapper "$name" "$module" "$version" "$fixup")"
  # go list -deps resolves every module first: a module the proxy refuses fails here in seconds,
  # not after minutes of compiling.
  log "$name $version: resolving modules"
  (cd "$dir" && go list -deps "$pkg" >/dev/null)
  log "$name $version: building"
  (cd "$dir" && nice -n 15 go build -trimpath -ldflags "-s -w $ldflags" -o "$out/$name.tmp" "$pkg")
  mv "$out/$name.tmp" "$out/$name"
  echo "$name $version $GOVER $(( $(date +%s) - start ))s" >"$out/.stamp"
  log "$name $version: built in $(( $(date +%s) - start ))s"
}

mkdir -p "$CACHE"
start=$(date +%s)
# One at a time: the three together peak at 1.85 GB each and the cores are shared anyway.
for row in "${TARGETS[@]}"; do
  if ! build_one "$row" >"$CACHE/build-${row%%|*}.log" 2>&1; then
    cat "$CACHE/build-${row%%|*}.log" >&2
    log "FAILED: ${row%%|*} (log above, also in $CACHE/build-${row%%|*}.log)"
    exit 1
  fi
  cat "$CACHE/build-${row%%|*}.log" >&2
done

rm -rf "$BINDIR" && mkdir -p "$BINDIR"
for row in "${TARGETS[@]}"; do
  IFS='|' read -r name _ version _ <<<"$row"
  ln -s "$(target_dir "$name" "$version")/$name" "$BINDIR/$name"
done
date -u +%FT%TZ >"$BINDIR/.stamp"
log "ready in $(( $(date +%s) - start ))s: $BINDIR"
echo "$BINDIR"
