#!/usr/bin/env bash
# Shared by scripts/build-*.sh (sourced, not run). Versions and cache paths live here
# only; sandbox/paths.ts computes the same paths and must be kept in step.
set -euo pipefail

KUBE_VERSION=v1.35.4
ETCD_VERSION=v3.6.16
CNITOOL_VERSION=v1.3.0
CRICTL_VERSION=v1.34.0
# the pod sandbox image of scripts/build-pause.sh: bump it when its program changes
PAUSE_VERSION=v1

# a CI environment may come without HOME; Go needs it for its default caches too
export HOME=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
VPCCNI_CACHE=${VPCCNI_CACHE:-$HOME/.cache/vpccni}
KUBE_DIR=$VPCCNI_CACHE/kubernetes-$KUBE_VERSION
ETCD_DIR=$VPCCNI_CACHE/etcd-$ETCD_VERSION
CNITOOL_DIR=$VPCCNI_CACHE/cnitool-$CNITOOL_VERSION
CRICTL_DIR=$VPCCNI_CACHE/crictl-$CRICTL_VERSION
PAUSE_DIR=$VPCCNI_CACHE/pause-$PAUSE_VERSION
TEST_CA_DIR=$VPCCNI_CACHE/test-ca-v1

# Static, reproducible binaries; module and build caches stay at
# their defaults (outside the repo); 2 parallel compiles so a 2-core CI box is not thrashed.
export GOWORK=off CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=${GOTOOLCHAIN:-local}

say() { printf '[prereqs %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { printf '[prereqs] error: %s\n' "$*" >&2; exit 1; }
# JSON from go's -json output, with node (the project needs it anyway; jq may be missing):
# json_get 'j.GoMod' < file
json_get() { node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>{const j=JSON.parse(s);console.log('"$1"')})'; }
need_go() { command -v go >/dev/null || die "go (1.25 or newer) is not installed; it builds the CNI plugin, kube-apiserver, etcd and cnitool"; }

# Two test runs on one machine (or a run while a developer builds) must not build into the
# same directory at once: the second waits for the first, then finds the result cached.
lock() {
  mkdir -p "$1"
  exec 9>"$1/.lock"
  if ! flock -n 9; then
    say "waiting for another build in $1"
    flock 9
  fi
}
