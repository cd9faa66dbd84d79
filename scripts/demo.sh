#!/usr/bin/env bash
# sigward end to end on this machine, with real components only:
#   a local registry (Debian's docker-registry, TLS), two images pushed with crane, one signed
#   with the real cosign, `sigward verify` on both, then `sigward serve` with a demo policy and
#   AdmissionReviews for a pod of each image, with the decisions printed. Everything is stopped
#   and removed at the end.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Setting up (first run builds crane and cosign into ~/.cache/sigward; later runs are quick)"
bash scripts/tools.sh node apt crane cosign2
eval "$(bash scripts/tools.sh env)"
bash scripts/deps.sh
npx tsc -p tsconfig.build.json

WORK=$(mktemp -d /tmp/sigward-demo.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
sigward() { node "$ROOT/dist/cli/main.js" "$@"; }

step "Starting a local registry (docker-registry 2.8, TLS on 127.0.0.1)"
REG_PORT=$(free_port)
REG=127.0.0.1:$REG_PORT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj '/CN=localhost' \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$WORK/tls.key" -out "$WORK/tls.crt" 2>/dev/null
cat > "$WORK/registry.yml" <<EOF
version: 0.1
log: { level: warn }
storage: { filesystem: { rootdirectory: $WORK/data } }
http: { addr: $REG, secret: demo-only, tls: { certificate: $WORK/tls.crt, key: $WORK/tls.key } }
EOF
"$SIGWARD_REGISTRY_BIN" serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do curl -sf --cacert "$WORK/tls.crt" "https://$REG/v2/" >/dev/null && break; sleep 0.1; done
echo "registry at https://$REG"
export SSL_CERT_FILE=$WORK/tls.crt   # crane and cosign trust the demo registry's certificate

step "Pushing two images with crane"
echo "signed" >"$WORK/a.txt" && tar -C "$WORK" -cf "$WORK/a.tar" a.txt
echo "unsigned" >"$WORK/b.txt" && tar -C "$WORK" -cf "$WORK/b.tar" b.txt
"$SIGWARD_CRANE" append -f "$WORK/a.tar" -t "$REG/demo/signed:1.0" 2>/dev/null
"$SIGWARD_CRANE" append -f "$WORK/b.tar" -t "$REG/demo/unsigned:1.0" 2>/dev/null

step "Signing $REG/demo/signed:1.0 with the real cosign (a new key pair, no transparency log)"
(cd "$WORK" && COSIGN_PASSWORD='' "$SIGWARD_COSIGN2" generate-key-pair >/dev/null 2>&1)
COSIGN_PASSWORD='' "$SIGWARD_COSIGN2" sign --yes --key "$WORK/cosign.key" --tlog-upload=false \
  "$REG/demo/signed@$("$SIGWARD_CRANE" digest "$REG/demo/signed:1.0")" 2>&1 | grep -v '^$' || true

step "sigward verify: the signed image"
sigward verify "$REG/demo/signed:1.0" --key "$WORK/cosign.pub" --ca-file "$WORK/tls.crt"
step "sigward verify: the unsigned image (exit code 1 expected)"
set +e
sigward verify "$REG/demo/unsigned:1.0" --key "$WORK/cosign.pub" --ca-file "$WORK/tls.crt"
echo "exit code: $?"
set -e

step "Starting sigward serve with a demo policy for $REG/demo/**"
cat > "$WORK/policy.yaml" <<EOF
apiVersion: sigward.dev/v1alpha1
kind: ClusterImagePolicy
metadata: { name: demo }
spec:
  images: [ { glob: "$REG/demo/**" } ]
  authorities:
    - name: demo-key
      key:
        data: |
$(sed 's/^/          /' "$WORK/cosign.pub")
EOF
PORT=$(free_port)
METRICS=$(free_port)
node "$ROOT/dist/cli/main.js" serve --policy-file "$WORK/policy.yaml" --host 127.0.0.1 --port "$PORT" \
  --metrics-port "$METRICS" --ca-file "$WORK/tls.crt" --log-level warn &
PIDS+=($!)
for _ in $(seq 100); do curl -skf "https://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
echo "webhook at https://127.0.0.1:$PORT (self-signed certificate)"

review() { # uid image
  cat <<EOF
{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"$1",
 "kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},
 "namespace":"default","name":"web","operation":"CREATE","userInfo":{"username":"demo"},
 "object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"default"},
  "spec":{"containers":[{"name":"app","image":"$2"}]}}}}
EOF
}
show() { node -e '
  let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s).response;
  const out={allowed:r.allowed};if(r.status)out.message=r.status.message;
  if(r.patch)out.patch=JSON.parse(Buffer.from(r.patch,"base64").toString());console.log(JSON.stringify(out,null,2))})'; }

for image in "$REG/demo/signed:1.0" "$REG/demo/unsigned:1.0"; do
  step "POST /validate: a pod running $image"
  review "uid-$RANDOM" "$image" | curl -sk -H 'Content-Type: application/json' --data-binary @- \
    "https://127.0.0.1:$PORT/validate" | show
done
step "POST /mutate: the signed pod's tag pinned to the digest that was verified"
review "uid-$RANDOM" "$REG/demo/signed:1.0" | curl -sk -H 'Content-Type: application/json' --data-binary @- \
  "https://127.0.0.1:$PORT/mutate" | show

step "Metrics (excerpt)"
curl -s "http://127.0.0.1:$METRICS/metrics" | grep -E '^sigward_(admission_requests_total|verifications_total|cache_requests_total)' || true

step "Stopping everything"
