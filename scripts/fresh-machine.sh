#!/usr/bin/env bash
# Runs a command in a fresh Debian 12 machine as the README promises it: a minbase root file
# system (mmdebstrap, from this machine's apt sources) holding only Node.js and npm (copied
# from this machine), Go (this machine's, mounted read-only at /usr/local/go) and this
# checkout's files, as root, with empty caches (Go's too) and no iproute2, ping or procps.
# Default command: the README's first one, `npm ci && npx vpccni demo`.
#
#   bash scripts/fresh-machine.sh ['shell command run in the checkout']
#
# The root file system is a throw-away copy of a cached base (keyed by release); the chroot runs
# in a private mount namespace, so its /proc, /sys, /dev and /run mounts vanish with it.
source "$(dirname "$0")/build-common.sh"
work=
REPO=$(cd "$(dirname "$0")/.." && pwd)
RELEASE=bookworm
BASE_DIR=$VPCCNI_CACHE/fresh-$RELEASE-v1

base() {
  if [ -f "$BASE_DIR/rootfs.tar" ]; then return; fi
  command -v mmdebstrap >/dev/null || die "mmdebstrap is missing: bash scripts/prereqs.sh installs it (apt-get install mmdebstrap)"
  lock "$BASE_DIR"
  [ -f "$BASE_DIR/rootfs.tar" ] && return
  say "fresh machine: building a Debian $RELEASE minbase root file system (once per machine)"
  mmdebstrap --quiet --format=tar --variant=minbase "$RELEASE" "$BASE_DIR/rootfs.tar.tmp" >"$BASE_DIR/mmdebstrap.log" 2>&1 ||
    { tail -n 20 "$BASE_DIR/mmdebstrap.log" >&2; die "mmdebstrap failed (log: $BASE_DIR/mmdebstrap.log)"; }
  mv "$BASE_DIR/rootfs.tar.tmp" "$BASE_DIR/rootfs.tar"
}

main() {
  [ "$(id -u)" = 0 ] || die "needs root (chroot, mount namespaces)"
  local cmd=${1:-npm ci --no-audit --no-fund --loglevel=error && npx vpccni demo}
  base
  local root
  work=$(mktemp -d /tmp/vpccni-fresh-XXXXXX)
  trap 'rm -rf "$work"' EXIT
  root=$work/root
  mkdir -p "$root"
  tar -xf "$BASE_DIR/rootfs.tar" -C "$root"
  # Node.js and npm as this machine has them (the README's only requirements besides root)
  local node npm_dir
  node=$(readlink -f "$(command -v node)")
  npm_dir=$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)
  install -m 0755 "$node" "$root/usr/bin/node"
  mkdir -p "$root/usr/lib/node_modules"
  cp -a "$npm_dir" "$root/usr/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/bin/npx"
  # The machine's network settings: name servers, and the CAs it trusts (a registry behind a
  # TLS proxy is trusted through them), gathered into the fresh root's one bundle: the system
  # bundle and whatever the environment names (the test command points NODE_EXTRA_CA_CERTS at
  # the test CA, so that alone is not enough)
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  local env=(HOME=/root PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin TERM=dumb)
  # Go as this machine has it (it builds the CNI plugin), its module and build caches empty
  local goroot
  goroot=$(go env GOROOT 2>/dev/null) || die "go is not installed (the README's requirements: Node.js, npm, Go, root)"
  mkdir -p "$root/usr/local/go"
  local bundle=/etc/ssl/certs/ca-certificates.crt
  mkdir -p "$root/etc/ssl/certs"
  for file in /etc/ssl/certs/ca-certificates.crt "${SSL_CERT_FILE:-}" "${NODE_EXTRA_CA_CERTS:-}"; do
    if [ -n "$file" ] && [ -f "$file" ]; then cat "$file"; fi
  done >"$root$bundle"
  [ -s "$root$bundle" ] && env+=("NODE_EXTRA_CA_CERTS=$bundle" "SSL_CERT_FILE=$bundle")
  # This checkout as a user has it: a clone of HEAD (the image takes its revision and times
  # from git), with the working tree's uncommitted and new files laid over it
  git clone -q --no-local --depth 1 "file://$REPO" "$root/src/vpccni"
  (cd "$REPO" && git ls-files -z -mo --exclude-standard | tar --null -T - -cf -) | tar -xf - -C "$root/src/vpccni"
  say "fresh machine: $(. "$root/etc/os-release" && echo "$PRETTY_NAME"), node $("$node" --version), $("$goroot/bin/go" version | cut -d' ' -f3), running: $cmd"
  unshare --mount --propagation private -- bash -c '
    set -e
    root=$1; goroot=$2; shift 2
    mount --bind "$root" "$root"   # ip netns needs / to be a mount point
    mount -t proc proc "$root/proc"
    mount --rbind /sys "$root/sys"
    mount --rbind /dev "$root/dev"
    mount -t tmpfs tmpfs "$root/run"
    mount -t tmpfs tmpfs "$root/tmp"
    mount --bind -o ro "$goroot" "$root/usr/local/go"
    exec chroot "$root" env -i "$@"
  ' fresh "$root" "$goroot" "${env[@]}" sh -c "cd /src/vpccni && $cmd"
}
main "$@"
