#!/usr/bin/env bash
# Installs what the test suite needs and is not an npm package. Idempotent; cached
# outside the repo (${VPCCNI_CACHE:-$HOME/.cache/vpccni}, keyed by version). Under CI=true
# anything that cannot be installed is an error; elsewhere it is reported and the tests that
# need it fail with a message pointing back here.
set -euo pipefail
cd "$(dirname "$0")/.."

# bash reads a script as it runs; a function is parsed whole first, so editing (or pulling)
# this file during a long build cannot break the run in progress
main() {
  [ -x node_modules/.bin/bun ] || npm ci

  source scripts/build-common.sh
  mkdir -p "$VPCCNI_CACHE/logs"
  failed=()

  # A missing prerequisite is fatal in CI; a developer still gets the rest built.
  run() {
    local name=$1; shift
    if ! "$@"; then
      failed+=("$name")
    fi
  }

  # kube-apiserver is by far the longest build (many minutes on 2 cores): start it first,
  # in the background, and do everything else meanwhile.
  kube_pid=
  kube_log=$VPCCNI_CACHE/logs/build-kube.log
  if [ -x "$KUBE_DIR/bin/kube-apiserver" ] && [ -x "$KUBE_DIR/bin/kubectl" ] && [ -x "$KUBE_DIR/bin/kubelet" ] \
    && [ -x "$KUBE_DIR/bin/kube-scheduler" ] && [ -x "$KUBE_DIR/bin/kube-controller-manager" ]; then
    say "kubernetes $KUBE_VERSION: cached in $KUBE_DIR"
  else
    say "kubernetes $KUBE_VERSION: building in the background, log: $kube_log"
    bash scripts/build-kube.sh >"$kube_log" 2>&1 &
    kube_pid=$!
    kube_start=$(date +%s)
  fi

  run "debian packages" bash scripts/build-apt.sh
  run "cnitool" bash scripts/build-cnitool.sh
  run "crictl" bash scripts/build-crictl.sh
  # after the Debian packages: it needs buildah
  run "pause image" bash scripts/build-pause.sh
  run "etcd" bash scripts/build-etcd.sh
  run "test CA" bash scripts/build-test-ca.sh

  if [ -n "$kube_pid" ]; then
    next=60
    # the kube build may end during the other steps: then the loop below does not run
    while kill -0 "$kube_pid" 2>/dev/null; do
      sleep 2
      elapsed=$(( $(date +%s) - kube_start ))
      # a heartbeat every minute, so a CI log shows the build is alive
      if [ "$elapsed" -ge "$next" ]; then
        # go build -v names each package as it is built: a count is the progress there is
        say "kubernetes $KUBE_VERSION: still building ($(( elapsed / 60 )) min, $(grep -vc '^go: ' "$kube_log") packages built)"
        next=$(( (elapsed / 60 + 1) * 60 ))
      fi
    done
    if wait "$kube_pid"; then
      tail -n 1 "$kube_log"
    else
      tail -n 30 "$kube_log" >&2
      failed+=("kubernetes")
    fi
  fi

  if [ ${#failed[@]} -gt 0 ]; then
    msg="prerequisites not installed: ${failed[*]}"
    if [ "${CI:-}" = true ]; then
      die "$msg"
    fi
    say "warning: $msg; tests that need them will fail (rerun: bash scripts/prereqs.sh)"
  fi
  say "done"
}
main "$@"
