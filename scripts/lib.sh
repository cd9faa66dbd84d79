# Shared by the tool scripts: progress lines and a heartbeat for long steps. Source it after
# setting SAY_PREFIX (the name shown in each line).

say() { printf '[%s %s] %s\n' "${SAY_PREFIX:-sigward}" "$(date +%H:%M:%S)" "$*" >&2; }

# Runs a slow command, printing a heartbeat every 30 s so a first-run build never sits silent.
with_heartbeat() {
  local what=$1; shift
  local start=$SECONDS
  "$@" &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 5
    if (( (SECONDS - start) % 30 < 5 )) && kill -0 "$pid" 2>/dev/null; then
      say "$what: still running ($((SECONDS - start)) s)"
    fi
  done
  local rc=0
  wait "$pid" || rc=$?
  if (( rc != 0 )); then say "$what: FAILED (exit $rc) after $((SECONDS - start)) s"; return "$rc"; fi
  say "$what: done in $((SECONDS - start)) s"
}
