#!/usr/bin/env bash
# Builds the binaries of the real-world test tier from the Go module proxy, pinned and cached:
# Argo CD (one multi-call binary), kube-apiserver and the kustomize CLI the repo-server execs;
# with --flux, Flux's source-, kustomize- and notification-controller instead (they run on the
# kube-apiserver of the first set). etcd and redis come from Debian packages (installed here when
# missing).
#
#   test/realworld/build.sh [--flux]            build what is missing, then print the bin folder
#   test/realworld/build.sh [--flux] --bin-dir  print the bin folder if every binary is built, else fail
#
# Cache: ${GITOPS_PROMOTE_REALWORLD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gitops-promote/realworld}
#   <name>-<version>-<go version>/   one target's binary and its .stamp (written only after success)
#   <key>/bin                         links to the binaries of this table (key: the versions)
# A second run finds every stamp and takes seconds. The wrapper modules are generated in
# <cache>/wrappers from upstream's own go.mod; they never enter the project's go.mod.
set -euo pipefail

# The targets. One row per binary:
#   name | module | version | package to build | fixup | extra ldflags
# fixup: "plain"       go install MODULE/PACKAGE@VERSION (no replace directives upstream)
#        "wrapper"     a wrapper module carrying upstream's go.mod (its replace block) as it is
#        "local=VER"   a wrapper module whose `=> ./path` replaces point at MODULE-PATH@VER
#                      instead (VER "required": the version upstream's require block names; for
#                      Flux's nested ./api modules)
ARGOCD_TARGETS=(
  "argocd|github.com/argoproj/argo-cd/v3|v3.2.11|github.com/argoproj/argo-cd/v3/cmd|wrapper|-X github.com/argoproj/argo-cd/v3/common.version=3.2.11 -X github.com/argoproj/argo-cd/v3/common.gitTag=v3.2.11 -X github.com/argoproj/argo-cd/v3/common.gitTreeState=clean"
  "kube-apiserver|k8s.io/kubernetes|v1.34.2|k8s.io/kubernetes/cmd/kube-apiserver|local=v0.34.2|-X k8s.io/component-base/version.gitVersion=v1.34.2 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=34 -X k8s.io/component-base/version.gitTreeState=clean -X k8s.io/client-go/pkg/version.gitVersion=v1.34.2 -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=34 -X k8s.io/client-go/pkg/version.gitTreeState=clean"
  "kustomize|sigs.k8s.io/kustomize/kustomize/v5|v5.8.0|sigs.k8s.io/kustomize/kustomize/v5|plain|"
)
# Flux's controllers (--flux): each go.mod has `replace github.com/fluxcd/<name>/api => ./api`, a
# nested module that is not in the module zip, pointed at the published api module of the version
# upstream's require block names. Versions: the newest that build through the proxy with Go 1.26
# (source-controller v1.9.4+ need fluxcd/pkg/artifact zips the proxy refuses, kustomize-controller
# v1.10 needs Go 1.27, notification-controller: the proxy refuses the others).
FLUX_TARGETS=(
  "source-controller|github.com/fluxcd/source-controller|v1.9.3|github.com/fluxcd/source-controller|local=required|"
  "kustomize-controller|github.com/fluxcd/kustomize-controller|v1.9.6|github.com/fluxcd/kustomize-controller|local=required|"
  "notification-controller|github.com/fluxcd/notification-controller|v1.9.3|github.com/fluxcd/notification-controller|local=required|"
)
# Names the Argo CD binary answers to (it picks its role by argv[0]).
ARGOCD_LINKS=(argocd-server argocd-repo-server argocd-application-controller argocd-notifications)

flux=0 bin_dir_only=0
for arg in "$@"; do
  case "$arg" in
    --flux) flux=1 ;;
    --bin-dir) bin_dir_only=1 ;;
    *) echo "build.sh: unknown argument $arg (want --flux, --bin-dir)" >&2; exit 2 ;;
  esac
done
if [ "$flux" = 1 ]; then
  # One at a time: each peaks at 1.85 GB, and the cores are shared anyway.
  TARGETS=("${FLUX_TARGETS[@]}") ARGOCD_LINKS=() PARALLEL=0 WHAT="Flux controllers" MAKE_TARGET=realworld-flux
else
  TARGETS=("${ARGOCD_TARGETS[@]}") PARALLEL=1 WHAT="real-world binaries" MAKE_TARGET=realworld-build
fi
# Debian packages: command -> package.
DEBS=("etcd:etcd-server" "redis-server:redis-server")

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

if [ "$bin_dir_only" = 1 ]; then
  if built && [ -f "$BINDIR/.stamp" ]; then echo "$BINDIR"; exit 0; fi
  echo "$WHAT are not built in $CACHE: run 'make $MAKE_TARGET' (test/realworld/build.sh $*); the first build takes 20-45 minutes on 2 cores" >&2
  exit 1
fi

log() { printf '%s build.sh: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# Debian packages.
missing=()
for d in "${DEBS[@]}"; do
  command -v "${d%%:*}" >/dev/null || missing+=("${d#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]} from Debian"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# wrapper NAME MODULE VERSION FIXUP: a module in $CACHE/wrappers whose go.mod is upstream's,
# renamed, requiring upstream; prints its folder.
wrapper() {
  local name=$1 module=$2 version=$3 fixup=$4 dir gomod
  dir="$CACHE/wrappers/$name-$version"
  rm -rf "$dir" && mkdir -p "$dir"
  gomod="$(cd "$CACHE" && go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
  [ -n "$gomod" ] || { echo "go mod download $module@$version named no go.mod" >&2; return 1; }
  cp "$gomod" "$dir/go.mod" && chmod u+w "$dir/go.mod"
  (
    cd "$dir"
    go mod edit -module "gitops-promote.realworld/$name" -require "$module@$version"
    case "$fixup" in
      local=*)
        local want=${fixup#local=} path target v
        # Every `replace X => ./something` becomes X => X@version.
        for path in $(sed -n 's#^[[:space:]]*\(replace[[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]\{1,\}\)[[:space:]]\{1,\}=>[[:space:]]\{1,\}\./.*#\2#p' go.mod | sort -u); do
          if [ "$want" = required ]; then
            v="$(awk -v p="$path" '($1==p && $2 ~ /^v/) {print $2; exit} ($1=="require" && $2==p) {print $3; exit}' go.mod)"
          else
            v="$want"
          fi
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
  log "$name $version: building"
  if [ "$fixup" = plain ]; then
    GOBIN="$out" GOFLAGS= nice -n 15 go install -trimpath -ldflags "-s -w $ldflags" "$pkg@$version"
    [ -x "$out/$name" ] || mv "$out/$(basename "$pkg")" "$out/$name"
  else
    dir="$(wrapper "$name" "$module" "$version" "$fixup")"
    # go list -deps resolves every module first: a module the proxy refuses fails here in
    # seconds, not after minutes of compiling.
    log "$name $version: resolving modules"
    (cd "$dir" && go list -deps "$pkg" >/dev/null)
    (cd "$dir" && nice -n 15 go build -trimpath -ldflags "-s -w $ldflags" -o "$out/$name.tmp" "$pkg")
    mv "$out/$name.tmp" "$out/$name"
  fi
  echo "$name $version $GOVER $(( $(date +%s) - start ))s" >"$out/.stamp"
  log "$name $version: built in $(( $(date +%s) - start ))s"
}

mkdir -p "$CACHE"
start=$(date +%s)
pids=() names=() failed=()
for row in "${TARGETS[@]}"; do
  if [ "$PARALLEL" = 1 ]; then
    build_one "$row" >"$CACHE/build-${row%%|*}.log" 2>&1 &
    pids+=($!) names+=("${row%%|*}")
  elif ! build_one "$row" >"$CACHE/build-${row%%|*}.log" 2>&1; then
    failed+=("${row%%|*}")
    cat "$CACHE/build-${row%%|*}.log" >&2
    break
  else
    cat "$CACHE/build-${row%%|*}.log" >&2
  fi
done
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then failed+=("${names[$i]}"); fi
  cat "$CACHE/build-${names[$i]}.log" >&2
done
if [ ${#failed[@]} -gt 0 ]; then
  log "FAILED: ${failed[*]} (logs above, also in $CACHE/build-<name>.log)"
  exit 1
fi

# The bin folder of this table: links to each target's binary, Argo CD's role names too.
rm -rf "$BINDIR" && mkdir -p "$BINDIR"
for row in "${TARGETS[@]}"; do
  IFS='|' read -r name _ version _ <<<"$row"
  ln -s "$(target_dir "$name" "$version")/$name" "$BINDIR/$name"
done
for l in "${ARGOCD_LINKS[@]}"; do ln -s argocd "$BINDIR/$l"; done
date -u +%FT%TZ >"$BINDIR/.stamp"
log "ready in $(( $(date +%s) - start ))s: $BINDIR"
echo "$BINDIR"
