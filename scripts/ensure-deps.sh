#!/usr/bin/env bash
# Installs what the project needs on a bare machine, idempotently: Debian packages, npm
# packages (including Node 24), and the control-plane binaries built from Go modules.
# `--for demo` installs only what the demo uses; the default (`--for tests`, npm test and CI) adds what
# only the tests run: promtool, the argocd CLI, kustomize and Argo CD's images, and the upstream modules whose files the tests read.
set -euo pipefail
cd "$(dirname "$0")/.."

for_what=tests
case "${1:-}" in
  --for) for_what="${2:-}" ;;
  "") ;;
  *) echo "usage: ensure-deps.sh [--for demo|tests]" >&2; exit 2 ;;
esac
case "$for_what" in demo|tests) ;; *) echo "ensure-deps.sh: --for takes demo or tests, got '$for_what'" >&2; exit 2 ;; esac

apt_packages=(git) # git: the git server and pushes of the demo and the git sync tests
# prometheus: promtool, for the alert rule tests; iproute2: lo in CI's network namespace
[ "$for_what" = tests ] && apt_packages+=(prometheus iproute2)
# The real node (Linux, root; the demo's default and a test tier): runc and the CNI plugins run pods; iptables and
# conntrack serve kube-proxy; mmdebstrap, buildah and a static-linking gcc build its images with no registry (localcluster/realnode/).
real_node=no
if [ "$(id -u)" = 0 ] && [ "$(uname -s)" = Linux ]; then
  real_node=yes
  apt_packages+=(runc containernetworking-plugins iptables conntrack util-linux mmdebstrap buildah gcc libc6-dev)
fi
missing=()
for p in "${apt_packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}" >&2
  sudo=(); [ "$(id -u)" = 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq && "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Only promtool is wanted: a host with systemd would otherwise keep a Prometheus server running.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then "${sudo[@]}" systemctl disable --now prometheus >/dev/null 2>&1 || true; fi
fi

# npm ci only when the lockfile changed since the last install.
if [ ! -x node_modules/.bin/node ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing npm packages (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
node_modules/.bin/node --version >/dev/null

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then export PATH="/usr/local/go/bin:$PATH"; fi
if [ "$for_what" = demo ]; then
  # The demo runs on the real node where it can: its binaries and images too, while registries are reachable.
  if [ "$real_node" = yes ]; then node_modules/.bin/node bin/trainingjob.js cluster build --for node
  else node_modules/.bin/node bin/trainingjob.js cluster build; fi
  exit 0
fi
node_modules/.bin/node bin/trainingjob.js cluster build --for tests
# Upstream modules whose CRDs and rules the tests read: fetched now, read offline by the tests.
node_modules/.bin/node scripts/download-go-modules.ts
