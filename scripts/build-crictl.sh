#!/usr/bin/env bash
# Installs crictl (the CRI client of sigs.k8s.io/cri-tools) into the cache. The containerd
# suite drives containerd's CRI with it (`crictl runp`), which calls the CNI plugin exactly as
# kubelet does. Pinned to v1.34.0: it speaks CRI v1, which Debian's containerd 1.6 serves, and it
# is the newest tag the module proxy has that is not newer than the project's Kubernetes (1.35).
source "$(dirname "$0")/build-common.sh"

# bash reads a script as it runs; a function is parsed whole first, so editing (or pulling)
# this file during a long build cannot break the run in progress
main() {
  out=$CRICTL_DIR
  if [ -x "$out/bin/crictl" ]; then
    say "crictl $CRICTL_VERSION: cached in $out"
    exit 0
  fi
  need_go
  lock "$out"
  [ -x "$out/bin/crictl" ] && { say "crictl $CRICTL_VERSION: built by another run"; exit 0; }
  say "crictl $CRICTL_VERSION: building"
  start=$(date +%s)
  # without the stamp `crictl --version` says "unknown"
  GOBIN="$out/bin.tmp" go install -p 2 -trimpath \
    -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION" \
    "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION"
  mkdir -p "$out/bin"
  mv "$out/bin.tmp/crictl" "$out/bin/crictl"
  rmdir "$out/bin.tmp"
  say "crictl $CRICTL_VERSION: built in $(( $(date +%s) - start ))s -> $out/bin/crictl"
}
main "$@"
