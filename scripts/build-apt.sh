#!/usr/bin/env bash
# Installs the Debian packages the tests use when they are missing: the reference CNI
# plugins (/usr/lib/cni, the comparison peer), iproute2 (`ip netns`, veth, rules) and ping
# (reachability checks, run inside test namespaces only), openssl (the test CA), containerd +
# runc (a node's container runtime, its CRI drives the plugin), buildah (images) and
# mmdebstrap (Debian root file systems: the image's base, the fresh-machine check) and GNU
# time (peak RSS of one plugin call, bench/cni.ts).
# Installing containerd starts no daemon (no systemd here; policy-rc.d); the tests run their own.
source "$(dirname "$0")/build-common.sh"

# bash reads a script as it runs; a function is parsed whole first, so editing (or pulling)
# this file during a long build cannot break the run in progress
main() {
  missing=()
  [ -x /usr/lib/cni/ptp ] && [ -x /usr/lib/cni/host-local ] || missing+=(containernetworking-plugins)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v ping >/dev/null || missing+=(iputils-ping)
  command -v openssl >/dev/null || missing+=(openssl)
  command -v iptables >/dev/null || missing+=(iptables)
  command -v curl >/dev/null || missing+=(curl)
  command -v sysctl >/dev/null || missing+=(procps)
  command -v containerd >/dev/null || missing+=(containerd)
  command -v runc >/dev/null || missing+=(runc)
  command -v buildah >/dev/null || missing+=(buildah)
  command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
  [ -x /usr/bin/time ] || missing+=(time)
  if [ ${#missing[@]} -eq 0 ]; then
    say "debian packages: present (containernetworking-plugins, iproute2, iputils-ping, openssl, iptables, curl, procps, containerd, runc, buildah, mmdebstrap, time)"
    exit 0
  fi
  [ "$(id -u)" = 0 ] || die "need root to install ${missing[*]}: run as root, or apt-get install ${missing[*]}"
  say "debian packages: installing ${missing[*]}"
  # update once per install, not per package: an apt index may be missing or stale
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ -x /usr/lib/cni/ptp ] || die "containernetworking-plugins installed but /usr/lib/cni/ptp is missing"
  say "debian packages: installed ${missing[*]}"
}
main "$@"
