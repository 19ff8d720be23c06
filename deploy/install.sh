#!/usr/bin/env bash
# netloom install: idempotent. Installs the Debian packages netloom uses, the GoBGP API .proto
# files (extracted, not installed), the npm dependencies, and builds the TypeScript.
# Re-running it on a ready machine takes seconds. No systemd is assumed: nothing is started here.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
note() { printf '    %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then echo "install.sh: run as root" >&2; exit 1; fi
CLEANUP=()
cleanup() { for c in "${CLEANUP[@]}"; do eval "$c"; done; }
trap cleanup EXIT

PKGS=(openvswitch-switch openvswitch-common etcd-server etcd-client gobgpd bird2 docker.io podman containerd runc
      containernetworking-plugins iproute2 iputils-ping ethtool tcpdump iperf3 qperf busybox-static
      hyperfine netcat-openbsd curl bc procps psmisc bridge-utils jq util-linux nftables
      # the Go driver of the CNI conformance test, on the real libcni: test/cni-driver
      golang-go golang-github-appc-cni-dev
      # the compiled CNI plugin (netplugin/cni/netloom-cni.c, static)
      gcc libc6-dev
      # systemd-analyze verify of deploy/systemd/*.service (test/unit/deploy); installing it starts nothing
      systemd)

step "Debian packages (${#PKGS[@]})"
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  note "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Keep package scripts from starting daemons: netloom starts every daemon itself.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; CLEANUP+=('rm -f /usr/sbin/policy-rc.d')
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  note "done"
else
  note "all present"
fi

step "GoBGP API .proto files"
PROTO_DIR="$ROOT/proto/gobgp"
if [ ! -f "$PROTO_DIR/gobgp.proto" ]; then
  tmp=$(mktemp -d); CLEANUP+=("rm -rf '$tmp'")
  (cd "$tmp" && apt-get download golang-github-osrg-gobgp-dev >/dev/null 2>&1 || { apt-get update -qq && apt-get download golang-github-osrg-gobgp-dev >/dev/null; })
  dpkg-deb -x "$tmp"/golang-github-osrg-gobgp-dev_*.deb "$tmp/x"
  mkdir -p "$PROTO_DIR"
  cp "$tmp"/x/usr/share/gocode/src/github.com/osrg/gobgp/api/*.proto "$PROTO_DIR/"
  note "extracted $(ls "$PROTO_DIR" | wc -l) files into proto/gobgp"
else
  note "present"
fi

step "kubectl 1.20 (Debian's kubernetes-client, extracted)"
# The Kubernetes tests drive Debian's kubectl against the API server stand-in. Extracted rather
# than installed: another package (e.g. Google Cloud SDK's kubectl) may own /usr/bin/kubectl.
KUBECTL_DIR=/usr/local/lib/netloom/kubectl-1.20
if [ ! -x "$KUBECTL_DIR/kubectl" ]; then
  tmp=$(mktemp -d); CLEANUP+=("rm -rf '$tmp'")
  (cd "$tmp" && apt-get download kubernetes-client >/dev/null 2>&1 || { apt-get update -qq && apt-get download kubernetes-client >/dev/null; })
  dpkg-deb -x "$tmp"/kubernetes-client_*.deb "$tmp/x"
  mkdir -p "$KUBECTL_DIR"
  cp "$tmp/x/usr/bin/kubectl" "$KUBECTL_DIR/kubectl"
  note "$("$KUBECTL_DIR/kubectl" version --client --short 2>/dev/null || echo extracted) in $KUBECTL_DIR"
else
  note "present"
fi

step "npm dependencies"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  note "up to date"
fi

step "build (tsc)"
# tsc never deletes: a source removed from the tree would leave its compiled twin in dist/ (a deleted
# test would still run), so drop compiled files whose source is gone
if [ -d dist ]; then
  find dist -name '*.js' | while read -r js; do
    src=${js#dist/}; src=${src%.js}
    [ -f "$src.ts" ] || rm -f "$js" "$js.map"
  done
fi
npx tsc -p tsconfig.json
note "built into dist/"

step "compiled helpers (dist/bin: the CNI plugin, one process per call instead of dash + head + nc; the agent's veth stage 1; the managed Docker plugin's relay)"
mkdir -p dist/bin
for src in netplugin/cni/netloom-cni.c netplugin/plumbing/netloom-veth.c deploy/docker-plugin/netloom-plugin-relay.c; do
  out=dist/bin/$(basename "$src" .c)
  if [ ! -x "$out" ] || [ "$src" -nt "$out" ]; then
    cc -std=c11 -O2 -static -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 -fstack-protector-strong -o "$out.tmp" "$src"
    mv "$out.tmp" "$out"
    note "built $out"
  else
    note "$out up to date"
  fi
done

step "lab images (pause, agnhost) for containerd"
# a static Go program in two local OCI images (no registry here), built once per content into
# /var/cache/netloom/lab-images/<key>/; the lab imports them into each host's containerd
note "$(node dist/deploy/lab/cri/images.js)"
step "ready"
