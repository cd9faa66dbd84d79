#!/usr/bin/env bash
# The whole check, from a fresh machine: installs what is missing (Node 24, the real registries,
# cosign, crane, helm, kube-apiserver; cached by version), then type check, lint, build, unit
# tests, the container image (scripts/image.sh), integration and end-to-end tests.
#
#   scripts/test.sh            everything
#   scripts/test.sh unit       type check, lint and unit tests only
set -euo pipefail
cd "$(dirname "$0")/.."
stage=${1:-all}

say() { printf '\n[test %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

say "setting up tools (cached in ${SIGWARD_CACHE:-$HOME/.cache/sigward})"
if [[ $stage == unit ]]; then bash scripts/tools.sh node; else bash scripts/tools.sh all kube; fi
eval "$(bash scripts/tools.sh env)"
say "node $(node --version), npm $(npm --version)"

bash scripts/deps.sh

say "type check"
npx tsc --noEmit -p tsconfig.json
say "lint"
npx eslint --max-warnings 0 .
say "build"
npx tsc -p tsconfig.build.json

export NODE_OPTIONS="--experimental-vm-modules --no-warnings=ExperimentalWarning"
say "unit tests"
npx jest --ci --selectProjects unit
if [[ $stage != unit ]]; then
  say "container image (buildah --isolation chroot; the first run makes its bases from Debian and npm)"
  bash scripts/image.sh
  say "integration tests (real registries, real cosign, the image)"
  npx jest --ci --selectProjects integration --runInBand
  say "end-to-end tests (a real kube-apiserver)"
  npx jest --ci --selectProjects e2e --runInBand
fi
say "all checks passed"
