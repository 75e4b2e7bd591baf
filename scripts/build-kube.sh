#!/usr/bin/env bash
# Builds kube-apiserver, kubectl and the node/control-plane parts the real-node suite runs
# (kubelet, kube-scheduler, kube-controller-manager) from the Go module proxy into the cache,
# once per version.
# k8s.io/kubernetes requires its staging modules at v0.0.0 with relative replaces, which
# only work inside its own repo; a wrapper module replaces each with the published
# v0.<minor>.<patch> tag, the list being read from the real go.mod rather than typed.
source "$(dirname "$0")/build-common.sh"

# bash reads a script as it runs; a function is parsed whole first, so editing (or pulling)
# this file during a long build cannot break the run in progress
BINARIES="kube-apiserver kubectl kubelet kube-scheduler kube-controller-manager"
all_built() {
  for b in $BINARIES; do [ -x "$1/bin/$b" ] || return 1; done
}

main() {
  out=$KUBE_DIR
  if all_built "$out"; then
    say "kubernetes $KUBE_VERSION: cached in $out"
    exit 0
  fi
  need_go
  lock "$out"
  all_built "$out" && { say "kubernetes $KUBE_VERSION: built by another run"; exit 0; }
  staging=v0.${KUBE_VERSION#v1.}
  src=$out/src
  mkdir -p "$src" "$out/bin"
  cd "$src"
  say "kubernetes $KUBE_VERSION: fetching go.mod (staging modules at $staging)"
  gomod=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | json_get 'j.GoMod')
  [ -f "$gomod" ] || die "go mod download did not give a go.mod for k8s.io/kubernetes@$KUBE_VERSION"
  goline=$(go mod edit -json "$gomod" | json_get 'j.Go')
  rm -f go.mod go.sum
  go mod init vpccni.local/kube-build >/dev/null 2>&1
  go mod edit -go="$goline" -require="k8s.io/kubernetes@$KUBE_VERSION"
  n=0
  for m in $(go mod edit -json "$gomod" | json_get 'j.Require.filter((r) => r.Version === "v0.0.0").map((r) => r.Path).join("\n")'); do
    go mod edit -replace="$m=$m@$staging"
    n=$((n + 1))
  done
  [ "$n" -gt 0 ] || die "no v0.0.0 requirements found in $gomod: the wrapper recipe no longer fits"
  say "kubernetes $KUBE_VERSION: $n staging replaces; building (several minutes on 2 cores)"
  pkg=k8s.io/component-base/version
  cgo=k8s.io/client-go/pkg/version
  minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
  ld="-s -w"
  for p in $pkg $cgo; do
    ld="$ld -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  start=$(date +%s)
  pkgs=()
  for b in $BINARIES; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
  go build -v -p 2 -trimpath -ldflags "$ld" -o "$out/bin.tmp/" "${pkgs[@]}"
  # rename last, so an interrupted build never looks like a cached one
  for b in $BINARIES; do mv "$out/bin.tmp/$b" "$out/bin/"; done
  rmdir "$out/bin.tmp"
  say "kubernetes $KUBE_VERSION: built in $(( $(date +%s) - start ))s -> $out/bin"
}
main "$@"
