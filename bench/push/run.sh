#!/usr/bin/env bash
# Push benchmark: land one image bump in a large config repository
# (5,000 overlays, 15,000 files, 20,000 commits by default), served by the
# sandbox git server on 127.0.0.1, three ways, on the same server in the
# same run:
#   shallow  git clone --depth 1 + kustomize edit set image + git commit + git push
#   full     the same with a full clone
#   tool     gitops-promote run --mode push (or, while the CLI has no `run`,
#            bench/push/gopush: the same Fetch/Edit/Commit/Push through
#            internal/gitrepo and internal/kustomize)
# Each is run RUNS times, interleaved; wall time and peak RSS (GNU time -v)
# are kept per run in $OUT/results.tsv and summarised (medians, worst RSS).
#
#   bash bench/push/run.sh                 # full size
#   COMMITS=2000 TEAMS=5 RUNS=1 bash bench/push/run.sh   # quick smoke run
#   WORK=/dev/shm bash bench/push/run.sh   # shell pipelines check out on tmpfs (their best case)
#
# Every pipeline must land: each shell pipeline runs under set -euo pipefail,
# and after every measured run the remote branch must be at the commit that
# run made (the shell pipeline's HEAD, the tool's commit-sha). A run that did
# not land stops the benchmark with an error; it is never a figure.
set -euo pipefail

cd "$(dirname "$0")/../.."
OUT=${OUT:-bench/.out/push}
RUNS=${RUNS:-3}
TEAMS=${TEAMS:-25}
APPS_PER_TEAM=${APPS_PER_TEAM:-50}
COMMITS=${COMMITS:-20000}
PORT=${PORT:-18181}
KUSTOMIZE_VERSION=${KUSTOMIZE_VERSION:-v5.8.0}
# A throwaway local token: the server only listens on 127.0.0.1.
TOKEN=${TOKEN:-bench-$RANDOM$RANDOM}

mkdir -p "$OUT/bin"
OUT=$(cd "$OUT" && pwd)
WORK=${WORK:-$OUT} # where the shell pipelines clone and check out
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
ROOT="$OUT/root-$TEAMS-$APPS_PER_TEAM-$COMMITS"

if [ ! -x /usr/bin/time ]; then
	apt-get install -y -qq time >/dev/null
fi
KUSTOMIZE=$(command -v kustomize || true)
if [ -z "$KUSTOMIZE" ]; then
	GOBIN="$OUT/bin" go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
	KUSTOMIZE="$OUT/bin/kustomize"
fi
go build -o "$OUT/bin/serve" ./bench/push/serve
go build -o "$OUT/bin/gopush" ./bench/push/gopush

TOOL=gopush
if [ -d cmd/gitops-promote ]; then
	go build -o "$OUT/bin/gitops-promote" ./cmd/gitops-promote # a build that fails stops the benchmark
	# Captured first: under pipefail, grep -q closing the pipe early would read as no match.
	help=$("$OUT/bin/gitops-promote" run --help 2>&1 || true)
	case $help in *-mode*) TOOL=gitops-promote ;; esac
fi

"$OUT/bin/serve" -root "$ROOT" -addr "127.0.0.1:$PORT" -token "$TOKEN" -generate acme/config \
	-teams "$TEAMS" -apps-per-team "$APPS_PER_TEAM" -commits "$COMMITS" >"$OUT/serve.out" 2>"$OUT/serve.err" &
SERVE_PID=$!
trap 'kill "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 1800); do
	grep -q '^ready ' "$OUT/serve.out" 2>/dev/null && break
	kill -0 "$SERVE_PID" 2>/dev/null || { cat "$OUT/serve.err" >&2; exit 1; }
	sleep 0.5
done
grep -q '^ready ' "$OUT/serve.out" || { echo "server not ready" >&2; exit 1; }
cat "$OUT/serve.err" >&2

URL="http://127.0.0.1:$PORT/acme/config.git"
AUTH_URL="http://x-access-token:$TOKEN@127.0.0.1:$PORT/acme/config.git"
export GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
APPS=$((TEAMS * APPS_PER_TEAM))

# overlay N: the prod overlay of app N (mod the number of apps).
overlay() {
	local app=$(($1 % APPS))
	printf 'apps/team-%02d/app-%04d/overlays/prod' $((app / APPS_PER_TEAM)) "$app"
}
imagename() { printf 'ghcr.io/acme/app-%04d' $(($1 % APPS)); }

shell_pipeline() { # sha-file depth-args overlay image tag
	# bash -c runs this in a new shell: the script's set -e does not reach it.
	set -euo pipefail
	local work
	work=$(mktemp -d "$WORK/work.XXXXXX")
	git clone -q $2 --single-branch --branch main "$AUTH_URL" "$work/repo"
	(cd "$work/repo/$3" && "$KUSTOMIZE" edit set image "$4=$4:$5")
	git -C "$work/repo" commit -qam "Deploy $4:$5"
	git -C "$work/repo" push -q origin HEAD:main
	git -C "$work/repo" rev-parse HEAD >"$1"
	rm -rf "$work"
}
export -f shell_pipeline

# landed name sha: the remote branch must be at sha, the commit the run made.
landed() {
	local got
	got=$(git ls-remote "$AUTH_URL" refs/heads/main | cut -f1)
	if [ -z "$2" ] || [ "$got" != "$2" ]; then
		echo "$1 did not land: main is at ${got:-nothing}, the run's commit is ${2:-unknown}:" >&2
		cat "$OUT/$1.log" >&2
		exit 1
	fi
}
export OUT WORK AUTH_URL KUSTOMIZE

measure_tool() { # overlay image tag
	if [ "$TOOL" = gitops-promote ]; then
		measure tool "$OUT/bin/gitops-promote" run --mode push --repository-url "$URL" --branch main \
			--token "$TOKEN" --overlays "$1" --images "$2:$3" --json
		landed tool "$(grep -o '"commit-sha": *"[0-9a-f]*"' "$OUT/tool.log" | grep -o '[0-9a-f]\{40\}' || true)"
	else
		local before
		before=$(git ls-remote "$AUTH_URL" refs/heads/main | cut -f1)
		measure tool env GITOPS_TOKEN="$TOKEN" "$OUT/bin/gopush" -url "$URL" -branch main -overlay "$1" -image "$2:$3"
		local after
		after=$(git ls-remote "$AUTH_URL" refs/heads/main | cut -f1)
		[ "$after" != "$before" ] || landed tool ""
	fi
}

measure() { # name command...
	local name=$1 start end
	shift
	start=$(date +%s.%N)
	if ! /usr/bin/time -v -o "$OUT/time.txt" "$@" >"$OUT/$name.log" 2>&1; then
		echo "$name failed:" >&2
		cat "$OUT/$name.log" >&2
		exit 1
	fi
	end=$(date +%s.%N)
	if grep -qi 'nothing to change' "$OUT/$name.log"; then
		echo "$name landed nothing; the measurement would not count:" >&2
		cat "$OUT/$name.log" >&2
		exit 1
	fi
	local rss wall
	rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$OUT/time.txt")
	wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
	printf '%s\t%s\t%d\n' "$name" "$wall" "$rss" >>"$OUT/results.tsv"
	printf '%-8s %8s s %8d KB\n' "$name" "$wall" "$rss"
}

printf 'name\twall_s\tmax_rss_kb\n' >"$OUT/results.tsv"
rm -f "$OUT/summary.txt" "$OUT/shallow.sha" "$OUT/full.sha"
echo "tool: $TOOL; shell pipelines check out under $WORK; repository: $APPS apps, $((APPS * 4)) overlays, $((APPS * 12)) files, $COMMITS commits"
n=0
stamp=$(date +%s) # tags never set before, so every run lands a commit
for run in $(seq 1 "$RUNS"); do
	for kind in shallow full tool; do
		n=$((n + 1))
		ovl=$(overlay $((7 + n * 13)))
		img=$(imagename $((7 + n * 13)))
		tag="9.$stamp.$n"
		rm -f "$OUT/$kind.sha"
		case $kind in
		shallow)
			measure shallow bash -c "shell_pipeline '$OUT/shallow.sha' '--depth 1' '$ovl' '$img' '$tag'"
			landed shallow "$(cat "$OUT/shallow.sha")"
			;;
		full)
			measure full bash -c "shell_pipeline '$OUT/full.sha' '' '$ovl' '$img' '$tag'"
			landed full "$(cat "$OUT/full.sha")"
			;;
		tool) measure_tool "$ovl" "$img" "$tag" ;;
		esac
	done
done

# Medians of wall time, worst peak RSS, and the ratios the goals are set in.
awk -F'\t' 'NR > 1 { w[$1] = w[$1] " " $2; if ($3 > r[$1]) r[$1] = $3 }
END {
	for (k in w) {
		n = split(substr(w[k], 2), a, " ")
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		m[k] = (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	printf "median wall: shallow %.3f s, full %.3f s, tool %.3f s\n", m["shallow"], m["full"], m["tool"]
	printf "peak RSS: shallow %d KB, full %d KB, tool %d KB\n", r["shallow"], r["full"], r["tool"]
	printf "tool/shallow %.3f (goal <= 0.5), tool/full %.4f (goal <= 0.05), tool RSS %.1f MB (goal <= 150)\n",
		m["tool"] / m["shallow"], m["tool"] / m["full"], r["tool"] / 1024
}' "$OUT/results.tsv" | tee "$OUT/summary.txt"
