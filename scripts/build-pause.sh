#!/usr/bin/env bash
# Builds the pod sandbox ("pause") image that the containerd suite's CRI uses as its
# sandbox_image, with no registry: a static Go program that sleeps until SIGINT or SIGTERM,
# put FROM scratch into an OCI archive by buildah (throw-away storage root, vfs driver).
# Output: $PAUSE_DIR/pause.oci.tar, image localhost/vpccni/pause:$PAUSE_VERSION. Byte-stable
# for one Go version (--timestamp 0, -trimpath). Bump PAUSE_VERSION when the program changes.
source "$(dirname "$0")/build-common.sh"

PAUSE_IMAGE=localhost/vpccni/pause:$PAUSE_VERSION

# The program: PID 1 of the pod's PID namespace when the pod shares it, so it reaps orphans.
PAUSE_GO='package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	children := make(chan os.Signal, 1)
	signal.Notify(children, syscall.SIGCHLD)
	for {
		select {
		case <-stop:
			os.Exit(0)
		case <-children:
			for {
				pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
				if pid <= 0 || err != nil {
					break
				}
			}
		}
	}
}
'

# bash reads a script as it runs; a function is parsed whole first, so editing (or pulling)
# this file during a long build cannot break the run in progress
main() {
  out=$PAUSE_DIR
  if [ -f "$out/pause.oci.tar" ]; then
    say "pause image $PAUSE_VERSION: cached in $out"
    exit 0
  fi
  need_go
  command -v buildah >/dev/null || die "buildah is not installed (apt-get install buildah); it assembles the pause image"
  [ "$(id -u)" = 0 ] || die "buildah needs root here (it runs with a throw-away storage root)"
  lock "$out"
  [ -f "$out/pause.oci.tar" ] && { say "pause image $PAUSE_VERSION: built by another run"; exit 0; }
  say "pause image $PAUSE_VERSION: building"
  start=$(date +%s)
  work=$(mktemp -d "${TMPDIR:-/tmp}/vpccni-pause-build.XXXXXX")
  # the storage root holds no mounts (vfs), so removing it is all the cleanup there is
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/src" "$work/rootfs"
  printf '%s' "$PAUSE_GO" >"$work/src/main.go"
  (cd "$work/src" && go mod init vpccni.local/pause >/dev/null 2>&1 && \
    go build -p 2 -trimpath -ldflags "-s -w" -o "$work/rootfs/pause" .)

  # nothing system-wide is written: buildah's blob-info cache (/var/lib/containers, as root)
  # goes to a private /var/lib of this build, and its network backend's lock (/etc/cni/net.d,
  # made at start-up even with no RUN step) to a folder of its own
  mkdir -p "$work/var-lib" "$work/net.d"
  printf '[network]\nnetwork_config_dir = "%s"\n' "$work/net.d" >"$work/containers.conf"
  local b=(unshare --mount --propagation private -- sh -c 'mount --bind "$1" /var/lib && shift && exec "$@"'
    sh "$work/var-lib" env CONTAINERS_CONF="$work/containers.conf"
    buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs)
  export TMPDIR=$work BUILDAH_ISOLATION=chroot
  ctr=$("${b[@]}" from --quiet scratch)
  "${b[@]}" copy --quiet "$ctr" "$work/rootfs/pause" /pause >/dev/null
  "${b[@]}" config --entrypoint '["/pause"]' --cmd '' --user 65535:65535 --created-by vpccni-build-pause \
    --os linux --arch amd64 "$ctr"
  "${b[@]}" commit --quiet --format oci --timestamp 0 --rm "$ctr" "oci-archive:$out/pause.oci.tar.tmp:$PAUSE_IMAGE" >/dev/null
  mv "$out/pause.oci.tar.tmp" "$out/pause.oci.tar"
  say "pause image $PAUSE_VERSION: built in $(( $(date +%s) - start ))s -> $out/pause.oci.tar ($PAUSE_IMAGE)"
}
main "$@"
