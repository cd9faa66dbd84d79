#!/usr/bin/env bash
# Installs the npm dependencies exactly as locked, once per lockfile (skipped when unchanged).
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.sigward-lock-sha
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then exit 0; fi
printf '[deps %s] npm ci (%s)\n' "$(date +%H:%M:%S)" "$(node --version)"
npm ci --no-audit --no-fund --loglevel=error
echo "$want" > "$stamp"
