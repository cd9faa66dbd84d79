#!/usr/bin/env bash
# sigward's benchmarks (bench/): builds dist/, then runs each bench in turn on loopback with the
# real tools (crane registry, cosign v2). Each prints a short table; its output goes to
# bench/out/NAME.txt and its numbers to bench/out/NAME.json. The recorded results, with the
# machine and load they were measured under, are in bench/RESULTS.md.
#
#   scripts/bench.sh                 all benches
#   scripts/bench.sh crypto memory   only these (verify-cli verify-blob crypto admission-cached admission-cold memory hostile-manifest)
set -euo pipefail
cd "$(dirname "$0")/.."

ALL=(verify-cli verify-blob crypto admission-cached admission-cold memory hostile-manifest)
if (( $# )); then BENCHES=("$@"); else BENCHES=("${ALL[@]}"); fi
for name in "${BENCHES[@]}"; do
  [[ -f bench/$name.mjs ]] || { echo "no such bench: $name (have: ${ALL[*]})" >&2; exit 2; }
done

say() { printf '\n[bench %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

bash scripts/tools.sh node crane cosign2 cosign3 >/dev/null
eval "$(bash scripts/tools.sh env)"
bash scripts/deps.sh
say "build: npx tsc -p tsconfig.build.json"
npx tsc -p tsconfig.build.json

mkdir -p bench/out
say "node $(node --version), nproc $(nproc), $(free -g | awk '/^Mem:/ {print $2}') GiB; load: $(cut -d' ' -f1-3 /proc/loadavg)"
failed=()
for name in "${BENCHES[@]}"; do
  args=()
  # The memory bench runs with the young-generation cap the container image sets (Dockerfile).
  [[ $name == memory ]] && args=(--expose-gc --max-semi-space-size=16)
  say "$name: node ${args[*]} bench/$name.mjs (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  # A missed target is reported by the bench itself; only a bench that could not run fails here.
  node "${args[@]}" "bench/$name.mjs" 2>&1 | tee "bench/out/$name.txt" || failed+=("$name")
done
say "output: bench/out/<name>.txt and bench/out/<name>.json; recorded results: bench/RESULTS.md"
if (( ${#failed[@]} )); then say "benches that could not run: ${failed[*]}"; exit 1; fi
