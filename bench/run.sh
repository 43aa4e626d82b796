#!/usr/bin/env bash
# Refreshes every figure of docs/benchmarks.md in one run (`make bench`):
#   1. the edit engine: 1,000 overlays, Go benchmark and against a `kustomize edit set image` loop;
#   2. landing: `run --mode push` on a 5,000-overlay, 20,000-commit repository against the
#      seed article's shell pipeline (shallow and full clone), same server, same run;
#   3. Argo CD: confirmation latency with the stream, push-to-confirmed with and without refresh;
#   4. the demo's wall time;
#   5. 20 and 50 concurrent pipelines (processes) on one branch: all landed, slowest run, total.
# Needs Go, git, GNU time (apt-get install time) and the kustomize CLI (make bench builds it).
# FULL=1 also waits out one real 180 s Argo CD poll without refresh.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${KUSTOMIZE_BIN:=$PWD/bin/kustomize}"
export KUSTOMIZE_BIN
[ -x "$KUSTOMIZE_BIN" ] || { echo "bench: no kustomize CLI at $KUSTOMIZE_BIN (run: make bench)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench: GNU time is missing (apt-get install time)" >&2; exit 2; }

out=bench/.out/all
mkdir -p "$out"
doc=docs/benchmarks.md
started=$(date -u +%Y-%m-%dT%H:%MZ)
commit=$(git rev-parse --short HEAD)

section() { printf '\n=== %s\n' "$*" >&2; }

section "edit engine: go benchmark"
go test -run '^$' -bench BenchmarkEdit1000Overlays -benchtime 20x -count 3 ./internal/kustomize | tee "$out/edit-bench.txt" >&2
section "edit engine: against the kustomize loop"
bash bench/edit/run.sh | tee "$out/edit-loop.txt" >&2
section "landing: run --mode push against the shell pipelines"
bash bench/push/run.sh | tee "$out/push.txt" >&2
section "concurrent pipelines on one branch"
go test -count=1 -v -run 'TestRun(Twenty|Fifty)ConcurrentPipelinesAllLand' ./cmd/gitops-promote |
	tee "$out/concurrency-test.txt" >&2
grep -o '[0-9]* pipelines: .*' "$out/concurrency-test.txt" >"$out/concurrency.txt"
section "Argo CD confirmation"
argo_flags=(-runs 20)
[ "${FULL:-0}" = 1 ] && argo_flags+=(-full)
go run ./bench/argocd "${argo_flags[@]}" | tee "$out/argocd.txt" >&2
section "demo"
go build -o "$out/gitops-promote" ./cmd/gitops-promote
demo_start=$(date +%s.%N)
"$out/gitops-promote" demo >"$out/demo.txt" 2>&1
demo_s=$(awk -v a="$demo_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
tail -n 3 "$out/demo.txt" >&2

# Figures pulled out of the reports above.
bench_ns=$(awk '/^BenchmarkEdit1000Overlays/ { print $3 }' "$out/edit-bench.txt" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
loop_ms=$(awk -F': *' '/kustomize edit set image loop/ { print $2 + 0 }' "$out/edit-loop.txt")
ours_ms=$(awk -F': *' '/engine \(process\)/ { print $2 + 0 }' "$out/edit-loop.txt")
ratio_edit=$(awk '/ratio, whole process/ { print $NF }' "$out/edit-loop.txt")
ratio_edit_alone=$(awk '/ratio, Edit alone/ { print $NF }' "$out/edit-loop.txt")
push_medians=$(grep '^median wall' "$out/push.txt")
push_rss=$(grep '^peak RSS' "$out/push.txt")
push_ratios=$(grep '^tool/shallow' "$out/push.txt")
stream_median=$(awk '/watch stream/ { print $4 }' "$out/argocd.txt")
with_refresh=$(awk '/with refresh \(argocd-refresh/ { print $6 }' "$out/argocd.txt")
without_refresh=$(grep 'without refresh, honest wait' "$out/argocd.txt" | sed 's/^ *//')
concurrent_20=$(grep '^20 pipelines' "$out/concurrency.txt")
concurrent_50=$(grep '^50 pipelines' "$out/concurrency.txt")
cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)

# The sections after the marker are measured by their own commands: kept as they are.
marker='<!-- Sections below are measured by their own commands (named in each); make bench keeps them as they are. -->'
kept=$(awk -v m="$marker" 'found { print } $0 == m { found = 1; print }' "$doc" 2>/dev/null || true)

cat >"$doc" <<MD
# Benchmarks

Refreshed by \`make bench\` (bench/run.sh) on ${started} at commit ${commit}.
Machine: $(nproc) cores (${cpu}), $(free -g | awk '/Mem:/ { print $2 }') GiB, $(go version | cut -d' ' -f3), $(git --version), kustomize $("$KUSTOMIZE_BIN" version).
Load average when done: $(cut -d' ' -f1-3 /proc/loadavg). Figures move with the load; ratios less.

| what | figure | baseline | goal |
|---|---|---|---|
| edit 1,000 overlays, in process (\`BenchmarkEdit1000Overlays\`) | $(awk -v n="$bench_ns" 'BEGIN { printf "%.0f ms", n / 1e6 }') | | |
| edit 1,000 overlays, whole \`edit\` (read, edit, write) | ${ours_ms} ms | \`kustomize edit set image\` loop: ${loop_ms} ms | |
| ratio, whole process / edit alone | ${ratio_edit} / ${ratio_edit_alone} | 1x | >= 100x |
| land one bump, 5,000 overlays, 20,000 commits | ${push_medians} | shell pipeline, same server | |
| push ratios and memory | ${push_ratios} | | tool/shallow <= 0.5, tool/full <= 0.05, <= 150 MB |
| peak RSS | ${push_rss} | | |
| concurrent pipelines, one branch, real git server | ${concurrent_20}; ${concurrent_50} | | all land |
| Argo CD confirmation latency (median, stream) | ${stream_median} | | <= 0.2 s |
| push to confirmed with refresh (180 s poll, 1 s sync + 1 s rollout) | ${with_refresh} | without refresh: see below | <= 2 s + rollout |
| demo wall time (\`gitops-promote demo\`) | ${demo_s} s | | ~10 s |

${without_refresh}

## Reading the figures

- **Edit vs the kustomize loop (goal >= 100x):** the edit itself meets it; the whole `edit`
  process (writing 1,000 files, each to a temporary file renamed over the old one) does not,
  at about 45-70x on this VM's disk. Each `kustomize` call costs 10-15 ms, mostly process start.
- **Landing vs the shell pipeline:** the shell pipelines check out 15,000 files per run on
  ext4 here and slow down run after run as earlier checkouts are written back, which flatters
  the tool. With the checkouts on tmpfs (`WORK=/dev/shm bash bench/push/run.sh`), the best case
  for the shell, bench/push/RESULTS.md measured tool/shallow 0.27 (met) and tool/full 0.17
  (the 0.05 goal **not met**: the synthetic history deltas so well that a full local clone takes
  2.6 s, less than 20x the tool's fetch + validate + push).
- **Argo CD:** with the stream, "deployed" follows the simulator's Synced+Healthy within a
  millisecond; without the refresh an honest wait must sit out Argo CD's poll (the line above),
  and a plain `argocd app wait` passes at once on the previous commit (bench/argocd/RESULTS.md).
- **Scale** (1,250 overlays over shared bases, `go run ./bench/scale`): validation is
  kustomize's own build work, 8-10 ms of CPU per overlay; see bench/scale/RESULTS.md.

## Raw reports

### Edit engine (\`go test -bench BenchmarkEdit1000Overlays\`, \`bench/edit/run.sh\`)

\`\`\`
$(grep -E '^(Benchmark|goos|cpu)' "$out/edit-bench.txt")
$(cat "$out/edit-loop.txt")
\`\`\`

### Landing (\`bench/push/run.sh\`)

\`\`\`
$(cat "$out/push.txt")
\`\`\`

### Concurrent pipelines (\`go test -count=1 -v -run 'TestRun(Twenty|Fifty)ConcurrentPipelinesAllLand' ./cmd/gitops-promote\`)

Separate processes of the binary, each setting its own image in one file on one branch of the
sandbox git server at once, each with \`--timeout 10m\` (its landing budget); the test fails unless
every one exits 0, the branch gains one commit each and the server's reflog shows only
fast-forwards.

\`\`\`
$(cat "$out/concurrency.txt")
\`\`\`

### Argo CD (\`go run ./bench/argocd ${argo_flags[*]}\`)

\`\`\`
$(cat "$out/argocd.txt")
\`\`\`

### Demo (last lines)

\`\`\`
$(tail -n 8 "$out/demo.txt")
\`\`\`

Method notes and earlier sessions: bench/edit/RESULTS.md, bench/push/RESULTS.md,
bench/argocd/RESULTS.md.

${kept}
MD
echo "wrote $doc" >&2
