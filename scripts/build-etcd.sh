#!/usr/bin/env bash
# Builds etcd from the Go module proxy into the cache, once per version. The etcd server
# module is package main but its go.mod has relative replaces, so `go install pkg@version`
# refuses it; a wrapper module that requires it builds fine (replaces of dependencies are ignored).
source "$(dirname "$0")/build-common.sh"

# bash reads a script as it runs; a function is parsed whole first, so editing (or pulling)
# this file during a long build cannot break the run in progress
main() {
  out=$ETCD_DIR
  if [ -x "$out/bin/etcd" ]; then
    say "etcd $ETCD_VERSION: cached in $out"
    exit 0
  fi
  need_go
  lock "$out"
  [ -x "$out/bin/etcd" ] && { say "etcd $ETCD_VERSION: built by another run"; exit 0; }
  src=$out/src
  mkdir -p "$src" "$out/bin"
  cd "$src"
  rm -f go.mod go.sum
  go mod init vpccni.local/etcd-build >/dev/null 2>&1
  go mod edit -require="go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  say "etcd $ETCD_VERSION: building"
  start=$(date +%s)
  go build -p 2 -trimpath -ldflags "-s -w" -o "$out/bin/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$out/bin/etcd.tmp" "$out/bin/etcd"
  say "etcd $ETCD_VERSION: built in $(( $(date +%s) - start ))s -> $out/bin/etcd"
}
main "$@"
