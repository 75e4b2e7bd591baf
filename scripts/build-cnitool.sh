#!/usr/bin/env bash
# Installs cnitool (the CNI project's runtime client, libcni inside) into the cache.
# Pinned to v1.3.0: later tags made cnitool a module with relative replaces.
source "$(dirname "$0")/build-common.sh"

# bash reads a script as it runs; a function is parsed whole first, so editing (or pulling)
# this file during a long build cannot break the run in progress
main() {
  out=$CNITOOL_DIR
  if [ -x "$out/bin/cnitool" ]; then
    say "cnitool $CNITOOL_VERSION: cached in $out"
    exit 0
  fi
  need_go
  lock "$out"
  [ -x "$out/bin/cnitool" ] && { say "cnitool $CNITOOL_VERSION: built by another run"; exit 0; }
  say "cnitool $CNITOOL_VERSION: building"
  start=$(date +%s)
  GOBIN="$out/bin.tmp" go install -p 2 -trimpath -ldflags "-s -w" \
    "github.com/containernetworking/cni/cnitool@$CNITOOL_VERSION"
  mkdir -p "$out/bin"
  mv "$out/bin.tmp/cnitool" "$out/bin/cnitool"
  rmdir "$out/bin.tmp"
  say "cnitool $CNITOOL_VERSION: built in $(( $(date +%s) - start ))s -> $out/bin/cnitool"
}
main "$@"
