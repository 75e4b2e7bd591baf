#!/usr/bin/env bash
# Builds the vpccni CNI plugin: the exec shim in runtime/cni/shim (Go, on the CNI project's
# skel), which forwards each call to the node agent, where all of its logic is. The Go modules
# come from the Go module proxy (go.sum pins them); the binary is static and reproducible
# (-trimpath, no build ID). Output: ${VPCCNI_CNI_DIR:-dist/cni}/vpccni (dist/ is gitignored).
# docs/cni.md has the figures.
source "$(dirname "$0")/build-common.sh"
cd "$(dirname "$0")/.."
need_go
out="${VPCCNI_CNI_DIR:-dist/cni}"
mkdir -p "$out"
out=$(cd "$out" && pwd)
(cd runtime/cni/shim && go build -p 2 -trimpath -buildvcs=false -ldflags="-s -w -buildid=" -o "$out/vpccni.tmp" .) ||
  die "building the CNI plugin (runtime/cni/shim) failed"
mv -f "$out/vpccni.tmp" "$out/vpccni"
echo "$out/vpccni"
