#!/usr/bin/env bash
# End-to-end tests against a real kube-apiserver (over kine) on loopback. The first run builds
# kube-apiserver, kubectl and kine from the Go module proxy into the tool cache (see
# scripts/kube-tools.sh); later runs find them there at once.
#
#   scripts/e2e.sh [jest args...]    e.g. scripts/e2e.sh test/e2e/kube-harness.test.ts
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n[e2e %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

say "setting up tools (cached in ${SIGWARD_CACHE:-$HOME/.cache/sigward})"
bash scripts/tools.sh all kube
eval "$(bash scripts/tools.sh env)"
say "node $(node --version), kube-apiserver $("$SIGWARD_KUBE_APISERVER" --version)"

bash scripts/deps.sh

say "build"
npx tsc -p tsconfig.build.json

export NODE_OPTIONS="--experimental-vm-modules --no-warnings=ExperimentalWarning"
say "e2e tests (real kube-apiserver)"
npx jest --ci --selectProjects e2e --runInBand "$@"
say "e2e passed"
