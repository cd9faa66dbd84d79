#!/usr/bin/env bash
# Builds sigward's container image from the real Dockerfile without a Docker engine: Debian's
# buildah (`--isolation chroot`) against stand-in bases made here from Debian's packages and the
# Node 24 binary from npm, served to the build by a loopback registry.
#
#   scripts/image.sh [--tag NAME]        build; print the image's digest and size (default NAME localhost/sigward:dev)
#   scripts/image.sh --bases-only        build and cache the two bases only
#
# The bases (cached under ~/.cache/sigward/image, keyed by this script and the Node version):
#   build    Debian bookworm minbase (a shell, apt's CA certificates) + node and npm from npm:
#            what the Dockerfile's build stages need (RUN, npm ci, npm run build);
#   runtime  close to distroless: node at /nodejs/bin/node, glibc, libstdc++ and libgcc unpacked
#            from their .debs (no maintainer scripts, no shell, no package manager), the Mozilla
#            CA bundle, /etc/passwd with nonroot (65532), /tmp.
# Writes build/image.json: {"image", "id", "digest", "size", "source"} for the tests and the chart
# e2e. `source` hashes what the image is built from; when it and the image are unchanged, a second
# run only says so.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${SIGWARD_CACHE:-$HOME/.cache/sigward}
SAY_PREFIX=image
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TAG=localhost/sigward:dev
BASES_ONLY=false
while (( $# > 0 )); do
  case $1 in
    --tag) TAG=$2; shift 2 ;;
    --bases-only) BASES_ONLY=true; shift ;;
    *) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done

eval "$(bash "$ROOT/scripts/tools.sh" env)"
bash "$ROOT/scripts/tools.sh" node crane >&2

export BUILDAH_ISOLATION=chroot

install_image_tools() {
  local missing=()
  for p in buildah mmdebstrap; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if (( ${#missing[@]} == 0 )); then return; fi
  say "apt: installing ${missing[*]}"
  local sudo=""
  [[ $(id -u) == 0 ]] || sudo=sudo
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive with_heartbeat "apt install ${missing[*]}" $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

NODE=$(command -v node)
NODE_VERSION=$("$NODE" --version)
NPM_VERSION=11
# Raise BASES_VERSION when what goes into a base changes: the cached bases are then made again.
BASES_VERSION=3
KEY=$(echo "$BASES_VERSION $NODE_VERSION $NPM_VERSION" | sha256sum | cut -c1-16)
BASES=$CACHE/image/bases-$KEY
mkdir -p "$BASES"
# Bases of other versions are stale: their files and images go.
find "$CACHE/image" -mindepth 1 -maxdepth 1 -name 'bases-*' ! -name "bases-$KEY" -exec rm -rf {} +

# npm for the build base, from the npm registry (the Node package from npm carries no npm).
npm_package() {
  local dir=$BASES/npm
  if [[ -f $dir/node_modules/npm/package.json ]]; then return; fi
  say "npm $NPM_VERSION: from the npm registry"
  mkdir -p "$dir"
  with_heartbeat "npm $NPM_VERSION" npm install --no-audit --no-fund --silent --prefix "$dir" "npm@$NPM_VERSION"
}

# Makes $BASES/NAME.tar once: FILL (a function) fills the root file system at $1/root.
base_tar() {
  local name=$1 fill=$2
  local tar=$BASES/$name.tar
  if [[ -f $tar ]]; then return; fi
  local dir
  dir=$(mktemp -d)
  "$fill" "$dir"
  tar -C "$dir/root" --numeric-owner -cf "$tar.part" .
  mv "$tar.part" "$tar"
  rm -rf "$dir"
}

fill_build_base() {
  local dir=$1
  say "build base: mmdebstrap bookworm minbase (first run only)"
  with_heartbeat "mmdebstrap" mmdebstrap --quiet --variant=minbase --include=ca-certificates bookworm "$dir/root" >&2
  install -D -m 0755 "$NODE" "$dir/root/usr/local/bin/node"
  mkdir -p "$dir/root/usr/local/lib/node_modules"
  cp -a "$BASES/npm/node_modules/npm" "$dir/root/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$dir/root/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$dir/root/usr/local/bin/npx"
  rm -rf "$dir/root/var/cache/apt/"* "$dir/root/var/lib/apt/lists/"*
  # The build stages fetch from the npm registry: they trust what this machine trusts (its CA
  # bundle, which may hold a TLS-inspecting egress's CA). Nothing of the build stages but dist/
  # and node_modules/ reaches the image, whose CA bundle is Mozilla's alone.
  cp /etc/ssl/certs/ca-certificates.crt "$dir/root/etc/ssl/certs/ca-certificates.crt"
}

fill_runtime_base() {
  local dir=$1
  say "runtime base: node, glibc, libstdc++, CA certificates from Debian's .debs"
  mkdir -p "$dir/debs" "$dir/root"
  (cd "$dir/debs" && chmod 777 . && with_heartbeat "apt-get download" apt-get download -qq libc6 libgcc-s1 libstdc++6 gcc-12-base ca-certificates tzdata netbase >&2)
  for deb in "$dir"/debs/*.deb; do dpkg-deb -x "$deb" "$dir/root"; done
  local r=$dir/root
  # What the packages' maintainer scripts would make, without running them (and without a shell).
  rm -rf "$r/usr/share/doc" "$r/usr/share/man" "$r/usr/share/lintian" "$r/usr/share/locale" "$r/usr/sbin" "$r/usr/bin" "$r/sbin" "$r/bin"
  mkdir -p "$r/etc/ssl/certs" "$r/tmp" "$r/home/nonroot" "$r/nodejs/bin"
  find "$r/usr/share/ca-certificates/mozilla" -name '*.crt' -print0 | sort -z | xargs -0 cat > "$r/etc/ssl/certs/ca-certificates.crt"
  chmod 1777 "$r/tmp"
  chown 65532:65532 "$r/home/nonroot"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$r/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' > "$r/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$r/etc/nsswitch.conf"
  ln -sf /usr/share/zoneinfo/Etc/UTC "$r/etc/localtime"
  install -m 0755 "$NODE" "$r/nodejs/bin/node"
}

# A base image in buildah's storage from a root file system tarball.
import_base() {
  local name=$1 tar=$2
  shift 2
  if buildah inspect --type image "$name" >/dev/null 2>&1; then return; fi
  say "importing $name"
  local ctr
  ctr=$(buildah from --quiet scratch)
  buildah add --quiet "$ctr" "$tar" / >/dev/null
  buildah config "$@" "$ctr"
  buildah commit --quiet --rm "$ctr" "$name" >/dev/null
}

install_image_tools
# Base images of other versions go too (the vfs driver keeps a full copy of each).
buildah images --noheading --format '{{.Name}}:{{.Tag}}' 2>/dev/null | grep -E '^localhost/sigward-base-' | grep -v ":$KEY\$" | xargs -r buildah rmi -f >/dev/null 2>&1 || true
npm_package
base_tar build fill_build_base
base_tar runtime fill_runtime_base
BUILD_BASE=localhost/sigward-base-build:$KEY
RUNTIME_BASE=localhost/sigward-base-runtime:$KEY
import_base "$BUILD_BASE" "$BASES/build.tar" --env PATH=/usr/local/bin:/usr/bin:/bin --env NPM_CONFIG_UPDATE_NOTIFIER=false --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt --cmd '["node"]'
import_base "$RUNTIME_BASE" "$BASES/runtime.tar" --env PATH=/nodejs/bin --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt --user 65532:65532 --workingdir /home/nonroot --entrypoint '["/nodejs/bin/node"]'
if [[ $BASES_ONLY == true ]]; then say "bases ready: $BUILD_BASE $RUNTIME_BASE"; exit 0; fi

SOURCE=$( { echo "$KEY $TAG"; cd "$ROOT" && find Dockerfile .dockerignore package.json package-lock.json tsconfig.json tsconfig.build.json src -type f | LC_ALL=C sort | xargs sha256sum; } | sha256sum | cut -c1-32)
RECORD=$ROOT/build/image.json
if [[ -f $RECORD ]] && grep -q "\"source\":\"$SOURCE\"" "$RECORD"; then
  recorded_id=$(node -p 'require(process.argv[1]).id' "$RECORD")
  if [[ $(buildah inspect --type image --format '{{.FromImageID}}' "$TAG" 2>/dev/null) == "$recorded_id" ]]; then
    say "$TAG is up to date with the sources"
    cat "$RECORD"
    exit 0
  fi
fi

# The bases reach the build as a registry would serve them: pushed to a loopback registry.
PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
LOG=$(mktemp)
CRANE=$SIGWARD_CRANE
"$CRANE" registry serve --address "127.0.0.1:$PORT" >"$LOG" 2>&1 &
REGISTRY_PID=$!
trap 'kill $REGISTRY_PID 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$PORT/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
REG=127.0.0.1:$PORT
for base in "$BUILD_BASE" "$RUNTIME_BASE"; do
  buildah push --quiet --tls-verify=false "$base" "docker://$REG/${base#localhost/}" >/dev/null
done

say "buildah bud --isolation chroot (the Dockerfile as written, bases from $REG)"
VERSION=$(node -p 'require(process.argv[1]).version' "$ROOT/package.json")
with_heartbeat "buildah bud" buildah bud --quiet --isolation chroot --layers --tls-verify=false --pull=always \
  --build-arg "BUILD_IMAGE=$REG/${BUILD_BASE#localhost/}" \
  --build-arg "RUNTIME_IMAGE=$REG/${RUNTIME_BASE#localhost/}" \
  --build-arg "VERSION=$VERSION" \
  -t "$TAG" -f "$ROOT/Dockerfile" "$ROOT" >&2

# The digest is the manifest's as a registry stores it: push once and read it back.
DIGEST_FILE=$(mktemp)
buildah push --quiet --tls-verify=false --digestfile "$DIGEST_FILE" "$TAG" "docker://$REG/sigward:dev" >/dev/null
DIGEST=$(cat "$DIGEST_FILE")
rm -f "$DIGEST_FILE"
ID=$(buildah inspect --type image --format '{{.FromImageID}}' "$TAG")
SIZE=$(buildah images --noheading --format '{{.Size}}' "$TAG" | head -1)
mkdir -p "$ROOT/build"
printf '{"image":"%s","id":"%s","digest":"%s","size":"%s","source":"%s"}\n' "$TAG" "$ID" "$DIGEST" "$SIZE" "$SOURCE" > "$RECORD"
say "built $TAG"
echo "digest: $DIGEST"
echo "size:   $SIZE"
